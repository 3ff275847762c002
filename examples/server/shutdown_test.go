package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/sqlite"
)

// TestShutdownSignal runs the built server binary, sends SIGTERM
// while a full sync runs and a webhook request is in flight, and checks
// that the process exits 0, the webhook got its ack, and the sync
// stopped at a saved checkpoint in a Store that was closed cleanly.
func TestShutdownSignal(t *testing.T) {
	const accounts = 8000
	sf := sftest.NewServer(sftest.Options{RecordsPer: map[string]int{"Account": accounts}, Records: 1,
		OutboundTimeScale: 0.001, Start: time.Now().UTC()})
	defer sf.Close()

	// A real Outbound Message body for the org, captured from the fake
	// org's delivery and replayed to the server slowly below.
	bodies := make(chan []byte, 16)
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case bodies <- b:
		default:
		}
		http.Error(w, "not now", http.StatusServiceUnavailable)
	}))
	defer capture.Close()
	sf.AddOutboundMessage(sftest.OutboundMessage{Name: "acct", Object: "Account",
		Fields: []string{"Id", "Name", "Phone", "SystemModstamp"}, EndpointURL: capture.URL})
	acct := sf.Org.Records("Account", false)[0]["Id"].(string)
	sf.Org.SetNow(time.Now().UTC())
	if err := sf.Org.Update("Account", acct, map[string]any{"Phone": "+1 555 0142"}); err != nil {
		t.Fatal(err)
	}
	var soap []byte
	select {
	case soap = <-bodies:
	case <-time.After(10 * time.Second):
		t.Fatal("no outbound message captured")
	}

	key, err := oauth.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "sfsync.db")
	addr := freeAddr(t)
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	bin := buildServer(t)
	cmd := exec.CommandContext(ctx, bin, "-addr", addr, "-login-url", sf.URL, "-db", db,
		"-objects", "Account", "-bulk-threshold", "-1", "-interval", "1h", "-log-format", "json")
	cmd.Env = append(os.Environ(),
		"SFSYNC_CLIENT_ID="+sf.ClientID(),
		"SFSYNC_CLIENT_SECRET="+sf.ClientSecret(),
		"SFSYNC_KEY="+base64.StdEncoding.EncodeToString(key.Secret))
	var logs lockedWriter
	logs.b = &strings.Builder{}
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server output:\n%s", logs.String())
		}
	}()
	waitHealthy(t, base, exited)

	// Connect; the first full sync starts. Each page is slowed so that it
	// is still running when the signal comes.
	sf.SetLatency(400 * time.Millisecond)
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
	if resp, err = hc.Get(cb); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("callback: %s", resp.Status)
	}
	// Wait until the full sync committed some rows but not all.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var s status
		getStatus(t, base, &s)
		if len(s.Running) == 1 && len(s.Running[0].Progress) == 1 && s.Running[0].Progress[0].Done > 0 {
			if s.Running[0].Progress[0].Done >= accounts {
				t.Fatal("the sync finished before the signal; slow it down")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress: %+v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A webhook request whose body arrives in two parts, around the signal.
	pr, pw := io.Pipe()
	type result struct {
		code int
		body string
		err  error
	}
	webhook := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"/webhook", pr)
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("SOAPAction", `""`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			webhook <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		webhook <- result{code: resp.StatusCode, body: string(b)}
	}()
	half := len(soap) / 2
	if _, err := pw.Write(soap[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server is reading the body

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	// The listener is closed: a new request is refused.
	if _, err := (&http.Client{Timeout: 2 * time.Second}).Get(base + "/healthz"); err == nil {
		t.Error("a new request was served after SIGTERM")
	}
	if _, err := pw.Write(soap[half:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()

	select {
	case r := <-webhook:
		if r.err != nil || r.code != http.StatusOK || !strings.Contains(r.body, "<Ack>true</Ack>") {
			t.Fatalf("in-flight webhook: %d %q %v", r.code, r.body, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the in-flight webhook got no answer")
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) || err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("the server did not exit after SIGTERM")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Error("no \"stopped\" log line")
	}

	// The Store was closed (it opens again) and holds the checkpoint.
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	org := sf.Org.ID()
	ss, err := st.SyncState(context.Background(), org, "Account")
	if err != nil {
		t.Fatal(err)
	}
	n, err := st.Count(context.Background(), org, "Account", false)
	if err != nil {
		t.Fatal(err)
	}
	if ss.Checkpoint == "" || n == 0 || n >= accounts || !ss.Watermark.IsZero() {
		t.Fatalf("after the interrupted full sync: checkpoint %q, %d rows, watermark %v", ss.Checkpoint, n, ss.Watermark)
	}
	jobs, err := st.Jobs(context.Background(), store.JobFilter{OrgID: org})
	if err != nil || len(jobs) != 1 || jobs[0].State != store.JobCanceled {
		t.Fatalf("jobs after shutdown: %v %+v", err, jobs)
	}
	// The webhook's receipt was recorded and its row written.
	rows, err := st.ReadRows(context.Background(), store.ReadQuery{OrgID: org, Object: "Account"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range rows {
		if r.ID == acct {
			found = r.Values["Phone"] == "+1 555 0142"
		}
	}
	if !found {
		t.Errorf("the webhook's update of %s is not in the Store", acct)
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l := httptest.NewServer(http.NotFoundHandler())
	addr := l.Listener.Addr().String()
	l.Close()
	return addr
}

func waitHealthy(t *testing.T, base string, exited <-chan error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("server exited at start: %v", err)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server not healthy in 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getStatus(t *testing.T, base string, out *status) {
	t.Helper()
	resp, err := http.Get(base + "/api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/api/status: %s %s", resp.Status, b)
	}
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(out); err != nil {
		t.Fatal(fmt.Errorf("/api/status: %w", err))
	}
}
