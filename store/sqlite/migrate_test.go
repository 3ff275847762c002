package sqlite

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// TestMigrateSyncStateNoCase: a version-1 database holding several
// spellings of one object's sync state is migrated to one state per
// (org, object) matched case-insensitively, keeping the most recently
// updated; states of other orgs and objects are kept as they were.
func TestMigrateSyncStateNoCase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	const org2 = "00D000000000002AAA"
	for _, q := range []string{
		string(v1),
		`CREATE TABLE _sfsync_schema_version (version INTEGER NOT NULL)`,
		`INSERT INTO _sfsync_schema_version VALUES (1)`,
		`INSERT INTO _sfsync_sync_state (org_id, object, watermark, checkpoint, updated_at) VALUES
			('` + testOrg + `', 'Account', '2026-01-01T00:00:00.000Z', 'a', '2026-01-03T00:00:00.000Z'),
			('` + testOrg + `', 'account', '2026-01-02T00:00:00.000Z', 'b', '2026-01-05T00:00:00.000Z'),
			('` + testOrg + `', 'ACCOUNT', '2026-01-04T00:00:00.000Z', 'c', '2026-01-04T00:00:00.000Z'),
			('` + testOrg + `', 'Contact', '2026-01-06T00:00:00.000Z', '', '2026-01-06T00:00:00.000Z'),
			('` + org2 + `', 'Account', '2026-01-07T00:00:00.000Z', 'd', '2026-01-01T00:00:00.000Z')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		org, object string
		want        store.SyncState
	}{
		{testOrg, "Account", store.SyncState{Watermark: day(2), Checkpoint: "b", UpdatedAt: day(5)}},
		{testOrg, "ACCOUNT", store.SyncState{Watermark: day(2), Checkpoint: "b", UpdatedAt: day(5)}},
		{testOrg, "contact", store.SyncState{Watermark: day(6), UpdatedAt: day(6)}},
		{org2, "account", store.SyncState{Watermark: day(7), Checkpoint: "d", UpdatedAt: day(1)}},
	} {
		got, err := s.SyncState(t.Context(), c.org, c.object)
		if err != nil {
			t.Fatal(err)
		}
		c.want.OrgID, c.want.Object = c.org, c.object
		if got != c.want {
			t.Errorf("SyncState(%s, %s) = %+v, want %+v", c.org, c.object, got, c.want)
		}
	}
	var n int
	if err := rawDB(t, s).QueryRow(`SELECT count(*) FROM _sfsync_sync_state`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d sync state rows after migration (%v), want 3", n, err)
	}
	if err := s.SaveSyncState(t.Context(), store.SyncState{OrgID: testOrg, Object: "aCCOUNT", Checkpoint: "e"}); err != nil {
		t.Fatal(err)
	}
	if err := rawDB(t, s).QueryRow(`SELECT count(*) FROM _sfsync_sync_state`).Scan(&n); err != nil || n != 3 {
		t.Errorf("%d sync state rows after saving aCCOUNT (%v), want 3", n, err)
	}
}
