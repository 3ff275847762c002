package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/postgres"
)

// dsnEnv names the environment variable with a PostgreSQL server for the
// multi-instance tests (.ci/run sets it).
const dsnEnv = "SFSYNC_POSTGRES_DSN"

func testDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skip(dsnEnv + " is not set: the multi-instance tests need a PostgreSQL server " +
			"(.ci/run starts one and sets it, e.g. postgres://postgres@127.0.0.1:5432/sfsync_test?sslmode=disable)")
	}
	return dsn
}

// freshSchema returns a schema name of this test alone, dropped when the
// test ends (after the servers stopped: cleanups run last-in first-out).
func freshSchema(t *testing.T, dsn string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "sfsync_srv_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS "`+name+`" CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// buildServer compiles this command into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "server")
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// instance is one server process.
type instance struct {
	name string
	base string
	cmd  *exec.Cmd
	logs *lockedWriter
	done chan struct{}
}

// startInstance runs the server binary and waits for its "listening"
// line, which names its address (it listens on a free port).
func startInstance(t *testing.T, name, bin string, args, env []string) *instance {
	t.Helper()
	in := &instance{name: name, logs: &lockedWriter{b: &strings.Builder{}}, done: make(chan struct{})}
	in.cmd = exec.Command(bin, args...)
	in.cmd.Env = append(os.Environ(), env...)
	stderr, err := in.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	in.cmd.Stdout = in.logs
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = in.logs.Write(line)
			_, _ = in.logs.Write([]byte{'\n'})
			var rec struct{ Msg, URL string }
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "listening" {
				select {
				case urls <- rec.URL:
				default:
				}
			}
		}
		_ = in.cmd.Wait()
		close(in.done)
	}()
	t.Cleanup(func() {
		_ = in.cmd.Process.Signal(os.Interrupt)
		select {
		case <-in.done:
		case <-time.After(15 * time.Second):
			_ = in.cmd.Process.Kill()
			<-in.done
			t.Errorf("%s did not stop in 15s", name)
		}
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, tail(in.logs.String(), 60))
		}
	})
	select {
	case in.base = <-urls:
	case <-in.done:
		t.Fatalf("%s exited: %s", name, in.logs.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not listen in 15s: %s", name, in.logs.String())
	}
	return in
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

var httpc = &http.Client{Timeout: 10 * time.Second}

// postSync sends POST /salesforce-sync and returns the status and the
// job id of the answer: the new job (202), or the running one (409).
func (in *instance) postSync(t *testing.T, body string) (int, string) {
	resp, err := httpc.Post(in.base+"/salesforce-sync", "application/json", strings.NewReader(body))
	if err != nil {
		t.Errorf("%s: POST /salesforce-sync: %v", in.name, err)
		return 0, ""
	}
	defer resp.Body.Close()
	var out struct {
		ID    string `json:"id"`
		Error string `json:"error"`
		Job   struct {
			ID string `json:"id"`
		} `json:"job"`
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Errorf("%s: POST /salesforce-sync: %s: %v in %s", in.name, resp.Status, err, b)
	}
	switch resp.StatusCode {
	case http.StatusAccepted:
		return resp.StatusCode, out.ID
	case http.StatusConflict:
		if !strings.Contains(out.Error, "already running") {
			t.Errorf("%s: 409 without a clear error: %s", in.name, b)
		}
		return resp.StatusCode, out.Job.ID
	}
	t.Errorf("%s: POST /salesforce-sync: %s %s", in.name, resp.Status, b)
	return resp.StatusCode, ""
}

// job reads GET /salesforce-sync/{id}.
func (in *instance) job(t *testing.T, id string) jobJSON {
	t.Helper()
	j, err := in.readJob(id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func (in *instance) readJob(id string) (jobJSON, error) {
	var j jobJSON
	resp, err := httpc.Get(in.base + "/salesforce-sync/" + id)
	if err != nil {
		return j, fmt.Errorf("%s: GET job: %v", in.name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &j) != nil || j.ID != id {
		return j, fmt.Errorf("%s: GET /salesforce-sync/%s: %s %s", in.name, id, resp.Status, b)
	}
	return j, nil
}

// waitJob polls the job on in until it ends.
func (in *instance) waitJob(t *testing.T, id string, within time.Duration) jobJSON {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		j := in.job(t, id)
		if j.State != store.JobQueued && j.State != store.JobRunning {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: job %s still %s after %v", in.name, id, j.State, within)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (in *instance) status(t *testing.T) status {
	t.Helper()
	var s status
	resp, err := httpc.Get(in.base + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// multiFields are the Outbound Message field lists of the test (by
// object, as -outbound-fields Object:Field,...).
var multiFields = map[string][]string{
	"Account":    {"Id", "Name", "Phone", "Industry", "Rating", "LastModifiedDate", "SystemModstamp"},
	"Contact":    {"Id", "FirstName", "LastName", "Email", "Title", "LastModifiedDate", "SystemModstamp"},
	"Invoice__c": {"Id", "Name", "Status__c", "Amount__c", "LastModifiedDate", "SystemModstamp"},
}

// TestTwoInstancesOnePostgres runs two server processes on one
// PostgreSQL schema against one fake org: it connects the org through
// one, sends both webhooks and sync requests at once while the org
// changes (and its access tokens expire, with rotating refresh tokens),
// and checks that the local data equals the org's, that no two syncs of
// the org overlapped, that a sync request to the idle instance is
// refused with the other's running job, that any instance answers for
// any job, and that the instances do not both run the scheduled syncs.
func TestTwoInstancesOnePostgres(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	bin := buildServer(t)

	sf := sftest.NewServer(sftest.Options{Records: 30, OutboundTimeScale: 0.001, RotateRefreshTokens: true,
		Start: time.Now().UTC()})
	t.Cleanup(sf.Close)
	fitValues(t, sf.Org)

	key, err := oauth.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	const interval = time.Second
	args := []string{"-addr", "127.0.0.1:0", "-client-id", sf.ClientID(), "-login-url", sf.URL,
		"-db-schema", schema, "-objects", "Account,Contact,Invoice__c", "-interval", interval.String(),
		"-log-format", "json", "-log-level", "debug"}
	for o, f := range multiFields {
		args = append(args, "-outbound-fields", o+":"+strings.Join(f, ","))
	}
	env := []string{"SFSYNC_CLIENT_SECRET=" + sf.ClientSecret(),
		"SFSYNC_KEY=" + base64.StdEncoding.EncodeToString(key.Secret)}
	// One takes the database from -db, the other from SFSYNC_DB.
	a := startInstance(t, "A", bin, append([]string{"-db", dsn}, args...), env)
	b := startInstance(t, "B", bin, args, append(env, "SFSYNC_DB="+dsn))
	instances := []*instance{a, b}
	// Every change goes to both instances, except those of one Account,
	// which go through a proxy to A and then again, the same message, to
	// B: a retry that the load balancer sent elsewhere.
	dupID := sf.Org.Records("Account", false)[0]["Id"].(string)
	for _, in := range instances {
		for o, f := range multiFields {
			sf.AddOutboundMessage(sftest.OutboundMessage{Name: strings.ToLower(in.name) + "_" + o, Object: o,
				Fields: f, EndpointURL: in.base + "/webhook", Criteria: func(rec map[string]any) bool { return rec["Id"] != dupID }})
		}
	}
	var replayed atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		forward := func(base string) (int, []byte, error) {
			req, _ := http.NewRequest(http.MethodPost, base+"/webhook", bytes.NewReader(body))
			req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
			req.Header.Set("SOAPAction", r.Header.Get("SOAPAction"))
			resp, err := httpc.Do(req)
			if err != nil {
				return 0, nil, err
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, b, nil
		}
		code, ack, err := forward(a.base)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if code == http.StatusOK {
			if code2, _, err := forward(b.base); err != nil || code2 != http.StatusOK {
				t.Errorf("the replay to B: %d, %v", code2, err)
			}
			replayed.Add(1)
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(code)
		_, _ = w.Write(ack)
	}))
	t.Cleanup(proxy.Close)
	sf.AddOutboundMessage(sftest.OutboundMessage{Name: "dup_Account", Object: "Account", Fields: multiFields["Account"],
		EndpointURL: proxy.URL, Criteria: func(rec map[string]any) bool { return rec["Id"] == dupID }})

	st, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema), postgres.WithMaxConns(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	org := sf.Org.ID()

	// Connect once, through A: A's callback starts the first full sync.
	// The org answers slowly for a while, so that the sync is surely
	// running when B is asked for one.
	sf.SetLatency(150 * time.Millisecond)
	connect(t, a.base, sf)
	first := waitStoreJob(t, st, org)
	code, id := b.postSync(t, `{}`)
	if code != http.StatusConflict || id != first.ID {
		t.Fatalf("B during A's first sync %s: %d with job %q, want 409 with A's job", first.ID, code, id)
	}
	if j := b.job(t, first.ID); j.State != store.JobQueued && j.State != store.JobRunning {
		t.Fatalf("B reads A's running job as %s", j.State)
	}
	sf.SetLatency(0)
	if j := a.waitJob(t, first.ID, 20*time.Second); j.State != store.JobSucceeded {
		t.Fatalf("first sync: %+v", j)
	}
	// B reads the Store, which has the final record a moment after A's
	// memory does.
	if j := b.waitJob(t, first.ID, 5*time.Second); j.State != store.JobSucceeded || j.FinishedAt == nil {
		t.Fatalf("B reads the finished first sync as %+v", j)
	}

	// Changes in the org, webhooks to both instances, sync requests to
	// both at once, expiring access tokens.
	ctx, stop := context.WithTimeout(context.Background(), 3*time.Second)
	defer stop()
	var wg sync.WaitGroup
	var changes, expiries atomic.Int64
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			if err := change(sf.Org, dupID); err != nil {
				t.Errorf("change: %v", err)
				return
			}
			changes.Add(1)
			if i%60 == 59 {
				sf.ExpireAccessTokens()
				expiries.Add(1)
			}
			time.Sleep(15 * time.Millisecond)
		}
	})
	var mu sync.Mutex
	answers := map[int]int{}
	var started []string
	for i, in := range instances {
		other := instances[1-i]
		wg.Go(func() {
			for ctx.Err() == nil {
				mode := ""
				if mrand.IntN(8) == 0 {
					mode = `"mode":"full"`
				}
				code, id := in.postSync(t, "{"+mode+"}")
				mu.Lock()
				answers[code]++
				if code == http.StatusAccepted {
					started = append(started, id)
				}
				mu.Unlock()
				if id != "" { // any instance knows every job
					if _, err := other.readJob(id); err != nil {
						t.Error(err)
					}
				}
				time.Sleep(time.Duration(20+mrand.IntN(40)) * time.Millisecond)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := sf.WaitOutbound(wctx); err != nil {
		t.Fatalf("outbound deliveries: %v", err)
	}
	// A last incremental sync, through B, sees the deletes (webhooks do
	// not carry them) once the org's clock (its Date header) is past the
	// engine's lag (sfsync.DefaultLag) after the last change.
	sf.Org.Advance(2 * time.Minute)
	final := ""
	for deadline := time.Now().Add(20 * time.Second); final == ""; {
		code, id := b.postSync(t, `{}`)
		if code == http.StatusAccepted {
			final = id
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no final sync started: last answer %d", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if j := a.waitJob(t, final, 20*time.Second); j.State != store.JobSucceeded {
		t.Fatalf("final sync: %+v", j)
	}
	t.Logf("%d changes; sync requests answered %v; %d started", changes.Load(), answers, len(started))
	if answers[http.StatusAccepted] == 0 || answers[http.StatusConflict] == 0 {
		t.Errorf("answers %v: want both started and refused syncs", answers)
	}

	// A quiet while: only the scheduled syncs run, at most one per
	// interval for both instances together.
	quietFrom := time.Now().UTC()
	time.Sleep(5 * interval)
	quietTo := time.Now().UTC()
	waitIdleStore(t, st, org)

	jobs, err := st.Jobs(context.Background(), store.JobFilter{OrgID: org})
	if err != nil {
		t.Fatal(err)
	}
	scheduled := 0
	for _, j := range jobs {
		if !j.CreatedAt.Before(quietFrom) && j.CreatedAt.Before(quietTo) {
			scheduled++
		}
	}
	// Each scheduled sync waits an interval after the newest one, of
	// either instance: at most one more than the intervals in the window.
	if limit := int(quietTo.Sub(quietFrom)/interval) + 1; scheduled > limit {
		t.Errorf("%d scheduled syncs in %v with a %v interval on two instances (at most %d): duplicated",
			scheduled, quietTo.Sub(quietFrom).Round(time.Millisecond), interval, limit)
	}
	if scheduled == 0 {
		t.Errorf("no scheduled sync ran in %v", quietTo.Sub(quietFrom))
	}
	t.Logf("%d jobs in all, %d scheduled in the quiet %v", len(jobs), scheduled, quietTo.Sub(quietFrom).Round(time.Millisecond))
	checkNoOverlap(t, jobs)
	for _, id := range started {
		if !slices.ContainsFunc(jobs, func(j *store.Job) bool { return j.ID == id }) {
			t.Errorf("job %s answered 202 is not in the Store", id)
		}
	}

	for _, in := range instances {
		s := in.status(t)
		if s.Webhooks.Messages == 0 || s.Webhooks.Failed != 0 {
			t.Errorf("%s webhooks: %+v", in.name, s.Webhooks)
		}
	}
	for _, d := range sf.Deliveries() {
		if !d.Acked && d.Err != "" {
			t.Errorf("delivery %s not acknowledged: %s", d.ActionID, d.Err)
			break
		}
	}
	// The first token call is the login's code grant; the others are
	// refreshes after ExpireAccessTokens, each spending a rotating
	// refresh token once: a second instance spending the same one would
	// get invalid_grant and its connection would need a new login.
	switch n := sf.Calls()["token"]; {
	case n < 2:
		t.Errorf("%d token calls: the test expired no session", n)
	case n-1 > int(expiries.Load()):
		t.Errorf("%d refreshes for %d expired sessions: the instances refreshed more than once", n-1, expiries.Load())
	default:
		t.Logf("%d token calls: one login, %d refreshes for %d expired sessions", n, n-1, expiries.Load())
	}
	conn, err := st.Connection(context.Background(), org)
	if err != nil || conn.Status == store.StatusLoginRequired {
		t.Fatalf("connection after concurrent refreshes: %+v, %v", conn, err)
	}
	for o := range multiFields {
		assertSame(t, st, sf, o)
	}

	// The replayed messages: B acknowledged them and applied nothing: A's
	// receipts in the shared Store told it they were applied.
	if replayed.Load() == 0 {
		t.Fatal("no message went through the replaying proxy")
	}
	before := [2]status{a.status(t), b.status(t)}
	if err := sf.Org.Update("Account", dupID, map[string]any{"Phone": "+1 555 0000"}); err != nil {
		t.Fatal(err)
	}
	n := replayed.Load()
	for deadline := time.Now().Add(10 * time.Second); replayed.Load() == n; {
		if time.Now().After(deadline) {
			t.Fatal("the last change was not replayed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	after := [2]status{a.status(t), b.status(t)}
	applied := func(s status) int64 { return s.Webhooks.Direct + s.Webhooks.Reread }
	// B acknowledged (the proxy checks) and counted nothing: the handler
	// finds every notification applied and leaves the engine out.
	if applied(after[0]) != applied(before[0])+1 || after[1].Webhooks.Messages != before[1].Webhooks.Messages ||
		applied(after[1]) != applied(before[1]) {
		t.Errorf("a message to A then to B: A %+v -> %+v, B %+v -> %+v; want A to apply it and B to skip it",
			before[0].Webhooks, after[0].Webhooks, before[1].Webhooks, after[1].Webhooks)
	}
	t.Logf("%d messages replayed from A to B", replayed.Load())
}

// TestTwoManagersRefreshOnce: two oauth.Managers (two instances) on one
// PostgreSQL schema, many requests through each after the session
// expired, with rotating refresh tokens: one refresh in all, and every
// request succeeds (a refresh token spent twice would fail the second).
func TestTwoManagersRefreshOnce(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	sf := sftest.NewServer(sftest.Options{RotateRefreshTokens: true})
	t.Cleanup(sf.Close)
	key, err := oauth.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := oauth.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth.Config{ClientID: sf.ClientID(), ClientSecret: sf.ClientSecret(), LoginURL: sf.URL,
		RedirectURL: "http://127.0.0.1/callback"}
	var mgrs []*oauth.Manager
	for range 2 {
		st, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema), postgres.WithMaxConns(4))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		mgrs = append(mgrs, oauth.NewManager(cfg, st, sealer))
	}
	access, refresh := sf.NewSession()
	org := sf.Org.ID()
	if err := mgrs[0].Save(context.Background(), &oauth.Connection{OrgID: org, UserID: sf.Org.UserID(),
		Username: sf.Username(), InstanceURL: sf.URL, LoginURL: sf.URL, IssuedAt: time.Now(),
		Status: store.StatusActive, AccessToken: oauth.Secret(access), RefreshToken: oauth.Secret(refresh)}); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		sf.ExpireAccessTokens()
		sf.ResetCalls()
		var wg sync.WaitGroup
		for i := range 16 {
			m := mgrs[i%2]
			wg.Go(func() {
				hc, err := m.Client(context.Background(), org)
				if err != nil {
					t.Errorf("client: %v", err)
					return
				}
				resp, err := hc.Get(sf.URL + "/services/data/v64.0/limits")
				if err != nil {
					t.Errorf("round %d: %v", round, err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("round %d: %s", round, resp.Status)
				}
			})
		}
		wg.Wait()
		if n := sf.Calls()["token"]; n != 1 {
			t.Errorf("round %d: %d refreshes by two Managers, want 1", round, n)
		}
	}
}

// connect completes the OAuth flow through base without a browser.
func connect(t *testing.T, base string, sf *sftest.Server) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(base + "/connect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, err := sf.Authorize(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = hc.Get(cb)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("callback: %s", resp.Status)
	}
}

// waitStoreJob waits for the first job of org to appear in the Store.
func waitStoreJob(t *testing.T, st store.Store, org string) *store.Job {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		jobs, err := st.Jobs(context.Background(), store.JobFilter{OrgID: org})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) > 0 {
			return jobs[len(jobs)-1]
		}
		if time.Now().After(deadline) {
			t.Fatal("no job after connecting")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitIdleStore waits until no job of org is queued or running.
func waitIdleStore(t *testing.T, st store.Store, org string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; {
		busy := 0
		for _, s := range []store.JobState{store.JobQueued, store.JobRunning} {
			jobs, err := st.Jobs(context.Background(), store.JobFilter{OrgID: org, State: s})
			if err != nil {
				t.Fatal(err)
			}
			busy += len(jobs)
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs still running", busy)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// checkNoOverlap fails unless every job ended, succeeded, and ran
// (StartedAt to FinishedAt) after the previous one finished.
func checkNoOverlap(t *testing.T, jobs []*store.Job) {
	t.Helper()
	ran := slices.Clone(jobs)
	slices.SortFunc(ran, func(x, y *store.Job) int { return x.StartedAt.Compare(y.StartedAt) })
	for i, j := range ran {
		if j.State != store.JobSucceeded {
			t.Errorf("job %s %s: %q", j.ID, j.State, j.Error)
		}
		if j.StartedAt.IsZero() || j.FinishedAt.Before(j.StartedAt) {
			t.Errorf("job %s ran from %v to %v", j.ID, j.StartedAt, j.FinishedAt)
		}
		if i > 0 && j.StartedAt.Before(ran[i-1].FinishedAt) {
			t.Errorf("jobs overlap: %s ran %v to %v, %s started %v", ran[i-1].ID,
				ran[i-1].StartedAt.Format(time.StampMicro), ran[i-1].FinishedAt.Format(time.StampMicro),
				j.ID, j.StartedAt.Format(time.StampMicro))
		}
	}
}

// change makes one random change in the org: mostly an update of a field
// the webhooks carry, sometimes a new record or a delete.
func change(o *sftest.Org, keep string) error {
	if now := time.Now().UTC(); now.After(o.Now()) {
		o.SetNow(now)
	} else {
		o.Advance(time.Millisecond)
	}
	objects := []string{"Account", "Contact", "Invoice__c"}
	object := objects[mrand.IntN(len(objects))]
	recs := o.Records(object, false)
	switch n := mrand.IntN(12); {
	case n == 0 || len(recs) < 5:
		_, err := o.Generate(object, 1)
		if err == nil && object == "Account" {
			fitValues(nil, o)
		}
		return err
	case n == 1:
		if id := recs[mrand.IntN(len(recs))]["Id"].(string); id != keep {
			return o.Delete(object, id)
		}
		return nil
	case n == 2 && object == "Account":
		recs = []map[string]any{{"Id": keep}}
	}
	id := recs[mrand.IntN(len(recs))]["Id"].(string)
	var fields map[string]any
	switch object {
	case "Account":
		fields = map[string]any{"Phone": fmt.Sprintf("+1 555 %04d", mrand.IntN(10000)),
			"Rating": []any{"Hot", "Warm", "Cold", nil}[mrand.IntN(4)]}
	case "Contact":
		fields = map[string]any{"Title": []any{"CEO", "CFO", "VP Sales", "Engineer", nil}[mrand.IntN(5)]}
	default:
		fields = map[string]any{"Amount__c": float64(mrand.IntN(1000000)) / 100}
	}
	return o.Update(object, id, fields)
}

// fitValues corrects generated values that Salesforce itself would
// refuse (NumberofLocations__c, a double of precision 3, of 1000 or
// more), which the engine leaves out of the local row.
func fitValues(t *testing.T, o *sftest.Org) {
	for _, r := range o.Records("Account", true) {
		if v, ok := r["NumberofLocations__c"].(float64); ok && v > 999 {
			if err := o.Update("Account", r["Id"].(string), map[string]any{"NumberofLocations__c": 999.0}); err != nil && t != nil {
				t.Fatal(err)
			}
		}
	}
}

// assertSame fails unless the live local rows of object equal the org's
// records: the same Ids, and each stored column equal to the org's value
// (calculated fields, which follow the clock, and compound ones aside).
func assertSame(t *testing.T, st store.Store, sf *sftest.Server, object string) {
	t.Helper()
	org := sf.Org.ID()
	want := sf.Org.Records(object, false)
	rows, err := st.ReadRows(context.Background(), store.ReadQuery{OrgID: org, Object: object})
	if err != nil {
		t.Fatalf("read %s: %v", object, err)
	}
	byID := map[string]store.Row{}
	var gotIDs, wantIDs []string
	for _, r := range rows {
		byID[r.ID] = r
		gotIDs = append(gotIDs, r.ID)
	}
	for _, w := range want {
		wantIDs = append(wantIDs, w["Id"].(string))
	}
	slices.Sort(gotIDs)
	slices.Sort(wantIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		var extra, missing []string
		for _, id := range gotIDs {
			if !slices.Contains(wantIDs, id) {
				r, _ := sf.Org.Get(object, id)
				extra = append(extra, fmt.Sprintf("%s (deleted in the org: %v, at %v; local SystemModstamp %v)",
					id, r["IsDeleted"], r["SystemModstamp"], byID[id].Values["SystemModstamp"]))
			}
		}
		for _, id := range wantIDs {
			if !slices.Contains(gotIDs, id) {
				missing = append(missing, id)
			}
		}
		ss, _ := st.SyncState(context.Background(), org, object)
		t.Fatalf("%s: %d local rows, %d in the org; only local: %v; only in the org: %v; sync state %+v; now %v", object, len(gotIDs), len(wantIDs), extra, missing, ss, time.Now().UTC())
	}
	calc := calculatedFields(t, sf, object)
	bad, compared := 0, 0
	for _, w := range want {
		id := w["Id"].(string)
		for name, wv := range w {
			gv, ok := byID[id].Values[name]
			if !ok || calc[name] {
				continue
			}
			compared++
			if !sameValue(wv, gv) {
				if bad++; bad <= 10 {
					t.Errorf("%s %s %s: local %#v, org %#v", object, id, name, gv, wv)
				}
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d values differ", object, bad)
	}
	if compared < 5*len(want) {
		t.Fatalf("%s: only %d values compared for %d records", object, compared, len(want))
	}
}

// calculatedFields describes object at the fake org.
func calculatedFields(t *testing.T, sf *sftest.Server, object string) map[string]bool {
	t.Helper()
	access, _ := sf.NewSession()
	req, _ := http.NewRequest(http.MethodGet, sf.URL+"/services/data/v64.0/sobjects/"+object+"/describe", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Fields []struct {
			Name       string `json:"name"`
			Calculated bool   `json:"calculated"`
		} `json:"fields"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || len(d.Fields) == 0 {
		t.Fatalf("describe %s: %s, %v", object, resp.Status, err)
	}
	out := map[string]bool{}
	for _, f := range d.Fields {
		out[f.Name] = f.Calculated
	}
	return out
}

// sameValue compares a fake org's value with a stored one.
func sameValue(org, local any) bool {
	switch o := org.(type) {
	case nil:
		return local == nil
	case map[string]any:
		return true // compound: its components are columns of their own
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
	case int:
		return sameValue(int64(o), local)
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

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestLeaseHeldForWholeJob: a sync lasting many lease lifetimes (the
// Store renews the lease) keeps a second engine on the same PostgreSQL
// schema out from its start to its end, and the org is free at once
// after it.
func TestLeaseHeldForWholeJob(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	sf := sftest.NewServer(sftest.Options{Records: 20})
	t.Cleanup(sf.Close)
	key, err := oauth.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := oauth.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 250 * time.Millisecond
	var syncers []*sfsync.Syncer
	for i := range 2 {
		st, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema), postgres.WithMaxConns(4))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		mgr := oauth.NewManager(oauth.Config{ClientID: sf.ClientID(), ClientSecret: sf.ClientSecret(),
			LoginURL: sf.URL, RedirectURL: "http://127.0.0.1/callback"}, st, sealer)
		if i == 0 {
			access, refresh := sf.NewSession()
			if err := mgr.Save(context.Background(), &oauth.Connection{OrgID: sf.Org.ID(), UserID: sf.Org.UserID(),
				Username: sf.Username(), InstanceURL: sf.URL, LoginURL: sf.URL, IssuedAt: time.Now(),
				Status: store.StatusActive, AccessToken: oauth.Secret(access), RefreshToken: oauth.Secret(refresh)}); err != nil {
				t.Fatal(err)
			}
		}
		s, err := sfsync.New(sfsync.Config{Store: st, Connections: mgr, Objects: []string{"Account", "Contact", "Invoice__c"},
			LockTTL: ttl, Concurrency: 1, BatchSize: 5, QueryBatchSize: 200})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		syncers = append(syncers, s)
	}
	ctx := context.Background()
	org := sf.Org.ID()
	sf.SetLatency(150 * time.Millisecond) // the sync takes many lease lifetimes
	job, err := syncers[0].Start(ctx, sfsync.Request{OrgID: org, Mode: sfsync.ModeFull})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _, _ = syncers[0].Wait(ctx, job.ID); close(done) }()
	tries := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
			continue
		default:
		}
		other, err := syncers[1].Start(ctx, sfsync.Request{OrgID: org})
		tries++
		if !errors.Is(err, sfsync.ErrBusy) {
			select {
			case <-done: // it ended between the check and the start
				running = false
				if err == nil {
					_, _ = syncers[1].Wait(ctx, other.ID)
				}
				continue
			default:
			}
			t.Fatalf("try %d: the second engine started (%v) while job %s runs", tries, err, job.ID)
		}
		if other != nil && other.ID != job.ID {
			t.Fatalf("busy with job %s, want %s", other.ID, job.ID)
		}
		time.Sleep(ttl / 4)
	}
	fin, err := syncers[0].Job(ctx, job.ID)
	if err != nil || fin.State != store.JobSucceeded {
		t.Fatalf("job %+v, %v", fin, err)
	}
	if took := fin.FinishedAt.Sub(fin.StartedAt); took < 3*ttl {
		t.Fatalf("the job took %v, not several lease lifetimes (%v): the test proves nothing", took, ttl)
	}
	t.Logf("job took %v (lease %v); the second engine was refused %d times", fin.FinishedAt.Sub(fin.StartedAt).Round(time.Millisecond), ttl, tries)
	sf.SetLatency(0)
	next, err := syncers[1].Sync(ctx, sfsync.Request{OrgID: org})
	if err != nil || next.State != store.JobSucceeded {
		t.Fatalf("the second engine after the job: %+v, %v", next, err)
	}
}
