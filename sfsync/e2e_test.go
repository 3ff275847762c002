package sfsync_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/memory"
)

// tWriter sends log lines to t.Log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func slogT(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestFullSyncEveryObject(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 40}, nil)
	e.connect()
	job := e.run(sfsync.Request{}, store.JobSucceeded)
	objects := e.sf.Org.Objects()
	if len(job.Progress) < len(objects) {
		t.Fatalf("job synced %d objects, the org has %d: %+v", len(job.Progress), len(objects), job.Progress)
	}
	for _, o := range objects {
		t.Run(o, func(t *testing.T) {
			e.t = t
			e.assertEqual(o)
			n, err := e.st.Count(context.Background(), e.org, o, false)
			if err != nil || n != int64(e.sf.Org.Count(o, false)) {
				t.Fatalf("count %s = %d, %v; org has %d", o, n, err, e.sf.Org.Count(o, false))
			}
		})
	}
	metas, err := e.st.ObjectMetas(context.Background(), e.org)
	if err != nil || len(metas) < len(objects) {
		t.Fatalf("stored describes: %d, %v; want %d", len(metas), err, len(objects))
	}
}

func TestIncrementalChangesNullsAndDeletes(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 30}, func(c *sfsync.Config) { c.Objects = []string{"Account", "Invoice__c"} })
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)

	accts := e.ids("Account")
	e.update("Account", accts[0], map[string]any{"Phone": nil, "Tier__c": nil}) // set to null in Salesforce
	e.update("Account", accts[1], map[string]any{"Name": "Renamed Ltd"})
	e.tick()
	if err := e.sf.Org.Delete("Account", accts[2]); err != nil {
		t.Fatal(err)
	}
	e.tick()
	newID, err := e.sf.Org.Create("Invoice__c", map[string]any{"Name": "INV-new", "Amount__c": 12.5})
	if err != nil {
		t.Fatal(err)
	}
	e.settle()
	e.sf.ResetCalls()
	job := e.run(sfsync.Request{}, store.JobSucceeded)
	if c := e.sf.Calls(); c["queryAll"] == 0 {
		t.Errorf("incremental sync made no queryAll call for deletes: %v", c)
	}
	e.assertEqual("Account")
	e.assertEqual("Invoice__c")

	rows, err := e.st.ReadRows(context.Background(), store.ReadQuery{OrgID: e.org, Object: "Account", IncludeDeleted: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		switch r.ID {
		case accts[0]:
			if r.Values["Phone"] != nil || r.Values["Tier__c"] != nil {
				t.Errorf("null fields stored as %v, %v", r.Values["Phone"], r.Values["Tier__c"])
			}
		case accts[2]:
			if r.Values[store.ColDeleted] == nil {
				t.Errorf("deleted account %s has no %s", r.ID, store.ColDeleted)
			}
		}
	}
	var deleted int64
	for _, p := range job.Progress {
		deleted += p.Deleted
	}
	if deleted != 1 {
		t.Errorf("job reports %d deleted, want 1", deleted)
	}
	if _, ok := e.sf.Org.Get("Invoice__c", newID); !ok {
		t.Fatal("created invoice missing in org")
	}
}

func TestNewCustomFieldBecomesColumn(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 10}, func(c *sfsync.Config) { c.Objects = []string{"Account"} })
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	e.settle() // describe's Last-Modified has whole seconds
	if err := e.sf.Org.AddField("Account", sftest.Field{Name: "Region__c", Label: "Region", Type: "string", Length: 40, Nillable: true}); err != nil {
		t.Fatal(err)
	}
	id := e.ids("Account")[0]
	e.update("Account", id, map[string]any{"Region__c": "EMEA"})
	e.settle()
	e.run(sfsync.Request{}, store.JobSucceeded)
	tbl, err := e.st.Table(context.Background(), "Account")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tbl.Column("Region__c"); !ok {
		t.Fatalf("no Region__c column after the field was added: %v", tbl.Columns)
	}
	e.assertEqual("Account")
}

func TestTokenExpiryMidSync(t *testing.T) {
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Contact": 300}}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact"}
		c.BatchSize, c.QueryBatchSize = 50, 200
	})
	e.connect()
	var once atomic.Bool
	e.on(func(ev sfsync.Event) {
		if ev.Done > 0 && once.CompareAndSwap(false, true) {
			e.sf.ExpireAccessTokens()
		}
	})
	e.run(sfsync.Request{}, store.JobSucceeded)
	if !once.Load() {
		t.Fatal("tokens were never expired")
	}
	if c := e.sf.Calls(); c["token"] < 2 {
		t.Errorf("token calls %d: the session was not refreshed", c["token"])
	}
	e.assertEqual("Contact")
}

func TestServerUnavailableBursts(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 60}, func(c *sfsync.Config) {
		c.Objects = []string{"Account", "Contact"}
		c.BatchSize, c.QueryBatchSize = 25, 200
	})
	e.connect()
	var n atomic.Int32
	e.on(func(ev sfsync.Event) {
		if ev.Phase == "extract" && ev.Done > 0 && n.Add(1) <= 2 {
			e.sf.FailNext(2, 503, "SERVER_UNAVAILABLE")
		}
	})
	e.run(sfsync.Request{}, store.JobSucceeded)
	e.assertEqual("Account")
	e.assertEqual("Contact")
}

// TestInterruptedFullSyncResumes cancels a full extract midway and checks
// that the next sync resumes from the checkpoint, writing again at most
// one batch of what the first one had stored.
func TestInterruptedFullSyncResumes(t *testing.T) {
	const total, batch = 600, 50
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Invoice__c": total}}, func(c *sfsync.Config) {
		c.Objects = []string{"Invoice__c"}
		c.BatchSize, c.QueryBatchSize = batch, 200
	})
	e.connect()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.on(func(ev sfsync.Event) {
		if ev.Done >= 250 {
			cancel()
		}
	})
	first, err := e.sync.Sync(ctx, sfsync.Request{OrgID: e.org})
	if err != nil {
		t.Fatal(err)
	}
	if first.State != store.JobCanceled {
		t.Fatalf("first job %s, want canceled", first.State)
	}
	st, err := e.st.SyncState(context.Background(), e.org, "Invoice__c")
	if err != nil || st.Checkpoint == "" || !st.Watermark.IsZero() {
		t.Fatalf("after the interruption: state %+v, %v; want a checkpoint and no watermark", st, err)
	}
	stored, _ := e.st.Count(context.Background(), e.org, "Invoice__c", false)
	e.on(nil)
	second := e.run(sfsync.Request{}, store.JobSucceeded)
	done1, done2 := first.Progress[0].Done, second.Progress[0].Done
	if stored != done1 {
		t.Errorf("first job reports %d written, the store holds %d", done1, stored)
	}
	if refetched := done1 + done2 - total; refetched > batch || refetched < 0 {
		t.Errorf("first job wrote %d, second %d: %d written twice, want at most %d", done1, done2, refetched, batch)
	}
	e.assertEqual("Invoice__c")
	st, _ = e.st.SyncState(context.Background(), e.org, "Invoice__c")
	if st.Checkpoint != "" || st.Watermark.IsZero() {
		t.Fatalf("after the resumed sync: %+v; want a watermark and no checkpoint", st)
	}
}

// TestExpiredLocatorRestartsFromCheckpoint: INVALID_QUERY_LOCATOR
// mid-extract restarts the query after the last committed Id.
func TestExpiredLocatorRestartsFromCheckpoint(t *testing.T) {
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Contact": 500}}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact"}
		c.BatchSize, c.QueryBatchSize = 100, 200
	})
	e.connect()
	var once atomic.Bool
	e.on(func(ev sfsync.Event) {
		if ev.Done >= 100 && once.CompareAndSwap(false, true) {
			e.sf.ExpireLocators()
		}
	})
	job := e.run(sfsync.Request{}, store.JobSucceeded)
	if d := job.Progress[0].Done; d > 500+200 {
		t.Errorf("wrote %d rows for 500 records", d)
	}
	e.assertEqual("Contact")
}

func TestBudgetPausesAndResumes(t *testing.T) {
	const limit = 10000
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Account": 1200}, DailyAPILimit: limit}, func(c *sfsync.Config) {
		c.Objects = []string{"Account"}
		c.BatchSize, c.QueryBatchSize = 50, 200
		c.LimitReserve = 0.5
	})
	e.connect()
	var once atomic.Bool
	e.on(func(ev sfsync.Event) {
		if ev.Done >= 100 && once.CompareAndSwap(false, true) {
			e.sf.SetAPIUsage(limit / 2)
		}
	})
	job := e.run(sfsync.Request{}, store.JobPaused)
	st, _ := e.st.SyncState(context.Background(), e.org, "Account")
	if st.Checkpoint == "" {
		t.Fatalf("paused job left no checkpoint: %+v (job %+v)", st, job)
	}
	e.on(nil)
	e.sf.SetAPIUsage(0)
	e.run(sfsync.Request{}, store.JobSucceeded)
	e.assertEqual("Account")
}

func TestReconcileFindsPurgedDeletes(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 20}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact"}
		c.ReconcileInterval = time.Nanosecond
	})
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	ids := e.ids("Contact")
	e.tick()
	if err := e.sf.Org.HardDelete("Contact", ids[3]); err != nil {
		t.Fatal(err)
	}
	e.settle()
	e.run(sfsync.Request{}, store.JobSucceeded)
	e.assertEqual("Contact")
}

func TestOutboundConvergesWithChaos(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 20}, func(c *sfsync.Config) { c.Objects = []string{"Account", "Invoice__c"} })
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	fields := []string{"Id", "Name", "Phone", "Industry", "AnnualRevenue", "Tier__c", "SystemModstamp", "LastModifiedDate"}
	id := e.sf.AddOutboundMessage(sftest.OutboundMessage{Name: "acct", Object: "Account", Fields: fields, EndpointURL: e.web.URL + "/webhook"})
	e.sync.SetAction(id, outboundAction("Account", fields))
	// An action whose field list is not configured: records are read again.
	e.sf.AddOutboundMessage(sftest.OutboundMessage{Name: "inv", Object: "Invoice__c", Fields: []string{"Id", "Name", "Amount__c"}, EndpointURL: e.web.URL + "/webhook"})
	e.sf.SetOutboundChaos(0.4, 0.5)

	accts, invs := e.ids("Account"), e.ids("Invoice__c")
	for i := range 60 {
		a := accts[i%len(accts)]
		f := map[string]any{"Phone": "+1 555 " + string(rune('0'+i%10)), "AnnualRevenue": float64(i * 1000)}
		if i%7 == 0 {
			f["Tier__c"] = nil
			f["Phone"] = nil
		}
		e.update("Account", a, f)
		e.update("Invoice__c", invs[i%len(invs)], map[string]any{"Amount__c": float64(i) + 0.25})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.sf.WaitOutbound(ctx); err != nil {
		t.Fatalf("outbound not all acknowledged: %v", err)
	}
	e.assertEqual("Account")
	e.assertEqual("Invoice__c")
	if st := e.sync.Stats(); st.Messages == 0 || st.Reread == 0 || st.Direct == 0 {
		t.Errorf("stats %+v: want direct and re-read applies", st)
	}
}

func outboundAction(object string, fields []string) outbound.Action {
	return outbound.Action{Object: object, Fields: fields}
}

// TestUnfitValueIsLeftOut: a value beyond its field's precision does not
// fail the object; that value is left out, and reported.
func TestUnfitValueIsLeftOut(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 5}, func(c *sfsync.Config) { c.Objects = []string{"Account"} })
	id := e.ids("Account")[0]
	e.update("Account", id, map[string]any{"NumberofLocations__c": 12345.0, "Phone": "+1 555 0100"})
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	rows, err := e.st.ReadRows(context.Background(), store.ReadQuery{OrgID: e.org, Object: "Account"})
	if err != nil || len(rows) != 5 {
		t.Fatalf("rows %d, %v", len(rows), err)
	}
	for _, r := range rows {
		if r.ID == id && (r.Values["NumberofLocations__c"] != nil || r.Values["Phone"] != "+1 555 0100") {
			t.Fatalf("row %v", r.Values)
		}
	}
	if errs := e.sync.Stats().RecentErrors; len(errs) == 0 || !strings.Contains(errs[0].Text, "NumberofLocations__c") {
		t.Fatalf("recent errors %+v", errs)
	}
}

func TestBulkFullSync(t *testing.T) {
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Invoice__c": 300, "Account": 20}}, func(c *sfsync.Config) {
		c.Objects = []string{"Invoice__c", "Account"}
		c.BulkThreshold = 100
		c.BatchSize = 64
	})
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	if c := e.sf.Calls(); c["bulk.create"] != 1 || c["bulk.results"] == 0 {
		t.Errorf("calls %v: want one Bulk job, for Invoice__c only", c)
	}
	e.assertEqual("Invoice__c")
	e.assertEqual("Account")
}

// TestCalculatedFieldsRefresh: a formula changes without SystemModstamp
// moving; the calculated-fields schedule re-reads it.
func TestCalculatedFieldsRefresh(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 10}, func(c *sfsync.Config) {
		c.Objects = []string{"Account"}
		c.CalculatedInterval = time.Nanosecond
	})
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	calc := e.calculated("Account")
	if len(calc) == 0 {
		t.Fatal("Account has no calculated field in the fake org")
	}
	e.sf.Org.Advance(72 * time.Hour) // ages change; SystemModstamp does not
	job := e.run(sfsync.Request{}, store.JobSucceeded)
	if job.Progress[0].Done == 0 {
		t.Fatalf("no calculated values written: %+v", job.Progress)
	}
	rows, err := e.st.ReadRows(context.Background(), store.ReadQuery{OrgID: e.org, Object: "Account"})
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, r := range rows {
		want, _ := e.sf.Org.Get("Account", r.ID)
		for f := range calc {
			if _, ok := r.Values[f]; !ok {
				continue
			}
			if !sameValue(want[f], r.Values[f]) {
				t.Errorf("%s %s = %v, org %v", r.ID, f, r.Values[f], want[f])
			}
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("no calculated column compared")
	}
}

// TestScheduleNeverOverlaps runs the scheduler with a short interval: it
// starts incremental syncs of the connected org, one at a time.
func TestScheduleNeverOverlaps(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 30}, func(c *sfsync.Config) {
		c.Objects = []string{"Account", "Contact"}
		c.Interval = 40 * time.Millisecond
	})
	e.connect()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.sync.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	var jobs []*store.Job
	for {
		var err error
		jobs, err = e.st.Jobs(context.Background(), store.JobFilter{OrgID: e.org, State: store.JobSucceeded})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if len(jobs) < 3 {
		all, _ := e.st.Jobs(context.Background(), store.JobFilter{})
		for _, j := range all {
			t.Logf("job %s %s %q", j.ID, j.State, j.Error)
		}
		t.Fatalf("scheduler ran %d jobs in 20s", len(jobs))
	}
	for i := 1; i < len(jobs); i++ { // newest first
		if jobs[i].FinishedAt.After(jobs[i-1].StartedAt) {
			t.Errorf("jobs %s and %s overlap", jobs[i].ID, jobs[i-1].ID)
		}
	}
	e.assertEqual("Account")
}

func TestStartWhileRunningIsBusy(t *testing.T) {
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Contact": 400}}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact"}
		c.BatchSize, c.QueryBatchSize = 50, 200
	})
	e.connect()
	started := make(chan struct{})
	release := make(chan struct{})
	var once atomic.Bool
	e.on(func(ev sfsync.Event) {
		if ev.Done > 0 && once.CompareAndSwap(false, true) {
			close(started)
			<-release
		}
	})
	job, err := e.sync.Start(context.Background(), sfsync.Request{OrgID: e.org})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	busy, err := e.sync.Start(context.Background(), sfsync.Request{OrgID: e.org, Mode: sfsync.ModeFull})
	if !errors.Is(err, sfsync.ErrBusy) || busy == nil || busy.ID != job.ID {
		t.Fatalf("second start: %v, %+v; want ErrBusy with job %s", err, busy, job.ID)
	}
	live, err := e.sync.Job(context.Background(), job.ID)
	if err != nil || live.State != store.JobRunning || live.Progress[0].Done == 0 {
		t.Fatalf("live job %+v, %v", live, err)
	}
	close(release)
	fin, err := e.sync.Wait(context.Background(), job.ID)
	if err != nil || fin.State != store.JobSucceeded {
		t.Fatalf("final job %+v, %v", fin, err)
	}
	e.assertEqual("Contact")
}

// TestCloseCheckpointsRunningSync: shutting the engine down mid-extract
// commits what was fetched, saves the checkpoint, and a new engine on the
// same Store resumes from it.
func TestCloseCheckpointsRunningSync(t *testing.T) {
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Contact": 600}}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact"}
		c.BatchSize, c.QueryBatchSize = 50, 200
	})
	e.connect()
	halfway := make(chan struct{})
	var once atomic.Bool
	e.on(func(ev sfsync.Event) {
		if ev.Done >= 200 && once.CompareAndSwap(false, true) {
			close(halfway)
		}
	})
	job, err := e.sync.Start(context.Background(), sfsync.Request{OrgID: e.org})
	if err != nil {
		t.Fatal(err)
	}
	<-halfway
	if err := e.sync.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := e.st.Job(context.Background(), job.ID)
	if err != nil || got.State != store.JobCanceled {
		t.Fatalf("job after Close: %+v, %v", got, err)
	}
	st, _ := e.st.SyncState(context.Background(), e.org, "Contact")
	n, _ := e.st.Count(context.Background(), e.org, "Contact", false)
	if cp := strings.Fields(st.Checkpoint); len(cp) == 0 || n == 0 {
		t.Fatalf("checkpoint %q with %d rows stored", st.Checkpoint, n)
	}
	if _, err := e.sync.Start(context.Background(), sfsync.Request{OrgID: e.org}); !errors.Is(err, sfsync.ErrClosed) {
		t.Fatalf("start after Close: %v", err)
	}

	next, err := sfsync.New(sfsync.Config{Store: e.st, Connections: e.mgr, Objects: []string{"Contact"}, Lag: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	second, err := next.Sync(context.Background(), sfsync.Request{OrgID: e.org})
	if err != nil || second.State != store.JobSucceeded {
		t.Fatalf("resumed job %+v, %v", second, err)
	}
	if d := second.Progress[0].Done; d+n > 600+50 {
		t.Errorf("resumed sync wrote %d after %d stored: more than one batch again", d, n)
	}
	e.assertEqual("Contact")
}

// lockedStore is a Store whose Locker lease is held by "another process".
type lockedStore struct {
	store.Store
	held  atomic.Bool
	tries atomic.Int32
}

func (l *lockedStore) TryLock(ctx context.Context, name string, ttl time.Duration) (func(), bool, error) {
	l.tries.Add(1)
	if l.held.Load() {
		return nil, false, nil
	}
	return func() {}, true, nil
}

func TestLockerHeldByAnotherProcess(t *testing.T) {
	ls := &lockedStore{Store: memory.New()}
	e := newEnvStore(t, ls, sftest.Options{Records: 5}, func(c *sfsync.Config) { c.Objects = []string{"Account"} })
	e.connect()
	ls.held.Store(true)
	ctx := context.Background()
	// The holder has not saved its job yet: refused, no job known.
	job, err := e.sync.Sync(ctx, sfsync.Request{OrgID: e.org})
	if !errors.Is(err, sfsync.ErrBusy) || !strings.Contains(err.Error(), "another process") || job != nil {
		t.Fatalf("sync while another process holds the lease: %+v, %v", job, err)
	}
	// The holder's job is in the shared Store: it is the answer.
	other := &store.Job{ID: "20260101T000000-0000000000aa", OrgID: e.org, Mode: sfsync.ModeIncremental,
		State: store.JobRunning, CreatedAt: time.Now().UTC(), StartedAt: time.Now().UTC()}
	if err := e.st.SaveJob(ctx, other); err != nil {
		t.Fatal(err)
	}
	job, err = e.sync.Start(ctx, sfsync.Request{OrgID: e.org})
	if !errors.Is(err, sfsync.ErrBusy) || job == nil || job.ID != other.ID {
		t.Fatalf("start while another process runs %s: %+v, %v", other.ID, job, err)
	}
	if jobs, _ := e.st.Jobs(ctx, store.JobFilter{OrgID: e.org}); len(jobs) != 1 { // other's only
		t.Fatalf("%d job records; a refused start saved one", len(jobs))
	}
	if n, _ := e.st.Count(ctx, e.org, "Account", false); n != 0 {
		t.Fatalf("%d rows written without the lease", n)
	}
	other.State, other.FinishedAt = store.JobSucceeded, time.Now().UTC()
	if err := e.st.SaveJob(ctx, other); err != nil {
		t.Fatal(err)
	}
	ls.held.Store(false)
	e.run(sfsync.Request{}, store.JobSucceeded)
	if ls.tries.Load() < 2 {
		t.Fatal("TryLock not used")
	}
	e.assertEqual("Account")
}

// TestOutboundBeforeAnySync: a message for an object never synced creates
// its table from the describe and stores the delivered, typed values.
func TestOutboundBeforeAnySync(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 3}, nil)
	e.connect()
	fields := []string{"Id", "FirstName", "LastName", "Email", "Phone", "SystemModstamp"}
	id := e.sf.AddOutboundMessage(sftest.OutboundMessage{Name: "c", Object: "Contact", Fields: fields, EndpointURL: e.web.URL + "/webhook"})
	e.sync.SetAction(id, outboundAction("Contact", fields))
	cid := e.ids("Contact")[0]
	e.update("Contact", cid, map[string]any{"Phone": nil, "Email": "ada@example.com"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.sf.WaitOutbound(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := e.st.ReadRows(context.Background(), store.ReadQuery{OrgID: e.org, Object: "Contact"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v, %v", rows, err)
	}
	want, _ := e.sf.Org.Get("Contact", cid)
	for _, f := range fields {
		if !sameValue(want[f], rows[0].Values[f]) {
			t.Errorf("%s = %#v, org %#v", f, rows[0].Values[f], want[f])
		}
	}
	if _, ok := rows[0].Values["SystemModstamp"].(time.Time); !ok {
		t.Errorf("SystemModstamp not typed as a time: %T", rows[0].Values["SystemModstamp"])
	}
	metas, _ := e.st.ObjectMetas(context.Background(), e.org)
	if len(metas) != 1 || metas[0].Name != "Contact" {
		t.Errorf("stored describes %+v", metas)
	}
}

func TestVerifyRejectsUnknownOrgAndAction(t *testing.T) {
	e := newEnv(t, sftest.Options{}, func(c *sfsync.Config) { c.RequireKnownAction = true })
	e.connect()
	ctx := context.Background()
	e.sync.SetAction("04k000000000001AAA", outboundAction("Account", []string{"Id"}))
	tests := []struct {
		name string
		m    outbound.Message
		want error
	}{
		{"other org", outbound.Message{OrganizationID: "00D000000000001", ActionID: "04k000000000001AAA"}, outbound.ErrUnknownOrg},
		{"bad org id", outbound.Message{OrganizationID: "nope", ActionID: "04k000000000001AAA"}, outbound.ErrUnknownOrg},
		{"unknown action", outbound.Message{OrganizationID: e.org[:15], ActionID: "04k000000000009AAA"}, outbound.ErrUnknownAction},
		{"ok, 15-character org id", outbound.Message{OrganizationID: e.org[:15], ActionID: "04k000000000001"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.sync.Verify(ctx, &tt.m)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestScheduleSkipsOrgSyncedElsewhere: a second Syncer on the same Store
// (another instance) whose timer fires after the first one synced the
// org waits an Interval from that sync instead of syncing again.
func TestScheduleSkipsOrgSyncedElsewhere(t *testing.T) {
	const interval = 1500 * time.Millisecond
	e := newEnv(t, sftest.Options{Records: 5}, func(c *sfsync.Config) { c.Objects = []string{"Account"} })
	e.connect()
	first := e.run(sfsync.Request{}, store.JobSucceeded)
	other, err := sfsync.New(sfsync.Config{Store: e.st, Connections: e.mgr, Objects: []string{"Account"},
		Interval: interval, Lag: -1, Lookback: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- other.Run(ctx) }()
	defer func() { cancel(); <-done }()
	count := func() []*store.Job {
		jobs, err := e.st.Jobs(context.Background(), store.JobFilter{OrgID: e.org})
		if err != nil {
			t.Fatal(err)
		}
		return jobs
	}
	// Its first look comes within a tenth of the interval: too soon.
	time.Sleep(interval / 2)
	if jobs := count(); len(jobs) != 1 {
		t.Fatalf("%d jobs half an interval after the first sync, want 1", len(jobs))
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(count()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the second Syncer never synced")
		}
		time.Sleep(10 * time.Millisecond)
	}
	jobs := count()
	if gap := jobs[0].CreatedAt.Sub(first.CreatedAt); gap < interval {
		t.Fatalf("scheduled sync %v after the other's, want at least %v", gap, interval)
	}
}

// TestStartFailsStaleJobOfCrashedProcess: a job record left running by a
// process whose lease expired is marked failed by the next start, which
// holds the lease.
func TestStartFailsStaleJobOfCrashedProcess(t *testing.T) {
	ls := &lockedStore{Store: memory.New()}
	e := newEnvStore(t, ls, sftest.Options{Records: 3}, func(c *sfsync.Config) { c.Objects = []string{"Account"} })
	e.connect()
	ctx := context.Background()
	stale := &store.Job{ID: "20260101T000000-0000000000bb", OrgID: e.org, Mode: sfsync.ModeIncremental,
		State: store.JobRunning, CreatedAt: time.Now().UTC(), StartedAt: time.Now().UTC()}
	if err := e.st.SaveJob(ctx, stale); err != nil {
		t.Fatal(err)
	}
	e.run(sfsync.Request{}, store.JobSucceeded)
	got, err := e.st.Job(ctx, stale.ID)
	if err != nil || got.State != store.JobFailed || !strings.Contains(got.Error, "interrupted") {
		t.Fatalf("stale job after a start: %+v, %v", got, err)
	}
}
