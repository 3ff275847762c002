package sfsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/memory"
)

// sfTime formats a time as Salesforce writes a dateTime in XML and JSON.
func sfTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func strp(s string) *string { return &s }

// message builds an Outbound Message of one notification.
func message(org, action, noteID, object string, fields ...outbound.Field) *outbound.Message {
	return &outbound.Message{OrganizationID: org, ActionID: action, Notifications: []outbound.Notification{
		{ID: noteID, SObject: outbound.SObject{Type: object, Fields: fields}},
	}}
}

// localRow reads one stored row (deleted rows included).
func (e *env) localRow(object, id string) store.Row {
	e.t.Helper()
	rows, err := e.st.ReadRows(context.Background(), store.ReadQuery{OrgID: e.org, Object: object, IncludeDeleted: true})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range rows {
		if r.ID == id {
			return r
		}
	}
	e.t.Fatalf("%s %s not stored", object, id)
	return store.Row{}
}

func (e *env) hasReceipt(id string) bool {
	e.t.Helper()
	got, err := e.sync.Applied(context.Background(), e.org, []string{id})
	if err != nil {
		e.t.Fatal(err)
	}
	return got[id]
}

// TestApplyDirectRows: a listed field the message leaves out becomes
// NULL, an unlisted one keeps its stored value, nothing else changes; an
// older message changes nothing; a value that cannot be typed fails the
// message without a receipt.
func TestApplyDirectRows(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 5}, func(c *sfsync.Config) { c.Objects = []string{"Account"} })
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	ctx := context.Background()
	const action = "04k000000000001AAA"
	e.sync.SetAction(action, outboundAction("Account", []string{"Id", "Name", "Phone", "AnnualRevenue", "SystemModstamp"}))

	id := e.ids("Account")[0]
	before := e.localRow("Account", id)
	if before.Values["Phone"] == nil || before.Values["Industry"] == nil {
		t.Fatalf("seed row lacks Phone or Industry: %v", before.Values)
	}
	old := before.Values["SystemModstamp"].(time.Time)
	newer := old.Add(time.Minute)

	// Phone is listed and absent: NULL. Industry is not listed: kept.
	m := message(e.org, action, "04l000000000001AAA", "Account",
		outbound.Field{Name: "Id", Value: strp(id)},
		outbound.Field{Name: "Name", Value: strp("Direct Ltd")},
		outbound.Field{Name: "SystemModstamp", Value: strp(sfTime(newer))})
	if err := e.sync.Apply(ctx, m); err != nil {
		t.Fatal(err)
	}
	after := e.localRow("Account", id)
	want := map[string]any{}
	for k, v := range before.Values {
		want[k] = v
	}
	want["Name"], want["Phone"], want["AnnualRevenue"], want["SystemModstamp"] = "Direct Ltd", nil, nil, newer
	want[store.ColSyncedAt] = after.Values[store.ColSyncedAt]
	if d := cmp.Diff(want, after.Values); d != "" {
		t.Fatalf("row after a direct message (-want +got):\n%s", d)
	}
	if !e.hasReceipt("04l000000000001AAA") {
		t.Fatal("no receipt recorded with the rows")
	}

	// An older message (a late duplicate): the guard keeps the row.
	stale := message(e.org, action, "04l000000000002AAA", "Account",
		outbound.Field{Name: "Id", Value: strp(id)},
		outbound.Field{Name: "Name", Value: strp("Stale Ltd")},
		outbound.Field{Name: "Phone", Value: strp("+1 555 0000")},
		outbound.Field{Name: "SystemModstamp", Value: strp(sfTime(old))})
	if err := e.sync.Apply(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if got := e.localRow("Account", id); got.Values["Name"] != "Direct Ltd" || got.Values["Phone"] != nil {
		t.Fatalf("an older message overwrote the row: %v", got.Values)
	}

	// A value the describe's type refuses: an error (Salesforce retries),
	// no receipt, the row untouched.
	bad := message(e.org, action, "04l000000000003AAA", "Account",
		outbound.Field{Name: "Id", Value: strp(id)},
		outbound.Field{Name: "AnnualRevenue", Value: strp("lots")},
		outbound.Field{Name: "SystemModstamp", Value: strp(sfTime(newer.Add(time.Minute)))})
	if err := e.sync.Apply(ctx, bad); err == nil {
		t.Fatal("a value that is not a number was accepted")
	}
	if e.hasReceipt("04l000000000003AAA") {
		t.Fatal("a failed message left a receipt")
	}
	if got := e.localRow("Account", id); !got.Values["SystemModstamp"].(time.Time).Equal(newer) {
		t.Fatalf("a failed message changed the row: %v", got.Values)
	}

	// A value that is typed but the Store refuses (beyond the field's
	// precision) also fails the message rather than being dropped.
	e.sync.SetAction(action, outboundAction("Account", []string{"Id", "NumberofLocations__c", "SystemModstamp"}))
	unfit := message(e.org, action, "04l000000000004AAA", "Account",
		outbound.Field{Name: "Id", Value: strp(id)},
		outbound.Field{Name: "NumberofLocations__c", Value: strp("12345")},
		outbound.Field{Name: "SystemModstamp", Value: strp(sfTime(newer.Add(2 * time.Minute)))})
	if err := e.sync.Apply(ctx, unfit); err == nil {
		t.Fatal("a value the Store refuses was acknowledged")
	}
	if e.hasReceipt("04l000000000004AAA") {
		t.Fatal("a refused message left a receipt")
	}
	if st := e.sync.Stats(); st.Failed != 2 || st.ValuesLeftOut != 0 {
		t.Fatalf("stats %+v: want 2 failed messages, nothing left out", st)
	}

	// A known action but no timestamp in the message: read again, and
	// what Salesforce returns is stored, not the message's values.
	other := e.ids("Account")[1]
	e.update("Account", other, map[string]any{"Phone": "+1 555 0199"})
	noTS := message(e.org, action, "04l000000000005AAA", "Account",
		outbound.Field{Name: "Id", Value: strp(other)},
		outbound.Field{Name: "Name", Value: strp("not from Salesforce")})
	if err := e.sync.Apply(ctx, noTS); err != nil {
		t.Fatal(err)
	}
	org, _ := e.sf.Org.Get("Account", other)
	if got := e.localRow("Account", other); got.Values["Name"] != org["Name"] || got.Values["Phone"] != "+1 555 0199" {
		t.Fatalf("row after a message without timestamp: Name %v Phone %v; org %v %v",
			got.Values["Name"], got.Values["Phone"], org["Name"], org["Phone"])
	}
	if st := e.sync.Stats(); st.Reread != 1 {
		t.Fatalf("stats %+v: want one record read again", st)
	}
}

// TestApplyRereadTombstones: without a field list the records are read
// again by Id: a live record is stored as Salesforce returns it, one in
// the recycle bin and one hard-deleted become tombstones.
func TestApplyRereadTombstones(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 6}, func(c *sfsync.Config) { c.Objects = []string{"Contact"} })
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	ids := e.ids("Contact")
	live, binned, purged := ids[0], ids[1], ids[2]
	e.update("Contact", live, map[string]any{"Email": "reread@example.com", "Phone": nil})
	e.tick()
	check(t, e.sf.Org.Delete("Contact", binned))
	e.tick()
	check(t, e.sf.Org.HardDelete("Contact", purged))

	m := &outbound.Message{OrganizationID: e.org, ActionID: "04k00000000000XAAA"}
	for i, id := range []string{live, binned, purged, live} {
		m.Notifications = append(m.Notifications, outbound.Notification{
			ID:      fmt.Sprintf("04l00000000001%dAAA", i),
			SObject: outbound.SObject{Type: "Contact", Fields: []outbound.Field{{Name: "Id", Value: strp(id)}}},
		})
	}
	e.sf.ResetCalls()
	if err := e.sync.Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if c := e.sf.Calls(); c["queryAll"] != 1 || c["query"] != 0 {
		t.Errorf("calls %v: want one queryAll for the whole message", c)
	}
	for _, id := range []string{binned, purged} {
		if r := e.localRow("Contact", id); r.Values[store.ColDeleted] == nil {
			t.Errorf("%s not marked deleted: %v", id, r.Values)
		}
	}
	for _, w := range e.sf.Org.Records("Contact", true) {
		if w["Id"] == binned {
			got := e.localRow("Contact", binned).Values["SystemModstamp"]
			if !sameValue(w["SystemModstamp"], got) {
				t.Errorf("tombstone SystemModstamp %v, org %v", got, w["SystemModstamp"])
			}
		}
	}
	e.assertEqual("Contact")
	for i := range 4 {
		_ = i
		if !e.hasReceipt(fmt.Sprintf("04l00000000001%dAAA", i)) {
			t.Errorf("notification %d has no receipt", i)
		}
	}
}

// TestUnfitValueIsVisible: a value a sync leaves out is named in the
// object's progress and counted, not only logged.
func TestUnfitValueIsVisible(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 5}, func(c *sfsync.Config) { c.Objects = []string{"Account"} })
	id := e.ids("Account")[0]
	e.update("Account", id, map[string]any{"NumberofLocations__c": 12345.0})
	e.connect()
	job := e.run(sfsync.Request{}, store.JobSucceeded)
	if p := job.Progress[0]; !strings.Contains(p.Error, "left out") || !strings.Contains(p.Error, id) {
		t.Fatalf("object progress %+v does not name the value left out", p)
	}
	stored, err := e.st.Job(context.Background(), job.ID)
	if err != nil || !strings.Contains(stored.Progress[0].Error, "NumberofLocations__c") {
		t.Fatalf("stored job %+v, %v", stored, err)
	}
	if n := e.sync.Stats().ValuesLeftOut; n != 1 {
		t.Fatalf("ValuesLeftOut = %d, want 1", n)
	}
}

// TestIncrementalWindowOnServerClock runs the fake org's clock years
// away from the local one: the window's upper bound (now - lag), the
// watermark and the deletes follow Salesforce's clock, and a watermark
// is saved only when it advances.
func TestIncrementalWindowOnServerClock(t *testing.T) {
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, sftest.Options{Records: 4, Start: start}, func(c *sfsync.Config) {
		c.Objects = []string{"Account"}
		c.Lag = time.Minute
		c.Lookback = time.Second
	})
	e.connect()
	ctx := context.Background()
	state := func() store.SyncState {
		t.Helper()
		st, err := e.st.SyncState(ctx, e.org, "Account")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	e.run(sfsync.Request{}, store.JobSucceeded)
	if wm := state().Watermark; !wm.Equal(start.Add(-time.Minute)) {
		t.Fatalf("watermark after the full sync %v, want the server's start minus the lag %v", wm, start.Add(-time.Minute))
	}

	ids := e.ids("Account")
	e.sf.Org.Advance(30 * time.Second)
	check(t, e.sf.Org.Update("Account", ids[0], map[string]any{"Name": "Within Lag"}))
	e.run(sfsync.Request{}, store.JobSucceeded)
	if got := e.localRow("Account", ids[0]).Values["Name"]; got == "Within Lag" {
		t.Fatal("a change newer than now - lag was fetched: the window is not bounded by Salesforce's clock")
	}
	if wm := state().Watermark; !wm.Equal(start.Add(-30 * time.Second)) {
		t.Fatalf("watermark %v, want %v", wm, start.Add(-30*time.Second))
	}

	e.sf.Org.Advance(2 * time.Minute)
	check(t, e.sf.Org.Delete("Account", ids[1]))
	e.sf.Org.Advance(2 * time.Minute)
	e.run(sfsync.Request{}, store.JobSucceeded)
	if got := e.localRow("Account", ids[0]).Values["Name"]; got != "Within Lag" {
		t.Fatalf("the change was not fetched once the lag passed: Name %v", got)
	}
	del := e.localRow("Account", ids[1])
	rec := e.sf.Org.Records("Account", true)
	for _, r := range rec {
		if r["Id"] == ids[1] && (del.Values[store.ColDeleted] == nil || !sameValue(r["SystemModstamp"], del.Values["SystemModstamp"])) {
			t.Fatalf("deleted row %v, org SystemModstamp %v", del.Values, r["SystemModstamp"])
		}
	}
	saved := state()
	if want := start.Add(270*time.Second - time.Minute); !saved.Watermark.Equal(want) {
		t.Fatalf("watermark %v, want %v", saved.Watermark, want)
	}
	// No time passed on Salesforce's clock: the window is empty and the
	// state is not written again.
	e.run(sfsync.Request{}, store.JobSucceeded)
	if again := state(); !again.UpdatedAt.Equal(saved.UpdatedAt) || !again.Watermark.Equal(saved.Watermark) {
		t.Fatalf("state rewritten without the watermark advancing: %+v then %+v", saved, again)
	}
	e.assertEqual("Account")
}

// listingFaults wraps Connections so that a test can spoil the Id
// listing of a reconcile: fail its next page, or cut it short.
type listingFaults struct {
	inner   sfsync.Connections
	mode    atomic.Int32 // 0 off, 1 fail queryMore, 2 cut the Id listing short
	noClock atomic.Bool  // strip the Date header of every response
}

func (l *listingFaults) Client(ctx context.Context, org string) (*http.Client, error) {
	hc, err := l.inner.Client(ctx, org)
	if err != nil {
		return nil, err
	}
	c := *hc
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = faultTransport{base: base, l: l}
	return &c, nil
}

func (l *listingFaults) Connection(ctx context.Context, org string) (*oauth.Connection, error) {
	return l.inner.Connection(ctx, org)
}

func (l *listingFaults) Connections(ctx context.Context) ([]*oauth.Connection, error) {
	return l.inner.Connections(ctx)
}

type faultTransport struct {
	base http.RoundTripper
	l    *listingFaults
}

func (f faultTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.l.noClock.Load() {
		resp, err := f.base.RoundTrip(r)
		if resp != nil {
			resp.Header.Del("Date")
		}
		return resp, err
	}
	switch f.l.mode.Load() {
	case 1:
		if strings.Contains(r.URL.Path, "/query/") {
			body := `[{"errorCode":"INVALID_QUERY_FILTER_OPERATOR","message":"injected"}]`
			return &http.Response{StatusCode: 400, Status: "400 Bad Request", Request: r,
				Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body))}, nil
		}
	case 2:
		if strings.HasPrefix(r.URL.Query().Get("q"), "SELECT Id FROM") {
			resp, err := f.base.RoundTrip(r)
			if err != nil || resp.StatusCode != 200 {
				return resp, err
			}
			var page map[string]any
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			page["done"] = true
			delete(page, "nextRecordsUrl")
			b, _ := json.Marshal(page)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Del("Content-Length")
			return resp, nil
		}
	}
	return f.base.RoundTrip(r)
}

// TestReconcileNeverDeletesOnBadListing: when the Id listing fails, or
// ends early without an error, no row is marked deleted; a good listing
// then marks exactly the missing Id.
func TestReconcileNeverDeletesOnBadListing(t *testing.T) {
	var faults *listingFaults
	var arm atomic.Int32
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Contact": 450}}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact"}
		c.QueryBatchSize = 200
		c.ReconcileInterval = time.Nanosecond
		faults = &listingFaults{inner: c.Connections}
		c.Connections = faults
		c.Progress = func(ev sfsync.Event) {
			if ev.Phase == "reconcile" {
				faults.mode.Store(arm.Load())
			}
		}
	})
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	ids := e.ids("Contact")
	e.tick()
	check(t, e.sf.Org.HardDelete("Contact", ids[7]))
	e.settle()
	ctx := context.Background()
	count := func() int64 {
		n, err := e.st.Count(ctx, e.org, "Contact", false)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	for _, tc := range []struct {
		name  string
		mode  int32
		state store.JobState
	}{
		{"listing fails", 1, store.JobFailed},
		{"listing cut short", 2, store.JobSucceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arm.Store(tc.mode)
			defer func() { arm.Store(0); faults.mode.Store(0) }()
			e.t = t
			e.run(sfsync.Request{}, tc.state)
			if n := count(); n != 450 {
				t.Fatalf("%d rows left after a bad listing, want all 450", n)
			}
		})
	}
	e.t = t
	e.run(sfsync.Request{}, store.JobSucceeded)
	if n := count(); n != 449 {
		t.Fatalf("%d rows after a good reconcile, want 449", n)
	}
	e.assertEqual("Contact")
}

// TestCancelLeavesNoGoroutines cancels syncs mid-extract, and before
// they start: every goroutine of the engine ends.
func TestCancelLeavesNoGoroutines(t *testing.T) {
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Contact": 400, "Account": 400, "Lead": 400}}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact", "Account", "Lead"}
		c.Concurrency = 2
		c.BatchSize, c.QueryBatchSize = 50, 200
	})
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded) // warm: connections pooled
	base := runtime.NumGoroutine()
	for i := range 4 {
		_ = i
		ctx, cancel := context.WithCancel(context.Background())
		e.on(func(ev sfsync.Event) {
			if ev.Done >= 50 {
				cancel()
			}
		})
		job, err := e.sync.Sync(ctx, sfsync.Request{OrgID: e.org, Mode: sfsync.ModeFull})
		cancel()
		if err != nil || job.State != store.JobCanceled {
			t.Fatalf("run %d: %+v, %v; want canceled", i, job, err)
		}
	}
	e.on(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if job, err := e.sync.Sync(ctx, sfsync.Request{OrgID: e.org}); err == nil && job.State != store.JobCanceled {
		t.Fatalf("sync with a canceled context: %+v", job)
	}

	waitEngineIdle(t, base)
	e.run(sfsync.Request{}, store.JobSucceeded) // and the checkpoints resume
	e.assertEqual("Contact")
}

// lockedBuffer collects log output from concurrent goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogLines: an Info line when each object starts and finishes,
// progress lines no more often than every few seconds, and no token,
// client secret or session id in any line, even at Debug.
func TestLogLines(t *testing.T) {
	var buf lockedBuffer
	began := time.Now()
	e := newEnv(t, sftest.Options{Records: 30}, func(c *sfsync.Config) {
		c.Objects = []string{"Account", "Contact"}
		c.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	e.sf.ExpireAccessTokens() // a refresh while syncing
	e.update("Account", e.ids("Account")[0], map[string]any{"Phone": "+1 555 0101"})
	e.settle()
	e.run(sfsync.Request{Mode: sfsync.ModeFull}, store.JobSucceeded)
	session := outbound.Secret("00Dxx0000001gPL!AQ4AQFakeSessionSecretValue")
	m := message(e.org, "04k00000000000YAAA", "04l000000000009AAA", "Account",
		outbound.Field{Name: "Id", Value: strp(e.ids("Account")[1])})
	m.SessionID = &session
	if err := e.sync.Apply(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	_ = e.sync.Apply(context.Background(), message(e.org, "04k00000000000YAAA", "04l00000000000ZAAA", "Account",
		outbound.Field{Name: "Id", Value: strp("001000000000000AAA")}, outbound.Field{Name: "Name", Value: strp(string(session))}))
	took := time.Since(began)

	conn, err := e.mgr.Connection(context.Background(), e.org)
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	secrets := map[string]string{
		"access token":  conn.AccessToken.Reveal(),
		"refresh token": conn.RefreshToken.Reveal(),
		"client secret": e.sf.ClientSecret(),
		"session id":    string(session),
	}
	for name, s := range secrets {
		if s == "" {
			t.Fatalf("no %s to look for", name)
		}
		if strings.Contains(out, s) {
			t.Errorf("the %s is in the log", name)
		}
	}

	type line struct {
		Level, Msg, Object string
	}
	started, finished := map[string]int{}, map[string]int{}
	progress := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var ln line
		if err := json.Unmarshal([]byte(l), &ln); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		switch ln.Msg {
		case "object started":
			if ln.Level == "INFO" {
				started[ln.Object]++
			}
		case "object finished":
			if ln.Level == "INFO" {
				finished[ln.Object]++
			}
		case "object progress":
			progress[ln.Object]++
		}
	}
	for _, o := range []string{"Account", "Contact"} {
		if started[o] != 2 || finished[o] != 2 {
			t.Errorf("%s: %d start and %d finish lines at Info for 2 syncs", o, started[o], finished[o])
		}
		if limit := int(took/(5*time.Second)) + 2; progress[o] > limit {
			t.Errorf("%s: %d progress lines in %v", o, progress[o], took)
		}
	}
}

// assertLiveEqual compares, for every record live both in the org and
// locally (skip excepted), the given fields (nil: every stored,
// non-calculated field) including NULLs. It checks what Outbound
// Messages alone stored, before a sync repairs anything.
func (e *env) assertLiveEqual(object string, fields []string, skip map[string]bool) {
	e.t.Helper()
	rows, err := e.st.ReadRows(context.Background(), store.ReadQuery{OrgID: e.org, Object: object})
	if err != nil {
		e.t.Fatalf("read %s: %v", object, err)
	}
	local := map[string]store.Row{}
	for _, r := range rows {
		local[r.ID] = r
	}
	calc := e.calculated(object)
	bad, compared := 0, 0
	for _, w := range e.sf.Org.Records(object, false) {
		id := w["Id"].(string)
		got, ok := local[id]
		if !ok || skip[id] {
			continue
		}
		names := fields
		if names == nil {
			for n := range w {
				if _, stored := got.Values[n]; stored && !calc[n] {
					names = append(names, n)
				}
			}
		}
		for _, n := range names {
			gv, ok := got.Values[n]
			if !ok {
				e.t.Fatalf("%s has no column %s", object, n)
			}
			compared++
			if !sameValue(w[n], gv) {
				bad++
				if bad <= 10 {
					e.t.Errorf("%s %s field %s after the deliveries: local %#v, org %#v", object, id, n, gv, w[n])
				}
			}
		}
	}
	if bad > 0 {
		e.t.Fatalf("%s: %d values differ after the deliveries", object, bad)
	}
	if compared == 0 {
		e.t.Fatalf("%s: nothing compared", object)
	}
}

// TestCalculatedRefreshOnlyThoseColumns: the refresh of calculated
// fields rewrites those columns and leaves every other one as stored.
func TestCalculatedRefreshOnlyThoseColumns(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 6}, func(c *sfsync.Config) {
		c.Objects = []string{"Account"}
		c.CalculatedInterval = time.Nanosecond
	})
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	// Past the lookback: the next incremental windows hold no record.
	e.sf.Org.Advance(10 * time.Second)
	e.run(sfsync.Request{}, store.JobSucceeded)
	ctx := context.Background()
	id := e.ids("Account")[0]
	// A local value no sync would write: if the refresh rewrote more
	// than the calculated columns, it would be replaced.
	if _, err := e.st.Upsert(ctx, store.Upsert{OrgID: e.org, Object: "Account",
		Rows: []store.Row{{ID: id, Values: map[string]any{"Id": id, "Name": "local only"}}}}); err != nil {
		t.Fatal(err)
	}
	before := e.localRow("Account", id)
	e.sf.Org.Advance(72 * time.Hour) // ages change; SystemModstamp does not
	e.run(sfsync.Request{}, store.JobSucceeded)
	after := e.localRow("Account", id)
	calc := e.calculated("Account")
	org, _ := e.sf.Org.Get("Account", id)
	changed := 0
	for k, v := range before.Values {
		switch {
		case k == store.ColSyncedAt:
		case calc[k]:
			if !sameValue(org[k], after.Values[k]) {
				t.Errorf("calculated %s = %v, org %v", k, after.Values[k], org[k])
			}
			if !cmp.Equal(v, after.Values[k]) {
				changed++
			}
		case !cmp.Equal(v, after.Values[k]):
			t.Errorf("column %s changed from %#v to %#v by the refresh", k, v, after.Values[k])
		}
	}
	if changed == 0 {
		t.Fatal("no calculated column changed: the test shows nothing")
	}
}

// TestObjectsBoundedByConcurrency: objects sync in parallel, never more
// than Concurrency at once.
func TestObjectsBoundedByConcurrency(t *testing.T) {
	var mu sync.Mutex
	active, most := map[string]bool{}, 0
	e := newEnv(t, sftest.Options{Records: 5}, func(c *sfsync.Config) {
		c.Objects = []string{"Account", "Contact", "Lead", "Case", "Opportunity"}
		c.Concurrency = 2
	})
	e.connect()
	e.on(func(ev sfsync.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch ev.Phase {
		case "done", "failed", "canceled", "paused":
			delete(active, ev.Object)
		default:
			active[ev.Object] = true
		}
		most = max(most, len(active))
	})
	e.sf.SetLatency(20 * time.Millisecond)
	e.run(sfsync.Request{}, store.JobSucceeded)
	if most != 2 {
		t.Fatalf("at most %d objects at once, want 2", most)
	}
}

// slowStore delays each Upsert and notes whether the fake org served a
// page of the same query meanwhile.
type slowStore struct {
	store.Store
	sf      *sftest.Server
	overlap atomic.Int32
}

func (s *slowStore) pages() int {
	c := s.sf.Calls()
	return c["query"] + c["queryMore"]
}

func (s *slowStore) Upsert(ctx context.Context, u store.Upsert) (store.UpsertResult, error) {
	// Hold the write until the next page has been fetched. An engine that
	// fetches only after writing never gets there, and every batch waits
	// out the deadline; once one overlap is seen the rest go straight on.
	if s.overlap.Load() == 0 {
		before := s.pages()
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
			if s.pages() > before {
				s.overlap.Add(1)
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return s.Store.Upsert(ctx, u)
}

// TestFetchOverlapsWrite: the next page is fetched while a batch is
// written.
func TestFetchOverlapsWrite(t *testing.T) {
	ss := &slowStore{Store: memory.New()}
	e := newEnvStore(t, ss, sftest.Options{RecordsPer: map[string]int{"Contact": 1000}}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact"}
		c.BatchSize, c.QueryBatchSize = 200, 200
	})
	ss.sf = e.sf
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	if ss.overlap.Load() == 0 {
		t.Fatal("no page was fetched while a batch was written")
	}
	e.assertEqual("Contact")
}

// TestNoServerClockMissesNothing: without Salesforce's clock (no Date
// header), a full extract interrupted and resumed later still leads to a
// watermark no newer than the object was when it began, so a change made
// between the two jobs to a record already extracted is fetched by the
// next incremental sync, though the resumed job read newer records.
func TestNoServerClockMissesNothing(t *testing.T) {
	var faults *listingFaults
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Contact": 600}}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact"}
		c.BatchSize, c.QueryBatchSize = 50, 200
		faults = &listingFaults{inner: c.Connections}
		faults.noClock.Store(true)
		c.Connections = faults
	})
	e.connect()
	ids := e.ids("Contact")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.on(func(ev sfsync.Event) {
		if ev.Done >= 100 {
			cancel()
		}
	})
	if job, err := e.sync.Sync(ctx, sfsync.Request{OrgID: e.org}); err != nil || job.State != store.JobCanceled {
		t.Fatalf("first job %+v, %v; want canceled", job, err)
	}
	e.on(nil)
	e.sf.Org.Advance(time.Minute)
	check(t, e.sf.Org.Update("Contact", ids[0], map[string]any{"Title": "changed behind the checkpoint"}))
	e.sf.Org.Advance(10 * time.Minute)
	check(t, e.sf.Org.Update("Contact", ids[len(ids)-1], map[string]any{"Title": "changed ahead of it"}))
	e.run(sfsync.Request{}, store.JobSucceeded) // resumes the extract
	e.sf.Org.Advance(time.Second)
	e.run(sfsync.Request{}, store.JobSucceeded)
	e.assertEqual("Contact")
}

// deletingStore marks a row deleted right after IDs lists it, as a
// message or a sync running alongside would.
type deletingStore struct {
	store.Store
	victim atomic.Pointer[store.Delete]
}

func (d *deletingStore) IDs(ctx context.Context, org, object string) ([]string, error) {
	ids, err := d.Store.IDs(ctx, org, object)
	if del := d.victim.Swap(nil); del != nil && err == nil {
		if _, err := d.Store.Delete(ctx, *del); err != nil {
			return nil, err
		}
	}
	return ids, err
}

// TestCalculatedRefreshKeepsDeletes: a row deleted while the calculated
// fields are re-read is not undeleted by the refresh.
func TestCalculatedRefreshKeepsDeletes(t *testing.T) {
	ds := &deletingStore{Store: memory.New()}
	e := newEnvStore(t, ds, sftest.Options{Records: 6}, func(c *sfsync.Config) {
		c.Objects = []string{"Account"}
		c.CalculatedInterval = time.Nanosecond
	})
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	e.sf.Org.Advance(10 * time.Second)
	e.run(sfsync.Request{}, store.JobSucceeded)
	id := e.ids("Account")[2]
	org, _ := e.sf.Org.Get("Account", id)
	ds.victim.Store(&store.Delete{OrgID: e.org, Object: "Account",
		Rows: []store.Tombstone{{ID: id, Modstamp: org["SystemModstamp"].(time.Time).Add(time.Second)}}})
	e.sf.Org.Advance(72 * time.Hour)
	e.run(sfsync.Request{}, store.JobSucceeded)
	if ds.victim.Load() != nil {
		t.Fatal("the refresh did not list Ids")
	}
	if r := e.localRow("Account", id); r.Values[store.ColDeleted] == nil {
		t.Fatalf("the refresh undeleted %s: %v", id, r.Values)
	}
}

// TestBudgetStopsIncremental: an incremental sync stopped by the API
// budget is paused, keeps its watermark (so the next run fetches the
// window again), and the next run completes it.
func TestBudgetStopsIncremental(t *testing.T) {
	const limit = 10000
	e := newEnv(t, sftest.Options{Records: 20, DailyAPILimit: limit}, func(c *sfsync.Config) {
		c.Objects = []string{"Account"}
		c.LimitReserve = 0.5
	})
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	ctx := context.Background()
	before, err := e.st.SyncState(ctx, e.org, "Account")
	if err != nil {
		t.Fatal(err)
	}
	e.update("Account", e.ids("Account")[0], map[string]any{"Phone": "+1 555 0142"})
	e.settle()
	e.on(func(ev sfsync.Event) {
		if ev.Phase == "changes" {
			e.sf.SetAPIUsage(limit / 2)
		}
	})
	job := e.run(sfsync.Request{}, store.JobPaused)
	if p := job.Progress[0]; p.Phase != "paused" {
		t.Fatalf("object progress %+v, want paused", p)
	}
	after, _ := e.st.SyncState(ctx, e.org, "Account")
	if !after.Watermark.Equal(before.Watermark) {
		t.Fatalf("watermark moved from %v to %v by a stopped sync", before.Watermark, after.Watermark)
	}
	e.on(nil)
	e.sf.SetAPIUsage(0)
	e.run(sfsync.Request{}, store.JobSucceeded)
	e.assertEqual("Account")
}

// TestFullSyncDropsPurgedRows: a full sync over synced rows marks
// deleted the rows of records Salesforce no longer has at all.
func TestFullSyncDropsPurgedRows(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 10}, func(c *sfsync.Config) { c.Objects = []string{"Contact"} })
	e.connect()
	e.run(sfsync.Request{}, store.JobSucceeded)
	e.tick()
	check(t, e.sf.Org.HardDelete("Contact", e.ids("Contact")[4]))
	e.settle()
	e.run(sfsync.Request{Mode: sfsync.ModeFull}, store.JobSucceeded)
	e.assertEqual("Contact")
}

// engineGoroutines returns the stacks of goroutines running engine or
// soql code.
func engineGoroutines() string {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	var hits []string
	for _, g := range strings.Split(b.String(), "\n\n") {
		if strings.Contains(g, "salesforce-sync/sfsync.") || strings.Contains(g, "salesforce-sync/soql.") {
			hits = append(hits, g)
		}
	}
	return strings.Join(hits, "\n\n")
}

// waitEngineIdle fails unless, within a few seconds, no engine goroutine
// is left and the goroutine count is back near base.
func waitEngineIdle(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := engineGoroutines()
		n := runtime.NumGoroutine()
		if left == "" && n <= base+12 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines, %d before; engine goroutines left:\n%s", n, base, left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// failingStore fails every Upsert once armed.
type failingStore struct {
	store.Store
	armed atomic.Bool
}

func (f *failingStore) Upsert(ctx context.Context, u store.Upsert) (store.UpsertResult, error) {
	if f.armed.Load() {
		return store.UpsertResult{}, fmt.Errorf("disk full (injected)")
	}
	return f.Store.Upsert(ctx, u)
}

// TestStoreFailureStopsFetching: when writing fails mid-extract the
// fetching goroutines stop too, and the job fails with the store error.
func TestStoreFailureStopsFetching(t *testing.T) {
	fs := &failingStore{Store: memory.New()}
	e := newEnvStore(t, fs, sftest.Options{RecordsPer: map[string]int{"Contact": 800, "Account": 800}}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact", "Account"}
		c.BatchSize, c.QueryBatchSize = 50, 200
	})
	e.connect()
	e.run(sfsync.Request{Objects: []string{"Lead"}}, store.JobSucceeded) // warm
	base := runtime.NumGoroutine()
	e.on(func(ev sfsync.Event) {
		if ev.Done >= 50 {
			fs.armed.Store(true)
		}
	})
	job := e.run(sfsync.Request{}, store.JobFailed)
	if !strings.Contains(job.Error, "disk full") {
		t.Fatalf("job error %q", job.Error)
	}
	waitEngineIdle(t, base)
}
