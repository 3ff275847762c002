package postgres

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfsync/salesforce-sync/store"
)

// TestMigrateCaseInsensitiveObjects: a version-1 schema holding several
// spellings of one object's sync state and describe is migrated to one
// of each per (org, object), matched case-insensitively, keeping the most
// recently updated (with its fields); other orgs and objects are kept.
func TestMigrateCaseInsensitiveObjects(t *testing.T) {
	dsn := testDSN(t)
	schema := newSchema(t)
	ctx := context.Background()
	v1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := quoteIdent(schema)
	for _, sql := range []string{
		`CREATE SCHEMA ` + q,
		strings.ReplaceAll(string(v1), "{schema}", q),
		`CREATE TABLE ` + q + `._sfsync_schema_version (version integer PRIMARY KEY,
			name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
		`INSERT INTO ` + q + `._sfsync_schema_version (version, name) VALUES (1, '0001_init.sql')`,
		`INSERT INTO ` + q + `._sfsync_sync_state (org_id, object, watermark, checkpoint, updated_at) VALUES
			('` + org1 + `', 'Account', '2026-01-01Z', 'a', '2026-01-03Z'),
			('` + org1 + `', 'account', '2026-01-02Z', 'b', '2026-01-05Z'),
			('` + org1 + `', 'ACCOUNT', '2026-01-04Z', 'c', NULL),
			('` + org1 + `', 'Contact', '2026-01-06Z', '', '2026-01-06Z'),
			('` + org2 + `', 'Account', '2026-01-07Z', 'd', '2026-01-01Z')`,
		`INSERT INTO ` + q + `._sfsync_objects (org_id, name, label, updated_at) VALUES
			('` + org1 + `', 'Account', 'Old', '2026-01-01Z'),
			('` + org1 + `', 'ACCOUNT', 'New', '2026-01-02Z'),
			('` + org2 + `', 'account', 'Other org', '2026-01-01Z')`,
		`INSERT INTO ` + q + `._sfsync_fields (org_id, object, name, position, label) VALUES
			('` + org1 + `', 'Account', 'Old__c', 0, 'Old'),
			('` + org1 + `', 'ACCOUNT', 'New__c', 0, 'New')`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			conn.Close(ctx)
			t.Fatalf("%s: %v", sql, err)
		}
	}
	conn.Close(ctx)

	s := openSchema(t, schema)
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		org, object string
		want        store.SyncState
	}{
		{org1, "Account", store.SyncState{Watermark: day(2), Checkpoint: "b", UpdatedAt: day(5)}},
		{org1, "ACCOUNT", store.SyncState{Watermark: day(2), Checkpoint: "b", UpdatedAt: day(5)}},
		{org1, "contact", store.SyncState{Watermark: day(6), UpdatedAt: day(6)}},
		{org2, "account", store.SyncState{Watermark: day(7), Checkpoint: "d", UpdatedAt: day(1)}},
	} {
		got, err := s.SyncState(ctx, c.org, c.object)
		if err != nil {
			t.Fatal(err)
		}
		c.want.OrgID, c.want.Object = c.org, c.object
		if !got.Watermark.Equal(c.want.Watermark) || !got.UpdatedAt.Equal(c.want.UpdatedAt) ||
			got.Checkpoint != c.want.Checkpoint || got.OrgID != c.want.OrgID || got.Object != c.want.Object {
			t.Errorf("SyncState(%s, %s) = %+v, want %+v", c.org, c.object, got, c.want)
		}
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+q+`._sfsync_sync_state`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d sync state rows after migration (%v), want 3", n, err)
	}

	metas, err := s.ObjectMetas(ctx, org1)
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 1 || metas[0].Name != "ACCOUNT" || metas[0].Label != "New" ||
		len(metas[0].Fields) != 1 || metas[0].Fields[0].Name != "New__c" {
		t.Errorf("ObjectMetas(org1) after migration = %+v, want only ACCOUNT with New__c", metas)
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+q+`._sfsync_fields`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d field rows after migration (%v), want 1", n, err)
	}
	// Renaming a describe carries its fields along (ON UPDATE CASCADE).
	if err := s.SaveObjectMeta(ctx, org1, store.ObjectMeta{Name: "Account", Label: "Renamed",
		Fields: []store.FieldMeta{{Name: "New__c"}, {Name: "Second__c"}}}); err != nil {
		t.Fatal(err)
	}
	metas, err = s.ObjectMetas(ctx, org1)
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 1 || metas[0].Name != "Account" || len(metas[0].Fields) != 2 {
		t.Errorf("ObjectMetas(org1) after SaveObjectMeta(Account) = %+v", metas)
	}
	if metas, err = s.ObjectMetas(ctx, org2); err != nil || len(metas) != 1 || metas[0].Name != "account" {
		t.Errorf("ObjectMetas(org2) = %+v, %v", metas, err)
	}
}

// TestConcurrentObjectMetaSpellings: concurrent saves of one describe
// under different spellings all succeed and leave one describe whose
// fields are those of a single save.
func TestConcurrentObjectMetaSpellings(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	names := []string{"Account", "account", "ACCOUNT", "aCcOuNt"}
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			name := names[i%len(names)]
			errs <- s.SaveObjectMeta(ctx, org1, store.ObjectMeta{Name: name, Label: name,
				Fields: []store.FieldMeta{{Name: "Id", Label: name}, {Name: "F" + name, Label: name}}})
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	metas, err := s.ObjectMetas(ctx, org1)
	if err != nil {
		t.Fatal(err)
	}
	if len(metas) != 1 {
		t.Fatalf("ObjectMetas = %+v, want one describe", metas)
	}
	m := metas[0]
	if len(m.Fields) != 2 || m.Fields[0].Label != m.Name || m.Fields[1].Name != "F"+m.Name {
		t.Errorf("describe mixes saves: %+v", m)
	}
}
