package sfsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/metadata"
	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/rest"
	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/memory"
)

// env is a fake org, a Store, an OAuth manager and a Syncer, wired over
// real HTTP: the app's /connect, /callback and /webhook are served by an
// httptest server, the org by sftest.
type env struct {
	t    testing.TB
	sf   *sftest.Server
	st   store.Store
	mgr  *oauth.Manager
	sync *sfsync.Syncer
	web  *httptest.Server
	org  string

	mu     sync.Mutex
	events []sfsync.Event
	onEv   func(sfsync.Event)
	last   time.Time // the fake clock's last tick
}

// newEnv starts the fake org (its clock on real time, as Salesforce's
// Date header and its timestamps share one clock) and the app. cfg may
// adjust the engine's configuration before New.
func newEnv(t testing.TB, opts sftest.Options, cfg func(*sfsync.Config)) *env {
	t.Helper()
	return newEnvStore(t, memory.New(), opts, cfg)
}

// newEnvStore is newEnv with a given Store, which it closes at the end.
func newEnvStore(t testing.TB, st store.Store, opts sftest.Options, cfg func(*sfsync.Config)) *env {
	t.Helper()
	if opts.Start.IsZero() {
		opts.Start = time.Now().UTC().Truncate(time.Millisecond)
	}
	if opts.OutboundTimeScale == 0 {
		opts.OutboundTimeScale = 0.001
	}
	sf := sftest.NewServer(opts)
	t.Cleanup(sf.Close)
	fitSeed(t, sf.Org)
	e := &env{t: t, sf: sf, st: st, last: opts.Start}
	t.Cleanup(func() { e.st.Close() })

	key, err := oauth.GenerateKey("test")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := oauth.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.web = httptest.NewServer(mux)
	t.Cleanup(e.web.Close)
	e.mgr = oauth.NewManager(oauth.Config{
		ClientID: sf.ClientID(), ClientSecret: sf.ClientSecret(),
		RedirectURL: e.web.URL + "/callback", LoginURL: sf.URL,
	}, e.st, sealer)

	c := sfsync.Config{
		Store: e.st, Connections: e.mgr, Lag: -1, Lookback: time.Second,
		Progress: e.progress,
	}
	if tt, ok := t.(*testing.T); ok && testing.Verbose() {
		c.Logger = slogT(tt)
	}
	if cfg != nil {
		cfg(&c)
	}
	e.sync, err = sfsync.New(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.sync.Close() })
	mux.Handle("GET /connect", e.mgr.ConnectHandler())
	mux.Handle("GET /callback", e.mgr.CallbackHandler())
	mux.Handle("/webhook", e.sync.OutboundHandler())
	return e
}

func (e *env) progress(ev sfsync.Event) {
	e.mu.Lock()
	e.events = append(e.events, ev)
	f := e.onEv
	e.mu.Unlock()
	if f != nil {
		f(ev)
	}
}

// on sets a hook called with every progress event.
func (e *env) on(f func(sfsync.Event)) {
	e.mu.Lock()
	e.onEv = f
	e.mu.Unlock()
}

// connect logs in through /connect, the fake org's approval and
// /callback, as a browser would.
func (e *env) connect() {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(e.web.URL + "/connect")
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		e.t.Fatalf("/connect: %s, Location %q", resp.Status, loc)
	}
	cb, err := e.sf.Authorize(loc)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err = hc.Get(cb)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		e.t.Fatalf("/callback: %s", resp.Status)
	}
	conns, err := e.mgr.Connections(context.Background())
	if err != nil || len(conns) != 1 {
		e.t.Fatalf("connections after callback: %v, %v", conns, err)
	}
	e.org = conns[0].OrgID
	if e.org != e.sf.Org.ID() {
		e.t.Fatalf("connected org %s, want %s", e.org, e.sf.Org.ID())
	}
}

// tick moves the fake clock to the real time, and always forward by at
// least a millisecond, so each change gets a newer SystemModstamp.
func (e *env) tick() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if !now.After(e.last) {
		now = e.last.Add(time.Millisecond)
	}
	e.last = now
	e.sf.Org.SetNow(now)
}

// settle waits until the server's Date header (whole seconds) has
// passed every change made so far, so an incremental window covers them.
func (e *env) settle() {
	e.mu.Lock()
	last := e.last
	e.mu.Unlock()
	if d := time.Until(last.Truncate(time.Second).Add(time.Second + 50*time.Millisecond)); d > 0 {
		time.Sleep(d)
	}
	e.tick()
}

// run syncs and fails the test unless the job ends in want.
func (e *env) run(req sfsync.Request, want store.JobState) *store.Job {
	e.t.Helper()
	if req.OrgID == "" {
		req.OrgID = e.org
	}
	job, err := e.sync.Sync(context.Background(), req)
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	if job.State != want {
		e.t.Fatalf("job %s state %s (error %q), want %s; progress %+v", job.ID, job.State, job.Error, want, job.Progress)
	}
	return job
}

func (e *env) update(object, id string, fields map[string]any) {
	e.t.Helper()
	e.tick()
	if err := e.sf.Org.Update(object, id, fields); err != nil {
		e.t.Fatalf("update %s %s: %v", object, id, err)
	}
}

func (e *env) ids(object string) []string {
	var out []string
	for _, r := range e.sf.Org.Records(object, false) {
		out = append(out, r["Id"].(string))
	}
	return out
}

// calculated returns the calculated fields of an object, described
// through the test's own REST client.
func (e *env) calculated(object string) map[string]bool {
	e.t.Helper()
	hc, err := e.mgr.Client(context.Background(), e.org)
	if err != nil {
		e.t.Fatal(err)
	}
	mc := &metadata.Client{REST: &rest.Client{InstanceURL: e.sf.URL, HTTPClient: hc}}
	d, err := mc.Describe(context.Background(), object)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range metadata.CalculatedFields(d) {
		out[f] = true
	}
	return out
}

// assertEqual fails unless the object's live local rows equal the fake
// org's records: the same Ids, and every stored column equal to the
// org's value (calculated fields, which depend on the clock, and
// compound fields excepted).
func (e *env) assertEqual(object string) {
	e.t.Helper()
	want := e.sf.Org.Records(object, false)
	rows, err := e.st.ReadRows(context.Background(), store.ReadQuery{OrgID: e.org, Object: object})
	if err != nil {
		e.t.Fatalf("read %s: %v", object, err)
	}
	byID := map[string]store.Row{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	var wantIDs, gotIDs []string
	for _, w := range want {
		wantIDs = append(wantIDs, w["Id"].(string))
	}
	for _, r := range rows {
		gotIDs = append(gotIDs, r.ID)
	}
	slices.Sort(wantIDs)
	slices.Sort(gotIDs)
	if !slices.Equal(wantIDs, gotIDs) {
		e.t.Fatalf("%s: %d local rows, %d in the org; ids differ:\nlocal %v\norg   %v", object, len(gotIDs), len(wantIDs),
			head(gotIDs), head(wantIDs))
	}
	calc := e.calculated(object)
	bad, compared := 0, 0
	for _, w := range want {
		id := w["Id"].(string)
		got := byID[id]
		for name, wv := range w {
			if calc[name] {
				continue
			}
			gv, ok := got.Values[name]
			if !ok {
				continue // not a column (compound, or not stored)
			}
			compared++
			if !sameValue(wv, gv) {
				bad++
				if bad <= 10 {
					e.t.Errorf("%s %s field %s: local %#v, org %#v", object, id, name, gv, wv)
				}
			}
		}
	}
	if bad > 0 {
		e.t.Fatalf("%s: %d values differ", object, bad)
	}
	if compared < 5*len(want) {
		e.t.Fatalf("%s: only %d values compared for %d records", object, compared, len(want))
	}
}

func head(s []string) []string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

// sameValue compares an sftest value with a stored value.
func sameValue(org, local any) bool {
	switch o := org.(type) {
	case nil:
		return local == nil
	case map[string]any:
		return true // compound: components are compared on their own
	case time.Time:
		l, ok := local.(time.Time)
		return ok && l.Equal(o.Truncate(time.Millisecond))
	case float64:
		switch l := local.(type) {
		case float64:
			return l == o || math.Abs(l-o) < 1e-9*math.Max(1, math.Abs(o))
		case store.Decimal:
			f, err := strconv.ParseFloat(string(l), 64)
			return err == nil && math.Abs(f-o) < 1e-6*math.Max(1, math.Abs(o))
		case int64:
			return float64(l) == o
		}
		return false
	case int64:
		switch l := local.(type) {
		case int64:
			return l == o
		case float64:
			return l == float64(o)
		case store.Decimal:
			return string(l) == strconv.FormatInt(o, 10)
		}
		return false
	case int:
		return sameValue(int64(o), local)
	case bool:
		l, ok := local.(bool)
		return ok && l == o
	case []byte:
		l, ok := local.([]byte)
		return ok && bytes.Equal(l, o)
	case string:
		switch l := local.(type) {
		case string:
			return l == o
		case time.Time: // a date column
			return l.UTC().Format("2006-01-02") == o
		case store.Decimal:
			return string(l) == o
		case json.RawMessage:
			return true
		}
		return fmt.Sprint(local) == o
	}
	return fmt.Sprint(org) == fmt.Sprint(local)
}

// fitSeed corrects generated values that Salesforce itself would refuse:
// sftest may generate NumberofLocations__c (double, precision 3) of
// 1000. The engine leaves such a value out (see TestUnfitValueIsLeftOut);
// the other tests compare every value, so they start from valid data.
func fitSeed(t testing.TB, o *sftest.Org) {
	t.Helper()
	for _, r := range o.Records("Account", true) {
		if v, ok := r["NumberofLocations__c"].(float64); ok && v > 999 {
			if err := o.Update("Account", r["Id"].(string), map[string]any{"NumberofLocations__c": 999.0}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
