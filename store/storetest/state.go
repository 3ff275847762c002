package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

var errCanceled = context.Canceled

func contextWithCancel(h *harness) (context.Context, context.CancelFunc) {
	return context.WithCancel(h.ctx)
}

func sortStrings(s []string) { sort.Strings(s) }

func sortedStrings(s []string) bool { return sort.StringsAreSorted(s) }

func newConn(org string) *store.Connection {
	return &store.Connection{
		OrgID: org, UserID: "005000000000001AAA", Username: "admin@" + org + ".example",
		InstanceURL: "https://na1.salesforce.com", IdentityURL: "https://login.salesforce.com/id/" + org + "/005000000000001AAA",
		LoginURL: "https://login.salesforce.com", Scopes: []string{"api", "refresh_token"},
		Status: store.StatusActive, IssuedAt: base, Sealed: []byte("sealed\x00token\xffbytes"),
	}
}

// testConnections: a connection round-trips every field; SaveConnection
// sets Version (1 for a new one), CreatedAt and UpdatedAt; Connections
// lists by org ID; DeleteConnection removes it; a missing one is
// store.ErrNotFound. The caller's slices are copied.
func testConnections(h *harness) {
	_, err := h.s.Connection(h.ctx, org1)
	h.wantErr("Connection of unknown org", err, store.ErrNotFound)
	c2, c1 := newConn(org2), newConn(org1)
	before := time.Now().Add(-time.Second)
	for _, c := range []*store.Connection{c2, c1} {
		if err := h.s.SaveConnection(h.ctx, c); err != nil {
			h.t.Fatalf("SaveConnection: %v", err)
		}
		if c.Version != 1 || c.CreatedAt.Before(before) || c.UpdatedAt.Before(before) {
			h.t.Errorf("after save: Version %d CreatedAt %v UpdatedAt %v", c.Version, c.CreatedAt, c.UpdatedAt)
		}
	}
	c1.Sealed[0] = 'X' // the stored copy must not change
	got, err := h.s.Connection(h.ctx, org1)
	if err != nil {
		h.t.Fatal(err)
	}
	want := newConn(org1)
	want.Version, want.CreatedAt, want.UpdatedAt = 1, got.CreatedAt, got.UpdatedAt
	h.diff("Connection", want, got)

	got.Status, got.Sealed, got.Scopes = store.StatusLoginRequired, []byte("new"), []string{"api"}
	if err := h.s.SaveConnection(h.ctx, got); err != nil {
		h.t.Fatal(err)
	}
	if got.Version != 2 {
		h.t.Errorf("Version after update = %d, want 2", got.Version)
	}
	again, err := h.s.Connection(h.ctx, org1)
	if err != nil {
		h.t.Fatal(err)
	}
	h.diff("updated", got, again)
	if !again.CreatedAt.Equal(want.CreatedAt) {
		h.t.Errorf("CreatedAt changed on update: %v -> %v", want.CreatedAt, again.CreatedAt)
	}

	list, err := h.s.Connections(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var orgs []string
	for _, c := range list {
		orgs = append(orgs, c.OrgID)
	}
	h.diff("Connections", []string{org1, org2}, orgs)

	if err := h.s.DeleteConnection(h.ctx, org2); err != nil {
		h.t.Fatal(err)
	}
	h.wantErr("DeleteConnection twice", h.s.DeleteConnection(h.ctx, org2), store.ErrNotFound)
	_, err = h.s.Connection(h.ctx, org2)
	h.wantErr("deleted Connection", err, store.ErrNotFound)
	// After a delete the org can connect again from version 0.
	if err := h.s.SaveConnection(h.ctx, newConn(org2)); err != nil {
		h.t.Errorf("reconnect after delete: %v", err)
	}
}

// testConnectionConflict: saving uses optimistic concurrency. Of two
// savers holding the same version, exactly one wins; the loser gets
// store.ErrVersionConflict and changes nothing, so an older token never
// replaces a newer one. A new connection must have Version 0.
func testConnectionConflict(h *harness) {
	c := newConn(org1)
	c.Version = 3
	h.wantErr("new connection with Version 3", h.s.SaveConnection(h.ctx, c), store.ErrVersionConflict)
	if _, err := h.s.Connection(h.ctx, org1); !errors.Is(err, store.ErrNotFound) {
		h.t.Errorf("conflicting insert stored something: %v", err)
	}
	c.Version = 0
	if err := h.s.SaveConnection(h.ctx, c); err != nil {
		h.t.Fatal(err)
	}
	dup := newConn(org1)
	h.wantErr("second insert", h.s.SaveConnection(h.ctx, dup), store.ErrVersionConflict)

	for round := range 10 {
		cur, err := h.s.Connection(h.ctx, org1)
		if err != nil {
			h.t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			mine := *cur
			mine.Sealed = []byte(fmt.Sprintf("round %d saver %d", round, i))
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = h.s.SaveConnection(h.ctx, &mine)
			}()
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					h.t.Fatalf("round %d: both savers of version %d won", round, cur.Version)
				}
				winner = i
			case !errors.Is(err, store.ErrVersionConflict):
				h.t.Fatalf("round %d: saver %d: %v, want ErrVersionConflict", round, i, err)
			}
		}
		if winner < 0 {
			h.t.Fatalf("round %d: no saver won", round)
		}
		after, err := h.s.Connection(h.ctx, org1)
		if err != nil {
			h.t.Fatal(err)
		}
		if w := fmt.Sprintf("round %d saver %d", round, winner); string(after.Sealed) != w || after.Version != cur.Version+1 {
			h.t.Errorf("round %d: stored %q version %d, want %q version %d", round, after.Sealed, after.Version, w, cur.Version+1)
		}
	}
	// A stale copy is refused and changes nothing.
	stale, _ := h.s.Connection(h.ctx, org1)
	stale.Version--
	stale.Sealed = []byte("old token")
	h.wantErr("stale version", h.s.SaveConnection(h.ctx, stale), store.ErrVersionConflict)
	if now, _ := h.s.Connection(h.ctx, org1); now == nil || string(now.Sealed) == "old token" {
		h.t.Errorf("stale save changed the connection")
	}
}

// testSyncState: per (org, object) the watermark, checkpoint and the other
// timestamps round-trip; a state never saved is a zero SyncState naming
// the org and object; saving replaces; a zero UpdatedAt is set.
func testSyncState(h *harness) {
	got, err := h.s.SyncState(h.ctx, org1, "Account")
	if err != nil {
		h.t.Fatal(err)
	}
	h.diff("unsaved", store.SyncState{OrgID: org1, Object: "Account"}, got)
	st := store.SyncState{OrgID: org1, Object: "Account", Watermark: ts(100), Checkpoint: id(42),
		CalculatedAt: ts(200), ReconciledAt: ts(300), UpdatedAt: ts(400)}
	if err := h.s.SaveSyncState(h.ctx, st); err != nil {
		h.t.Fatal(err)
	}
	other := store.SyncState{OrgID: org2, Object: "Account", Watermark: ts(1)}
	if err := h.s.SaveSyncState(h.ctx, other); err != nil {
		h.t.Fatal(err)
	}
	got, err = h.s.SyncState(h.ctx, org1, "Account")
	if err != nil {
		h.t.Fatal(err)
	}
	h.diff("saved", st, got)

	st.Checkpoint, st.Watermark, st.UpdatedAt = "", ts(500), time.Time{}
	if err := h.s.SaveSyncState(h.ctx, st); err != nil {
		h.t.Fatal(err)
	}
	got, _ = h.s.SyncState(h.ctx, org1, "Account")
	if got.UpdatedAt.IsZero() {
		h.t.Errorf("UpdatedAt not set")
	}
	st.UpdatedAt = got.UpdatedAt
	h.diff("replaced", st, got)
	got, _ = h.s.SyncState(h.ctx, org2, "Account")
	if !got.Watermark.Equal(ts(1)) || got.Checkpoint != "" {
		h.t.Errorf("org2 state %+v", got)
	}
	got, _ = h.s.SyncState(h.ctx, org1, "Contact")
	h.diff("other object", store.SyncState{OrgID: org1, Object: "Contact"}, got)
}

func job(n int, org string, state store.JobState, created time.Time) *store.Job {
	return &store.Job{ID: fmt.Sprintf("job-%02d", n), OrgID: org, Objects: []string{"Account", "Contact"}, Mode: "full",
		State: state, CreatedAt: created}
}

// testJobs: a job round-trips every field (objects, mode, state, per-object
// progress, error, times); SaveJob replaces; Jobs filters by org and state,
// comes newest first and honours Limit; a missing job is ErrNotFound; a
// zero CreatedAt is set.
func testJobs(h *harness) {
	_, err := h.s.Job(h.ctx, "nope")
	h.wantErr("missing job", err, store.ErrNotFound)
	full := &store.Job{ID: "job-full", OrgID: org1, Objects: []string{"Account", "acme__Shipment__c"}, Mode: "incremental",
		State: store.JobFailed, Error: "describe Account: boom", CreatedAt: ts(0), StartedAt: ts(1), FinishedAt: ts(9),
		Progress: []store.ObjectProgress{
			{Object: "Account", Phase: "done", Done: 12345, Total: 20000, Deleted: 7, StartedAt: ts(1), FinishedAt: ts(5)},
			{Object: "acme__Shipment__c", Phase: "failed", Error: "query: timeout", StartedAt: ts(5)},
		}}
	if err := h.s.SaveJob(h.ctx, full); err != nil {
		h.t.Fatal(err)
	}
	got, err := h.s.Job(h.ctx, "job-full")
	if err != nil {
		h.t.Fatal(err)
	}
	h.diff("round trip", full, got)

	full.State, full.Error, full.Progress = store.JobSucceeded, "", nil
	if err := h.s.SaveJob(h.ctx, full); err != nil {
		h.t.Fatal(err)
	}
	got, _ = h.s.Job(h.ctx, "job-full")
	h.diff("replaced", full, got)

	jobs := []*store.Job{
		job(1, org1, store.JobSucceeded, ts(10)), job(2, org1, store.JobRunning, ts(30)),
		job(3, org2, store.JobRunning, ts(20)), job(4, org1, store.JobQueued, ts(40)),
		job(5, org1, store.JobPaused, ts(5)),
	}
	for _, j := range jobs {
		if err := h.s.SaveJob(h.ctx, j); err != nil {
			h.t.Fatal(err)
		}
	}
	list := func(f store.JobFilter) []string {
		h.t.Helper()
		js, err := h.s.Jobs(h.ctx, f)
		if err != nil {
			h.t.Fatal(err)
		}
		var ids []string
		for _, j := range js {
			ids = append(ids, j.ID)
		}
		return ids
	}
	h.diff("all", []string{"job-04", "job-02", "job-03", "job-01", "job-05", "job-full"}, list(store.JobFilter{}))
	h.diff("org1", []string{"job-04", "job-02", "job-01", "job-05", "job-full"}, list(store.JobFilter{OrgID: org1}))
	h.diff("running", []string{"job-02", "job-03"}, list(store.JobFilter{State: store.JobRunning}))
	h.diff("org2 running", []string{"job-03"}, list(store.JobFilter{OrgID: org2, State: store.JobRunning}))
	h.diff("limit", []string{"job-04", "job-02"}, list(store.JobFilter{Limit: 2}))
	h.diff("none", []string(nil), list(store.JobFilter{State: store.JobCanceled}))

	fresh := &store.Job{ID: "job-fresh", OrgID: org1, State: store.JobQueued}
	if err := h.s.SaveJob(h.ctx, fresh); err != nil {
		h.t.Fatal(err)
	}
	if fresh.CreatedAt.IsZero() {
		h.t.Errorf("CreatedAt not set by SaveJob")
	}
	if l := list(store.JobFilter{Limit: 1}); len(l) != 1 || l[0] != "job-fresh" {
		h.t.Errorf("newest job = %v, want job-fresh", l)
	}
}

// testReceipts: the notification IDs of an Upsert are recorded in the
// same transaction as its rows, per org: HasReceipts reports them after a
// successful batch, never after a failed one. An Upsert with receipts and
// no rows records them. PruneReceipts removes those recorded before a
// time and reports how many.
func testReceipts(h *harness) {
	h.ensure(account)
	start := time.Now()
	if _, err := h.s.Upsert(h.ctx, store.Upsert{OrgID: org1, Object: "Account", Rows: []store.Row{row(id(1))}, Receipts: []string{"n1", "n2"}}); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.s.Upsert(h.ctx, store.Upsert{OrgID: org1, Object: "Account", Rows: []store.Row{row(id(2)), row(id(3), "Bad__c", 1)}, Receipts: []string{"n3"}}); err == nil {
		h.t.Fatal("bad batch succeeded")
	}
	if _, err := h.s.Upsert(h.ctx, store.Upsert{OrgID: org2, Object: "Account", Receipts: []string{"n4", "n1"}}); err != nil {
		h.t.Fatal(err)
	}
	has := func(org string, ids ...string) map[string]bool {
		h.t.Helper()
		m, err := h.s.HasReceipts(h.ctx, org, ids)
		if err != nil {
			h.t.Fatal(err)
		}
		out := map[string]bool{}
		for _, id := range ids {
			out[id] = m[id]
		}
		return out
	}
	h.diff("org1", map[string]bool{"n1": true, "n2": true, "n3": false, "n4": false}, has(org1, "n1", "n2", "n3", "n4"))
	h.diff("org2", map[string]bool{"n1": true, "n2": false, "n4": true}, has(org2, "n1", "n2", "n4"))
	h.wantCount(org1, "Account", true, 1)
	// Redelivery: the same receipt again is fine.
	if _, err := h.s.Upsert(h.ctx, store.Upsert{OrgID: org1, Object: "Account", Rows: []store.Row{row(id(1))}, Receipts: []string{"n1"}}); err != nil {
		h.t.Fatal(err)
	}
	// Many IDs at once.
	var many []string
	for i := range 1200 {
		many = append(many, fmt.Sprintf("m%d", i))
	}
	if _, err := h.s.Upsert(h.ctx, store.Upsert{OrgID: org1, Object: "Account", Receipts: many[:600]}); err != nil {
		h.t.Fatal(err)
	}
	m := has(org1, many...)
	for i, id := range many {
		if m[id] != (i < 600) {
			h.t.Fatalf("HasReceipts(%s) = %v", id, m[id])
		}
	}

	n, err := h.s.PruneReceipts(h.ctx, start.Add(-time.Hour))
	if err != nil || n != 0 {
		h.t.Errorf("PruneReceipts(an hour ago) = %d, %v, want 0", n, err)
	}
	n, err = h.s.PruneReceipts(h.ctx, time.Now().Add(time.Hour))
	if err != nil || n != 604 {
		h.t.Errorf("PruneReceipts(in an hour) = %d, %v, want 604", n, err)
	}
	h.diff("after prune", map[string]bool{"n1": false, "n2": false}, has(org1, "n1", "n2"))
}

// testObjectMeta: the describe of an object is stored per org with every
// field attribute, listed by name, and replaced (not merged) when saved
// again.
func testObjectMeta(h *harness) {
	acct := store.ObjectMeta{Name: "Account", Label: "Account", Fields: []store.FieldMeta{
		{Name: "Id", Label: "Account ID", Type: "id", Length: 18},
		{Name: "ParentId", Label: "Parent Account ID", Type: "reference", Length: 18, Nillable: true, ReferenceTo: []string{"Account"}, RelationshipName: "Parent"},
		{Name: "Tier__c", Label: "Tier", Type: "picklist", Custom: true, Length: 255, Nillable: true, PicklistValues: []string{"Gold", "Silver", "Bronze"}},
		{Name: "AnnualRevenue", Label: "Annual Revenue", Type: "currency", Precision: 18, Scale: 2, Nillable: true},
	}}
	ship := store.ObjectMeta{Name: "acme__Shipment__c", Label: "Shipment ✈", Custom: true, Fields: []store.FieldMeta{
		{Name: "acme__Location__c", Label: "Location", Type: "location", Custom: true, Scale: 6, Nillable: true},
		{Name: "OwnerId", Label: "Owner", Type: "reference", ReferenceTo: []string{"Group", "User"}, RelationshipName: "Owner"},
	}}
	for _, m := range []store.ObjectMeta{ship, acct} {
		if err := h.s.SaveObjectMeta(h.ctx, org1, m); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := h.s.SaveObjectMeta(h.ctx, org2, store.ObjectMeta{Name: "Contact", Label: "Contact"}); err != nil {
		h.t.Fatal(err)
	}
	list := func(org string) []store.ObjectMeta {
		h.t.Helper()
		ms, err := h.s.ObjectMetas(h.ctx, org)
		if err != nil {
			h.t.Fatal(err)
		}
		return ms
	}
	h.diff("org1", []store.ObjectMeta{acct, ship}, list(org1))
	h.diff("org2", []store.ObjectMeta{{Name: "Contact", Label: "Contact"}}, list(org2))

	acct2 := store.ObjectMeta{Name: "Account", Label: "Company", Fields: []store.FieldMeta{
		{Name: "Id", Label: "Account ID", Type: "id", Length: 18},
		{Name: "New__c", Label: "New", Type: "double", Custom: true, Precision: 10, Scale: 4, Nillable: true},
	}}
	if err := h.s.SaveObjectMeta(h.ctx, org1, acct2); err != nil {
		h.t.Fatal(err)
	}
	h.diff("replaced", []store.ObjectMeta{acct2, ship}, list(org1))
	h.diff("unknown org", []store.ObjectMeta(nil), list("00D000000000009AAA"))
}

// testReopen: closing the Store and opening it again keeps everything:
// connections with their version, schemas, rows (deleted ones too), sync
// state, jobs, receipts and metadata.
func testReopen(h *harness) {
	if h.reopen == nil {
		h.t.Skip("this store cannot be closed and reopened (RunOptions.Reopen is nil)")
	}
	c := newConn(org1)
	must := func(err error) {
		h.t.Helper()
		if err != nil {
			h.t.Fatal(err)
		}
	}
	must(h.s.SaveConnection(h.ctx, c))
	h.ensure(allTypes)
	h.ensure(account)
	h.upsert(org1, "Account", row(id(1), "Name", "a", "SystemModstamp", ts(10)), row(id(2), "Name", "b"))
	h.del(store.Delete{OrgID: org1, Object: "Account", Rows: []store.Tombstone{{ID: id(2)}}})
	h.upsert(org1, allTypes.Name, row(id(1), "Num__c", store.Decimal("1.10"), "DateTime__c", ts(3), "Blob__c", []byte{1, 2}))
	_, err := h.s.Upsert(h.ctx, store.Upsert{OrgID: org1, Object: "Account", Receipts: []string{"n1"}})
	must(err)
	st := store.SyncState{OrgID: org1, Object: "Account", Watermark: ts(10), Checkpoint: id(1), UpdatedAt: ts(11)}
	must(h.s.SaveSyncState(h.ctx, st))
	j := job(1, org1, store.JobRunning, ts(5))
	j.Progress = []store.ObjectProgress{{Object: "Account", Phase: "extract", Done: 5}}
	must(h.s.SaveJob(h.ctx, j))
	meta := store.ObjectMeta{Name: "Account", Label: "Account", Fields: []store.FieldMeta{{Name: "Name", Label: "Name", Type: "string", Length: 255}}}
	must(h.s.SaveObjectMeta(h.ctx, org1, meta))
	rowsBefore := h.rows(org1, "Account", true)
	typesBefore := h.rows(org1, allTypes.Name, true)
	tablesBefore, err := h.s.Tables(h.ctx)
	must(err)

	h.s = h.reopen(h.t, h.s)

	gotConn, err := h.s.Connection(h.ctx, org1)
	must(err)
	h.diff("connection", c, gotConn)
	tablesAfter, err := h.s.Tables(h.ctx)
	must(err)
	h.diff("tables", tablesBefore, tablesAfter)
	h.diff("Account rows", rowsBefore, h.rows(org1, "Account", true))
	h.diff("AllTypes rows", typesBefore, h.rows(org1, allTypes.Name, true))
	h.wantCount(org1, "Account", false, 1)
	gotSt, err := h.s.SyncState(h.ctx, org1, "Account")
	must(err)
	h.diff("sync state", st, gotSt)
	gotJob, err := h.s.Job(h.ctx, j.ID)
	must(err)
	h.diff("job", j, gotJob)
	has, err := h.s.HasReceipts(h.ctx, org1, []string{"n1"})
	must(err)
	if !has["n1"] {
		h.t.Errorf("receipt lost")
	}
	metas, err := h.s.ObjectMetas(h.ctx, org1)
	must(err)
	h.diff("metadata", []store.ObjectMeta{meta}, metas)

	// The reopened store keeps enforcing what it stored.
	stale := *c
	stale.Version = 0
	h.wantErr("stale connection after reopen", h.s.SaveConnection(h.ctx, &stale), store.ErrVersionConflict)
	h.wantUpsert(org1, "Account", store.UpsertResult{Stale: 1}, row(id(1), "Name", "old", "SystemModstamp", ts(9)))
	h.wantUpsert(org1, "Account", store.UpsertResult{Inserted: 1}, row(id(3)))
}

// testClosed: after Close every method returns store.ErrClosed.
func testClosed(h *harness) {
	h.ensure(account)
	if err := h.s.Close(); err != nil {
		h.t.Fatalf("Close: %v", err)
	}
	s, ctx := h.s, h.ctx
	calls := map[string]func() error{
		"SaveConnection":   func() error { return s.SaveConnection(ctx, newConn(org1)) },
		"Connection":       func() error { _, err := s.Connection(ctx, org1); return err },
		"Connections":      func() error { _, err := s.Connections(ctx); return err },
		"DeleteConnection": func() error { return s.DeleteConnection(ctx, org1) },
		"EnsureTable":      func() error { return s.EnsureTable(ctx, account) },
		"Table":            func() error { _, err := s.Table(ctx, "Account"); return err },
		"Tables":           func() error { _, err := s.Tables(ctx); return err },
		"Upsert": func() error {
			_, err := s.Upsert(ctx, store.Upsert{OrgID: org1, Object: "Account", Rows: []store.Row{row(id(1))}})
			return err
		},
		"Delete": func() error {
			_, err := s.Delete(ctx, store.Delete{OrgID: org1, Object: "Account", Rows: []store.Tombstone{{ID: id(1)}}})
			return err
		},
		"Count":          func() error { _, err := s.Count(ctx, org1, "Account", false); return err },
		"ReadRows":       func() error { _, err := s.ReadRows(ctx, store.ReadQuery{OrgID: org1, Object: "Account"}); return err },
		"IDs":            func() error { _, err := s.IDs(ctx, org1, "Account"); return err },
		"HasReceipts":    func() error { _, err := s.HasReceipts(ctx, org1, []string{"n"}); return err },
		"PruneReceipts":  func() error { _, err := s.PruneReceipts(ctx, time.Now()); return err },
		"SaveObjectMeta": func() error { return s.SaveObjectMeta(ctx, org1, store.ObjectMeta{Name: "Account"}) },
		"ObjectMetas":    func() error { _, err := s.ObjectMetas(ctx, org1); return err },
		"SyncState":      func() error { _, err := s.SyncState(ctx, org1, "Account"); return err },
		"SaveSyncState":  func() error { return s.SaveSyncState(ctx, store.SyncState{OrgID: org1, Object: "Account"}) },
		"SaveJob":        func() error { return s.SaveJob(ctx, &store.Job{ID: "j", OrgID: org1}) },
		"Job":            func() error { _, err := s.Job(ctx, "j"); return err },
		"Jobs":           func() error { _, err := s.Jobs(ctx, store.JobFilter{}); return err },
	}
	for name, call := range calls {
		h.wantErr(name+" after Close", call(), store.ErrClosed)
	}
}

// testSyncStateCaseInsensitive: object names are Salesforce API names,
// matched case-insensitively, so "Account", "account" and "ACCOUNT" share
// one sync state per org: a state saved under one spelling is found under
// another (named as the caller spelled it), and saving under a third
// replaces it instead of adding a second state.
func testSyncStateCaseInsensitive(h *harness) {
	st := store.SyncState{OrgID: org1, Object: "Account", Watermark: ts(100), Checkpoint: id(7),
		CalculatedAt: ts(200), ReconciledAt: ts(300), UpdatedAt: ts(400)}
	if err := h.s.SaveSyncState(h.ctx, st); err != nil {
		h.t.Fatal(err)
	}
	got, err := h.s.SyncState(h.ctx, org1, "account")
	if err != nil {
		h.t.Fatal(err)
	}
	want := st
	want.Object = "account"
	h.diff("SyncState(account) after SaveSyncState(Account)", want, got)

	st2 := store.SyncState{OrgID: org1, Object: "ACCOUNT", Watermark: ts(500), UpdatedAt: ts(600)}
	if err := h.s.SaveSyncState(h.ctx, st2); err != nil {
		h.t.Fatal(err)
	}
	for _, name := range []string{"Account", "account", "ACCOUNT", "aCcOuNt"} {
		got, err := h.s.SyncState(h.ctx, org1, name)
		if err != nil {
			h.t.Fatal(err)
		}
		want := st2
		want.Object = name
		h.diff("SyncState("+name+") after SaveSyncState(ACCOUNT)", want, got)
	}
	// The other org's state of the same object stays apart.
	got, err = h.s.SyncState(h.ctx, org2, "account")
	if err != nil {
		h.t.Fatal(err)
	}
	h.diff("other org", store.SyncState{OrgID: org2, Object: "account"}, got)

	if h.reopen != nil {
		h.s = h.reopen(h.t, h.s)
		got, err := h.s.SyncState(h.ctx, org1, "Account")
		if err != nil {
			h.t.Fatal(err)
		}
		want := st2
		want.Object = "Account"
		h.diff("SyncState(Account) after reopen", want, got)
	}
}

// testObjectMetaCaseInsensitive: SaveObjectMeta under another spelling of
// an object's name replaces its describe rather than adding a second one,
// and the stored name is the latest spelling saved (the describe being
// replaced whole, its name is replaced with it).
func testObjectMetaCaseInsensitive(h *harness) {
	first := store.ObjectMeta{Name: "Account", Label: "Account", Fields: []store.FieldMeta{
		{Name: "Id", Label: "Account ID", Type: "id", Length: 18},
		{Name: "Name", Label: "Account Name", Type: "string", Length: 255},
	}}
	other := store.ObjectMeta{Name: "Contact", Label: "Contact", Fields: []store.FieldMeta{
		{Name: "Id", Label: "Contact ID", Type: "id", Length: 18},
	}}
	for _, m := range []store.ObjectMeta{first, other} {
		if err := h.s.SaveObjectMeta(h.ctx, org1, m); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := h.s.SaveObjectMeta(h.ctx, org2, first); err != nil {
		h.t.Fatal(err)
	}
	list := func(org string) []store.ObjectMeta {
		h.t.Helper()
		ms, err := h.s.ObjectMetas(h.ctx, org)
		if err != nil {
			h.t.Fatal(err)
		}
		return ms
	}
	second := store.ObjectMeta{Name: "account", Label: "Company", Custom: true, Fields: []store.FieldMeta{
		{Name: "Id", Label: "Account ID", Type: "id", Length: 18},
		{Name: "Tier__c", Label: "Tier", Type: "picklist", Custom: true, Nillable: true, PicklistValues: []string{"Gold"}},
	}}
	if err := h.s.SaveObjectMeta(h.ctx, org1, second); err != nil {
		h.t.Fatal(err)
	}
	h.diff("after SaveObjectMeta(account)", []store.ObjectMeta{other, second}, list(org1))

	third := store.ObjectMeta{Name: "ACCOUNT", Label: "Accounts"}
	if err := h.s.SaveObjectMeta(h.ctx, org1, third); err != nil {
		h.t.Fatal(err)
	}
	h.diff("after SaveObjectMeta(ACCOUNT)", []store.ObjectMeta{third, other}, list(org1))
	h.diff("other org untouched", []store.ObjectMeta{first}, list(org2))

	if h.reopen != nil {
		h.s = h.reopen(h.t, h.s)
		h.diff("after reopen", []store.ObjectMeta{third, other}, list(org1))
	}
}
