package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsync/salesforce-sync/store"
)

// Tests of several Stores on one schema, as several server instances on
// one database.

// TestTwoStoresRacingUpserts: two Stores upsert racing versions of the
// same rows, in random order and batch sizes through both write paths
// (single statements and COPY); every row ends with its newest version,
// is inserted exactly once, and every row sent is counted once.
func TestTwoStoresRacingUpserts(t *testing.T) {
	schema := newSchema(t)
	stores := []*Store{openSchema(t, schema, WithCopyThreshold(16)), openSchema(t, schema, WithCopyThreshold(16))}
	mustEnsure(t, stores[0], accountTable)
	const workers, nrows, versions = 8, 60, 10
	base := ms("2026-01-01T00:00:00.000Z")
	var (
		mu    sync.Mutex
		total store.UpsertResult
		wg    sync.WaitGroup
		errs  = make(chan error, workers)
	)
	for w := range workers {
		s := stores[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var pending []store.Row
			send := func() error {
				res, err := s.Upsert(context.Background(), store.Upsert{OrgID: org1, Object: "Account", Rows: pending})
				if err != nil {
					return err
				}
				mu.Lock()
				total.Inserted += res.Inserted
				total.Updated += res.Updated
				total.Stale += res.Stale
				mu.Unlock()
				pending = nil
				return nil
			}
			for _, k := range rng.Perm(nrows * versions) {
				r, v := k%nrows, k/nrows+1
				pending = append(pending, store.Row{ID: fmt.Sprintf("001%015d", r), Values: map[string]any{
					"Name": fmt.Sprint("v", v), "AnnualRevenue": store.Decimal(fmt.Sprintf("%d.50", v)),
					"SystemModstamp": base.Add(time.Duration(v) * time.Second)}})
				size := 1 + rng.IntN(8)
				if rng.IntN(10) == 0 {
					size = 40 // a COPY batch, with repeated Ids
				}
				if len(pending) >= size {
					if err := send(); err != nil {
						errs <- err
						return
					}
				}
			}
			if len(pending) > 0 {
				if err := send(); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("upsert: %v", err)
	}
	if total.Inserted != nrows || total.Inserted+total.Updated+total.Stale != workers*nrows*versions {
		t.Errorf("totals %+v: want %d inserted and %d rows counted", total, nrows, workers*nrows*versions)
	}
	rows, err := stores[1].ReadRows(context.Background(), store.ReadQuery{OrgID: org1, Object: "Account"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != nrows {
		t.Fatalf("%d rows, want %d", len(rows), nrows)
	}
	for _, r := range rows {
		want := fmt.Sprint("v", versions)
		if r.Values["Name"] != want || r.Values["AnnualRevenue"] != store.Decimal(fmt.Sprintf("%d.50", versions)) {
			t.Errorf("row %s: Name %v AnnualRevenue %v, want the newest version %s", r.ID,
				r.Values["Name"], r.Values["AnnualRevenue"], want)
		}
	}
}

// TestTwoStoresConnectionConflict: two instances refreshing one token at
// once: exactly one save wins, the other gets ErrVersionConflict.
func TestTwoStoresConnectionConflict(t *testing.T) {
	schema := newSchema(t)
	a, b := openSchema(t, schema), openSchema(t, schema)
	ctx := context.Background()
	c := &store.Connection{OrgID: org1, Username: "u", Status: store.StatusActive, Sealed: []byte("v0")}
	if err := a.SaveConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	for round := range 20 {
		ca, err := a.Connection(ctx, org1)
		if err != nil {
			t.Fatal(err)
		}
		cb, err := b.Connection(ctx, org1)
		if err != nil {
			t.Fatal(err)
		}
		ca.Sealed, cb.Sealed = []byte(fmt.Sprint("a", round)), []byte(fmt.Sprint("b", round))
		var wg sync.WaitGroup
		var errA, errB error
		wg.Add(2)
		go func() { defer wg.Done(); errA = a.SaveConnection(ctx, ca) }()
		go func() { defer wg.Done(); errB = b.SaveConnection(ctx, cb) }()
		wg.Wait()
		var winner string
		switch {
		case errA == nil && errors.Is(errB, store.ErrVersionConflict):
			winner = fmt.Sprint("a", round)
		case errB == nil && errors.Is(errA, store.ErrVersionConflict):
			winner = fmt.Sprint("b", round)
		default:
			t.Fatalf("round %d: a: %v, b: %v; want one success and one ErrVersionConflict", round, errA, errB)
		}
		got, err := b.Connection(ctx, org1)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Sealed) != winner || got.Version != int64(round+2) {
			t.Errorf("round %d: stored %q version %d, want %q version %d", round, got.Sealed, got.Version, winner, round+2)
		}
	}
}

// TestTwoStoresSchema: a column one instance adds is usable at once from
// another instance that cached the older schema, and concurrent
// EnsureTable calls of one table from both do not fail.
func TestTwoStoresSchema(t *testing.T) {
	schema := newSchema(t)
	a, b := openSchema(t, schema), openSchema(t, schema)
	ctx := context.Background()
	mustEnsure(t, a, accountTable)
	mustUpsert(t, b, store.Upsert{OrgID: org1, Object: "Account", Rows: []store.Row{{ID: "001A", Values: map[string]any{"Name": "x"}}}})
	wider := accountTable
	wider.Columns = append(append([]store.Column(nil), accountTable.Columns...), store.Column{Name: "Tier__c", Type: store.Text})
	mustEnsure(t, a, wider)
	mustUpsert(t, b, store.Upsert{OrgID: org1, Object: "Account", Rows: []store.Row{{ID: "001A", Values: map[string]any{"Tier__c": "Gold"}}}})
	if got := readOne(t, b, org1, "Account", "001A"); got["Tier__c"] != "Gold" || got["Name"] != "x" {
		t.Errorf("row = %v", got)
	}

	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		s := []*Store{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			cols := []store.Column{{Name: "Id", Type: store.Text}, {Name: fmt.Sprintf("F%d__c", i), Type: store.Integer}, {Name: "Common__c", Type: store.Text}}
			errs[i] = s.EnsureTable(ctx, store.Table{Name: "Case", Columns: cols})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("EnsureTable %d: %v", i, err)
		}
	}
	tbl, err := a.Table(ctx, "Case")
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Columns) != 2+len(errs) {
		t.Errorf("Case has columns %v, want Id, Common__c and six F columns", tbl.Columns)
	}
}

// TestConcurrentOpen: instances starting at once on a new schema migrate
// it once, one after the other.
func TestConcurrentOpen(t *testing.T) {
	schema := newSchema(t)
	dsn := testDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	stores := make([]*Store, len(errs))
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), dsn, WithSchema(schema), WithMaxConns(2))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var n, version int
	if err := stores[0].pool.QueryRow(context.Background(), `SELECT count(*), max(version) FROM `+
		quoteIdent(schema)+`._sfsync_schema_version`).Scan(&n, &version); err != nil {
		t.Fatal(err)
	}
	ms, _ := migrations()
	if n != len(ms) || version != ms[len(ms)-1].version {
		t.Errorf("schema_version has %d rows up to %d, want %d up to %d", n, version, len(ms), ms[len(ms)-1].version)
	}
}

// TestNewerSchemaRefused: a binary older than the database's schema does
// not touch it.
func TestNewerSchemaRefused(t *testing.T) {
	schema := newSchema(t)
	s := openSchema(t, schema)
	if _, err := s.pool.Exec(context.Background(), `INSERT INTO `+quoteIdent(schema)+
		`._sfsync_schema_version (version, name) VALUES (9999, '9999_future.sql')`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), testDSN(t), WithSchema(schema))
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("open = %v, want an error about a newer schema", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dsn := testDSN(t)
	for _, schema := range []string{"", "bad name", `x"y`, "1abc", strings.Repeat("a", 64)} {
		if _, err := Open(context.Background(), dsn, WithSchema(schema)); !errors.Is(err, store.ErrInvalidName) {
			t.Errorf("Open(schema %q) = %v, want ErrInvalidName", schema, err)
		}
	}
	if _, err := Open(context.Background(), "postgres://%zz"); err == nil {
		t.Errorf("Open(bad dsn) succeeded")
	}
}

// TestLockerExclusive: a lease is held by one Store at a time, also
// against the same Store; release hands it over.
func TestLockerExclusive(t *testing.T) {
	schema := newSchema(t)
	a, b := openSchema(t, schema), openSchema(t, schema)
	ctx := context.Background()
	relA, ok, err := a.TryLock(ctx, "sync:"+org1, time.Minute)
	if err != nil || !ok {
		t.Fatalf("a: ok %v, %v", ok, err)
	}
	for name, s := range map[string]*Store{"a again": a, "b": b} {
		if _, ok, err := s.TryLock(ctx, "sync:"+org1, time.Minute); err != nil || ok {
			t.Errorf("%s: ok %v, %v; want the lease refused", name, ok, err)
		}
	}
	relOther, ok, err := b.TryLock(ctx, "sync:"+org2, time.Minute)
	if err != nil || !ok {
		t.Errorf("another name: ok %v, %v", ok, err)
	} else {
		relOther()
	}
	relA()
	relA() // twice is harmless
	relB, ok, err := b.TryLock(ctx, "sync:"+org1, time.Minute)
	if err != nil || !ok {
		t.Fatalf("b after release: ok %v, %v", ok, err)
	}
	// Close gives held leases back.
	b.Close()
	relB()
	if rel, ok, err := a.TryLock(ctx, "sync:"+org1, time.Minute); err != nil || !ok {
		t.Errorf("a after b closed: ok %v, %v", ok, err)
	} else {
		rel()
	}
	if _, _, err := b.TryLock(ctx, "x", time.Minute); !errors.Is(err, store.ErrClosed) {
		t.Errorf("TryLock after Close = %v, want ErrClosed", err)
	}
	if _, _, err := a.TryLock(ctx, "x", 0); err == nil {
		t.Errorf("TryLock with ttl 0 succeeded")
	}
}

// TestLockerRenewAndExpiry: a live holder keeps its lease past ttl by
// renewing it; a crashed holder (one that stopped renewing without
// releasing) loses it when ttl passes, and its late release does not
// free the new holder's lease.
func TestLockerRenewAndExpiry(t *testing.T) {
	schema := newSchema(t)
	a, b := openSchema(t, schema), openSchema(t, schema)
	crashed := openSchema(t, schema)
	crashed.renew = false
	ctx := context.Background()
	const ttl = 300 * time.Millisecond

	rel, ok, err := a.TryLock(ctx, "live", ttl)
	if err != nil || !ok {
		t.Fatalf("a: ok %v, %v", ok, err)
	}
	time.Sleep(3 * ttl)
	if _, ok, _ := b.TryLock(ctx, "live", ttl); ok {
		t.Errorf("b took a lease its holder was renewing")
	}
	rel()

	relCrashed, ok, err := crashed.TryLock(ctx, "dead", ttl)
	if err != nil || !ok {
		t.Fatalf("crashed: ok %v, %v", ok, err)
	}
	if _, ok, _ := b.TryLock(ctx, "dead", ttl); ok {
		t.Errorf("b took the lease before it expired")
	}
	deadline := time.Now().Add(10 * ttl)
	var relB func()
	for relB == nil && time.Now().Before(deadline) {
		time.Sleep(ttl / 3)
		if r, ok, err := b.TryLock(ctx, "dead", time.Minute); err != nil {
			t.Fatal(err)
		} else if ok {
			relB = r
		}
	}
	if relB == nil {
		t.Fatalf("b never took over the expired lease")
	}
	relCrashed() // the old holder comes back: it must not free b's lease
	if _, ok, _ := a.TryLock(ctx, "dead", ttl); ok {
		t.Errorf("the expired holder's release freed the new holder's lease")
	}
	relB()
}

// TestLockerNoOverlap: goroutines of two Stores contend for one lease;
// never do two hold it at once.
func TestLockerNoOverlap(t *testing.T) {
	schema := newSchema(t)
	stores := []*Store{openSchema(t, schema), openSchema(t, schema)}
	var holders, maxHolders, taken atomic.Int32
	var wg sync.WaitGroup
	for w := range 8 {
		s := stores[w%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				rel, ok, err := s.TryLock(context.Background(), "sync:org", time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					time.Sleep(time.Millisecond)
					continue
				}
				n := holders.Add(1)
				if n > maxHolders.Load() {
					maxHolders.Store(n)
				}
				taken.Add(1)
				time.Sleep(2 * time.Millisecond)
				holders.Add(-1)
				rel()
			}
		}()
	}
	wg.Wait()
	if maxHolders.Load() != 1 || taken.Load() == 0 {
		t.Errorf("max holders at once %d, leases taken %d; want 1 and some", maxHolders.Load(), taken.Load())
	}
}

// TestJobsAndStateAcrossStores: what one instance writes, the other
// reads.
func TestJobsAndStateAcrossStores(t *testing.T) {
	schema := newSchema(t)
	a, b := openSchema(t, schema), openSchema(t, schema)
	ctx := context.Background()
	j := &store.Job{OrgID: org1, Objects: []string{"Account"}, Mode: "full", State: store.JobRunning,
		Progress: []store.ObjectProgress{{Object: "Account", Phase: "extract", Done: 10, StartedAt: ms("2026-01-01T00:00:00.123Z")}}}
	if err := a.SaveJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if j.ID == "" || j.CreatedAt.IsZero() {
		t.Errorf("SaveJob left ID %q CreatedAt %v", j.ID, j.CreatedAt)
	}
	got, err := b.Job(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(j, got); diff != "" {
		t.Errorf("job (-want +got):\n%s", diff)
	}
	st := store.SyncState{OrgID: org1, Object: "Account", Watermark: ms("2026-01-02T00:00:00.5Z"), Checkpoint: "001A"}
	if err := a.SaveSyncState(ctx, st); err != nil {
		t.Fatal(err)
	}
	gotSt, err := b.SyncState(ctx, org1, "Account")
	if err != nil {
		t.Fatal(err)
	}
	if !gotSt.Watermark.Equal(st.Watermark) || gotSt.Checkpoint != "001A" {
		t.Errorf("state %+v", gotSt)
	}
}

// TestCopyNewRace: a batch COPY finds none of its Ids stored and copies
// straight into the table, while another transaction inserts one of the
// Ids; the COPY waits for it, fails on the primary key when it commits,
// and the batch is retried through the stage and merge, with exact
// counts and the guard applied.
func TestCopyNewRace(t *testing.T) {
	schema := newSchema(t)
	s := openSchema(t, schema, WithCopyThreshold(1))
	mustEnsure(t, s, accountTable)
	ctx := context.Background()
	other, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback(ctx)
	older, newer := ms("2026-01-01T00:00:00Z"), ms("2026-01-02T00:00:00Z")
	if _, err := other.Exec(ctx, `INSERT INTO `+s.qschema+`."Account" (_org_id, "Id", "Name", "SystemModstamp", _synced_at)
		VALUES ($1, '001B', 'other', $2, now())`, org1, older); err != nil {
		t.Fatal(err)
	}
	type result struct {
		res store.UpsertResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.Upsert(ctx, store.Upsert{OrgID: org1, Object: "Account", Rows: []store.Row{
			{ID: "001A", Values: map[string]any{"Name": "a", "SystemModstamp": newer}},
			{ID: "001B", Values: map[string]any{"Name": "b", "SystemModstamp": newer}},
			{ID: "001C", Values: map[string]any{"Name": "c", "SystemModstamp": newer}},
		}})
		done <- result{res, err}
	}()
	// Commit the other insert only once the COPY waits for its lock.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var waiting bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query ILIKE 'copy %' AND query LIKE '%'||$1||'%')`, schema).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the COPY never waited for the concurrent insert")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := other.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("upsert: %v", r.err)
	}
	if diff := cmp.Diff(store.UpsertResult{Inserted: 2, Updated: 1}, r.res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if got := readOne(t, s, org1, "Account", "001B")["Name"]; got != "b" {
		t.Errorf("001B Name = %v, want b (newer than the other insert)", got)
	}
}
