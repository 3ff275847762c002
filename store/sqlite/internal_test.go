package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sfsync/salesforce-sync/store"
)

const testOrg = "00D000000000001AAA"

var accountTable = store.Table{Name: "Account", Columns: []store.Column{
	{Name: "Id", Type: store.Text}, {Name: "Name", Type: store.Text},
	{Name: "SystemModstamp", Type: store.DateTime}, {Name: "IsDeleted", Type: store.Boolean},
	{Name: "AnnualRevenue", Type: store.Numeric, Precision: 18, Scale: 2},
}}

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "sfsync.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.EnsureTable(t.Context(), accountTable); err != nil {
		t.Fatal(err)
	}
	return s
}

// rawDB opens the file as a user would, with plain database/sql.
func rawDB(t *testing.T, s *Store) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+s.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// blockWriter occupies the writer until the returned function is called,
// so that the requests submitted meanwhile queue up and form one group.
func blockWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.writeAlone(context.Background(), func(*wtx) error {
			close(started)
			<-unblock
			return nil
		})
	}()
	<-started
	return func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("blocking request: %v", err)
		}
	}
}

// TestGroupCommitIsolatesFailures: concurrent Upserts share one
// transaction, and one that fails inside SQL (here a trigger rejects it)
// gets its own error while the others in the group commit.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	if _, err := rawDB(t, s).Exec(`CREATE TRIGGER reject BEFORE INSERT ON "Account" WHEN NEW."Name" = 'boom'
		BEGIN SELECT RAISE(ABORT, 'rejected by trigger'); END`); err != nil {
		t.Fatal(err)
	}
	before := s.Stats()
	release := blockWriter(t, s)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("ok %d", i)
			if i%5 == 0 {
				name = "boom"
			}
			_, errs[i] = s.Upsert(ctx, store.Upsert{OrgID: testOrg, Object: "Account", Receipts: []string{fmt.Sprint("n", i)},
				Rows: []store.Row{
					{ID: fmt.Sprintf("001%012dAAA", 2*i), Values: map[string]any{"Name": "first"}},
					{ID: fmt.Sprintf("001%012dAAA", 2*i+1), Values: map[string]any{"Name": name}},
				}})
		}()
	}
	// Wait until every request is queued behind the blocked writer.
	for deadline := time.Now().Add(10 * time.Second); len(s.reqs) < n; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests queued", len(s.reqs))
		}
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()
	after := s.Stats()
	if commits := after.Commits - before.Commits; commits != 2 { // the blocker and one group
		t.Errorf("%d commits for %d requests, want 2 (the blocker, then one group)", commits, n)
	}
	var ids []string
	for i, err := range errs {
		if i%5 == 0 {
			if err == nil || !strings.Contains(err.Error(), "rejected by trigger") {
				t.Errorf("request %d: error %v, want the trigger's", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
		ids = append(ids, fmt.Sprintf("001%012dAAA", 2*i), fmt.Sprintf("001%012dAAA", 2*i+1))
	}
	got, err := s.IDs(ctx, testOrg, "Account")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sortStrings(ids), got); d != "" {
		t.Errorf("stored rows (-want +got):\n%s", d)
	}
	has, err := s.HasReceipts(ctx, testOrg, []string{"n0", "n1", "n5", "n6"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]bool{"n0": false, "n1": true, "n5": false, "n6": true}, has); d != "" {
		t.Errorf("receipts (-want +got):\n%s", d)
	}
}

func sortStrings(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestAbandonedRequestDoesNotRun: a caller whose context ends while its
// request waits in the queue gets the context's error, and the request
// never runs.
func TestAbandonedRequestDoesNotRun(t *testing.T) {
	s := openTest(t)
	release := blockWriter(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Upsert(ctx, store.Upsert{OrgID: testOrg, Object: "Account", Rows: []store.Row{{ID: "001000000000001AAA"}}})
		errc <- err
	}()
	for len(s.reqs) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Upsert: %v, want context.Canceled", err)
	}
	release()
	if n, err := s.Count(t.Context(), testOrg, "Account", true); err != nil || n != 0 {
		t.Errorf("Count = %d, %v; want 0: the abandoned request ran", n, err)
	}
}

// TestPragmas: the writer runs with WAL, synchronous=FULL, foreign keys
// and a busy timeout; readers are query-only.
func TestPragmas(t *testing.T) {
	s := openTest(t)
	got := map[string]string{}
	err := s.write(t.Context(), 0, func(w *wtx) error {
		for _, p := range []string{"journal_mode", "synchronous", "foreign_keys", "busy_timeout"} {
			var v string
			if err := w.conn.QueryRowContext(context.Background(), "PRAGMA "+p).Scan(&v); err != nil {
				return err
			}
			got[p] = v
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("writer pragmas (-want +got):\n%s", d)
	}
	var q string
	if err := s.readers.QueryRow("PRAGMA query_only").Scan(&q); err != nil || q != "1" {
		t.Errorf("reader query_only = %q, %v", q, err)
	}
}

// TestStorageFormat: what a user sees with plain SQL: the object table
// under its API name with typed columns, datetimes as UTC ISO-8601 text
// with milliseconds, booleans 0/1, decimals as exact text; the describe in
// _sfsync_objects and _sfsync_fields; the schema version.
func TestStorageFormat(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	paris := time.FixedZone("CET", 3600)
	_, err := s.Upsert(ctx, store.Upsert{OrgID: testOrg, Object: "Account", Rows: []store.Row{{ID: "001000000000001AAA", Values: map[string]any{
		"Name": "Acme", "SystemModstamp": time.Date(2026, 1, 2, 4, 5, 6, 789_654_321, paris), "IsDeleted": false, "AnnualRevenue": store.Decimal("1234.50"),
	}}}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.SaveObjectMeta(ctx, testOrg, store.ObjectMeta{Name: "Account", Label: "Account", Fields: []store.FieldMeta{
		{Name: "Tier__c", Label: "Tier", Type: "picklist", Custom: true, PicklistValues: []string{"Gold", "Silver"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, s)
	var org, stamp, rev, typeofRev, synced string
	var deleted int64
	var deletedAt sql.NullString
	err = db.QueryRow(`SELECT "_org_id", "SystemModstamp", "AnnualRevenue", typeof("AnnualRevenue"), "IsDeleted", "_synced_at", "_deleted_at"
		FROM "Account" WHERE "Id" = '001000000000001AAA'`).Scan(&org, &stamp, &rev, &typeofRev, &deleted, &synced, &deletedAt)
	if err != nil {
		t.Fatal(err)
	}
	if org != testOrg || stamp != "2026-01-02T03:05:06.789Z" || rev != "1234.50" || typeofRev != "text" || deleted != 0 || deletedAt.Valid {
		t.Errorf("stored %q %q %q (%s) %d %v", org, stamp, rev, typeofRev, deleted, deletedAt)
	}
	if _, err := time.Parse(dateTimeLayout, synced); err != nil {
		t.Errorf("_synced_at %q: %v", synced, err)
	}
	var label, picks string
	var custom int
	err = db.QueryRow(`SELECT o.label, f.custom, f.picklist_values FROM _sfsync_objects o JOIN _sfsync_fields f
		ON f.org_id = o.org_id AND f.object = o.name WHERE o.org_id = ? AND f.name = 'Tier__c'`, testOrg).Scan(&label, &custom, &picks)
	if err != nil || label != "Account" || custom != 1 || picks != `["Gold","Silver"]` {
		t.Errorf("metadata: %q %d %q %v", label, custom, picks, err)
	}
	var version int
	if err := db.QueryRow(`SELECT version FROM _sfsync_schema_version`).Scan(&version); err != nil || version != 2 {
		t.Errorf("schema version %d, %v", version, err)
	}
	var pk string
	if err := db.QueryRow(`SELECT group_concat(name) FROM pragma_table_info('Account') WHERE pk > 0 ORDER BY pk`).Scan(&pk); err != nil || pk != "_org_id,Id" {
		t.Errorf("primary key %q, %v", pk, err)
	}
}

// TestNewerSchemaRefused: a database migrated by a newer sfsync is not
// opened.
func TestNewerSchemaRefused(t *testing.T) {
	s := openTest(t)
	path := s.Path()
	if _, err := rawDB(t, s).Exec(`UPDATE _sfsync_schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s2, err := Open(t.Context(), path); err == nil {
		s2.Close()
		t.Fatal("Open succeeded on a newer schema")
	}
}

// TestTwoStoresOneFile: two Stores (as two processes) on one file: the
// connection version check holds across them.
func TestTwoStoresOneFile(t *testing.T) {
	a := openTest(t)
	b, err := Open(t.Context(), a.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	c := &store.Connection{OrgID: testOrg, Status: store.StatusActive, Sealed: []byte("v1")}
	if err := a.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	ca, _ := a.Connection(ctx, testOrg)
	cb, _ := b.Connection(ctx, testOrg)
	ca.Sealed, cb.Sealed = []byte("from a"), []byte("from b")
	if err := a.SaveConnection(ctx, ca); err != nil {
		t.Fatal(err)
	}
	if err := b.SaveConnection(ctx, cb); !errors.Is(err, store.ErrVersionConflict) {
		t.Errorf("second process: %v, want ErrVersionConflict", err)
	}
	got, _ := b.Connection(ctx, testOrg)
	if string(got.Sealed) != "from a" || got.Version != 2 {
		t.Errorf("stored %q version %d", got.Sealed, got.Version)
	}
}

// TestCloseWaitsForWrites: writes racing Close either commit or fail with
// ErrClosed; none is lost after it returned success.
func TestCloseWaitsForWrites(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureTable(t.Context(), accountTable); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok []string
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("001%012dAAA", i)
			_, err := s.Upsert(context.Background(), store.Upsert{OrgID: testOrg, Object: "Account", Rows: []store.Row{{ID: id}}})
			switch {
			case err == nil:
				mu.Lock()
				ok = append(ok, id)
				mu.Unlock()
			case !errors.Is(err, store.ErrClosed):
				t.Errorf("Upsert: %v", err)
			}
		}()
	}
	time.Sleep(time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s2, err := Open(t.Context(), filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ids, err := s2.IDs(t.Context(), testOrg, "Account")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sortStrings(ok), ids, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("rows after reopen (-acknowledged +stored):\n%s", d)
	}
}

// TestStatementCacheBounded: rows that set many different column sets
// (here 300 in one batch, 600 row statements) keep the statement cache
// within its bound, dropping the least recently used statements while the
// batch runs, and every row is still written right; EnsureTable adding a
// column empties the cache.
func TestStatementCacheBounded(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	tb := store.Table{Name: "Wide__c"}
	for i := range 11 {
		tb.Columns = append(tb.Columns, store.Column{Name: fmt.Sprintf("C%d__c", i), Type: store.Text})
	}
	if err := s.EnsureTable(ctx, tb); err != nil {
		t.Fatal(err)
	}
	const n = 300
	var rows []store.Row
	for i := range n {
		v := map[string]any{}
		for c := range 11 {
			if (i+1)&(1<<c) != 0 {
				v[fmt.Sprintf("C%d__c", c)] = fmt.Sprintf("%d-%d", i, c)
			}
		}
		rows = append(rows, store.Row{ID: fmt.Sprintf("a00%012dAAA", i), Values: v})
	}
	if _, err := s.Upsert(ctx, store.Upsert{OrgID: testOrg, Object: "Wide__c", Rows: rows}); err != nil {
		t.Fatal(err)
	}
	if got := s.raw.len(); got > maxRawStmts || got == 0 {
		t.Errorf("row statement cache holds %d statements, want 1 to %d", got, maxRawStmts)
	}
	// Again, so that statements evicted earlier are prepared anew, and
	// each row is an update.
	res, err := s.Upsert(ctx, store.Upsert{OrgID: testOrg, Object: "Wide__c", Rows: rows})
	if err != nil || res.Updated != n {
		t.Fatalf("second Upsert = %+v, %v; want %d updated", res, err, n)
	}
	got, err := s.ReadRows(ctx, store.ReadQuery{OrgID: testOrg, Object: "Wide__c"})
	if err != nil || len(got) != n {
		t.Fatalf("ReadRows: %d rows, %v", len(got), err)
	}
	for i, r := range got {
		for c := range 11 {
			var want any
			if (i+1)&(1<<c) != 0 {
				want = fmt.Sprintf("%d-%d", i, c)
			}
			if v := r.Values[fmt.Sprintf("C%d__c", c)]; v != want {
				t.Fatalf("row %d C%d__c = %v, want %v", i, c, v, want)
			}
		}
	}

	tb.Columns = append(tb.Columns, store.Column{Name: "New__c", Type: store.Integer})
	if err := s.EnsureTable(ctx, tb); err != nil {
		t.Fatal(err)
	}
	if a, b := s.raw.len(), s.stmts.len(); a != 0 || b != 0 {
		t.Errorf("after EnsureTable added a column the caches hold %d and %d statements, want none", a, b)
	}
	res, err = s.Upsert(ctx, store.Upsert{OrgID: testOrg, Object: "Wide__c",
		Rows: []store.Row{{ID: rows[0].ID, Values: map[string]any{"C0__c": "x", "New__c": 7}}}})
	if err != nil || res.Updated != 1 {
		t.Fatalf("Upsert with the new column = %+v, %v", res, err)
	}
}

// TestLRU: the cache drops the least recently used entry, never the one
// just added, and closes what it drops.
func TestLRU(t *testing.T) {
	var closed []int
	c := newLRU(2, func(v int) { closed = append(closed, v) })
	c.put("a", 1)
	c.put("b", 2)
	c.get("a")
	c.put("c", 3) // drops b
	if _, ok := c.get("b"); ok {
		t.Error("b still cached")
	}
	if v, ok := c.get("a"); !ok || v != 1 {
		t.Error("a dropped")
	}
	c.put("d", 4) // drops c
	c.clear()
	if !slices.Equal(closed, []int{2, 3, 1, 4}) && !slices.Equal(closed, []int{2, 3, 4, 1}) {
		t.Errorf("closed %v", closed)
	}
	if c.len() != 0 {
		t.Errorf("len after clear = %d", c.len())
	}
}
