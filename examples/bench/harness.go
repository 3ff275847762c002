package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
)

// harness is a fake org (sftest over real HTTP on loopback), a Store, an
// OAuth manager and an engine, with the app's /connect, /callback and
// /webhook served by an httptest server: what a user of the library
// wires, in one process.
type harness struct {
	sf   *sftest.Server
	st   store.Store
	mgr  *oauth.Manager
	sync *sfsync.Syncer
	web  *httptest.Server
	org  string

	clock *orgClock

	mu   sync.Mutex
	onEv func(sfsync.Event)

	ownOrg bool // close sf with the harness

	// beforeStoreClose, when set, runs in close after the engine
	// stopped and before the Store is closed (dropping a schema).
	beforeStoreClose func()
}

// harnessConfig says what a harness is made of.
type harnessConfig struct {
	org    sftest.Options
	shared *sftest.Server                // a fake org to use instead of starting one; not closed
	store  store.Store                   // required; the harness closes it
	engine func(*sfsync.Config)          // adjusts the engine's configuration
	wrap   func(store.Store) store.Store // wraps the Store the engine sees
	log    *slog.Logger
}

// newHarness starts the fake org with its clock on the wall clock (the
// Date header and record timestamps share one clock) and the app.
func newHarness(hc harnessConfig) (*harness, error) {
	if hc.org.Start.IsZero() {
		hc.org.Start = time.Now().UTC().Truncate(time.Millisecond)
	}
	if hc.org.OutboundTimeScale == 0 {
		hc.org.OutboundTimeScale = 0.001
	}
	sf := hc.shared
	if sf == nil {
		var err error
		if sf, err = sftest.Start(hc.org); err != nil {
			hc.store.Close()
			return nil, fmt.Errorf("start fake org: %w", err)
		}
	}
	h := &harness{sf: sf, st: hc.store, clock: &orgClock{org: sf.Org, last: sf.Org.Now()}, ownOrg: hc.shared == nil}
	if err := h.wire(hc); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

func (h *harness) wire(hc harnessConfig) error {
	key, err := oauth.GenerateKey("bench")
	if err != nil {
		return err
	}
	sealer, err := oauth.NewSealer(key)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	h.web = httptest.NewServer(mux)
	h.mgr = oauth.NewManager(oauth.Config{
		ClientID: h.sf.ClientID(), ClientSecret: h.sf.ClientSecret(),
		RedirectURL: h.web.URL + "/callback", LoginURL: h.sf.URL,
	}, h.st, sealer)
	engineStore := h.st
	if hc.wrap != nil {
		engineStore = hc.wrap(h.st)
	}
	log := hc.log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := sfsync.Config{
		Store: engineStore, Connections: h.mgr, Lag: -1, Lookback: time.Second,
		Progress: h.progress, Logger: log,
	}
	if hc.engine != nil {
		hc.engine(&c)
	}
	if h.sync, err = sfsync.New(c); err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	mux.Handle("GET /connect", h.mgr.ConnectHandler())
	mux.Handle("GET /callback", h.mgr.CallbackHandler())
	mux.Handle("/webhook", h.sync.OutboundHandler())
	return nil
}

// close stops everything the harness started, in reverse order.
func (h *harness) close() {
	if h.web != nil {
		h.web.Close()
	}
	if h.sync != nil {
		h.sync.Close()
	}
	if h.beforeStoreClose != nil {
		h.beforeStoreClose()
	}
	if h.st != nil {
		h.st.Close()
	}
	if h.ownOrg {
		h.sf.Close()
	}
}

func (h *harness) progress(ev sfsync.Event) {
	h.mu.Lock()
	f := h.onEv
	h.mu.Unlock()
	if f != nil {
		f(ev)
	}
}

// on sets a hook called with every progress event (nil removes it).
func (h *harness) on(f func(sfsync.Event)) {
	h.mu.Lock()
	h.onEv = f
	h.mu.Unlock()
}

// connect logs in as a browser would: /connect, the fake org's
// approval, /callback.
func (h *harness) connect(ctx context.Context) error {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	loc, err := redirectOf(ctx, hc, h.web.URL+"/connect")
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	cb, err := h.sf.Authorize(loc)
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, cb, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("callback: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("callback: %s", resp.Status)
	}
	conn, err := h.mgr.Connection(ctx, h.sf.Org.ID())
	if err != nil {
		return fmt.Errorf("connection after callback: %w", err)
	}
	h.org = conn.OrgID
	return nil
}

// redirectOf GETs u and returns its redirect Location.
func redirectOf(ctx context.Context, hc *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		return "", fmt.Errorf("%s: %s without a redirect", u, resp.Status)
	}
	return loc, nil
}

// tick moves the fake clock to the wall clock, and always forward by at
// least a millisecond, so that each change gets a newer SystemModstamp.
func (h *harness) tick() { h.clock.tick() }

// settle waits until the fake org's Date header (whole seconds) has
// passed every change made so far, so that an incremental window
// covers them.
func (h *harness) settle() {
	last := h.clock.lastTick()
	if d := time.Until(last.Truncate(time.Second).Add(time.Second + 50*time.Millisecond)); d > 0 {
		time.Sleep(d)
	}
	h.tick()
}

// run syncs to the end and fails unless the job ends in want.
func (h *harness) run(ctx context.Context, req sfsync.Request, want store.JobState) (*store.Job, error) {
	if req.OrgID == "" {
		req.OrgID = h.org
	}
	job, err := h.sync.Sync(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	if job.State != want {
		return job, fmt.Errorf("job %s ended %s (error %q), want %s", job.ID, job.State, job.Error, want)
	}
	return job, nil
}

// ids returns the Ids of the live records of object in the fake org.
func (h *harness) ids(object string) []string {
	var out []string
	for _, r := range h.sf.Org.Records(object, false) {
		out = append(out, r["Id"].(string))
	}
	return out
}

// fitSeed corrects the generated values Salesforce itself would refuse
// (sftest may give Account.NumberofLocations__c, a number with precision
// 3, the value 1000), so that every record converges value for value.
func fitSeed(o *sftest.Org) error {
	for _, r := range o.Records("Account", true) {
		if v, ok := r["NumberofLocations__c"].(float64); ok && v > 999 {
			if err := o.Update("Account", r["Id"].(string), map[string]any{"NumberofLocations__c": 999.0}); err != nil {
				return err
			}
		}
	}
	return nil
}
