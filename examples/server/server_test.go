package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
)

// testServer is the reference server run in process against sftest.
type testServer struct {
	t    *testing.T
	sf   *sftest.Server
	app  *app
	base string
	stop context.CancelFunc
	done chan error
	logs *strings.Builder
}

func startServer(t *testing.T, sf *sftest.Server, extra ...string) *testServer {
	t.Helper()
	key, err := oauth.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SFSYNC_CLIENT_SECRET": sf.ClientSecret(),
		"SFSYNC_KEY":           base64.StdEncoding.EncodeToString(key.Secret),
	}
	args := append([]string{"-addr", "127.0.0.1:0", "-client-id", sf.ClientID(), "-login-url", sf.URL,
		"-db", filepath.Join(t.TempDir(), "sfsync.db"), "-interval", "1h", "-objects", "Account,Contact,Invoice__c",
		"-log-format", "json"}, extra...)
	cfg, err := parseConfig(args, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, sf: sf, done: make(chan error, 1), logs: &strings.Builder{}}
	cfg.logLevel = "debug"
	log := newLogger(cfg, &lockedWriter{b: ts.logs})
	ctx, cancel := context.WithCancel(context.Background())
	ts.stop = cancel
	ready := make(chan *app, 1)
	go func() { ts.done <- run(ctx, cfg, log, func(a *app) { ready <- a }) }()
	select {
	case ts.app = <-ready:
	case err := <-ts.done:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start in 10s")
	}
	ts.base = ts.app.baseURL
	t.Cleanup(func() { ts.shutdown() })
	return ts
}

func (ts *testServer) shutdown() {
	if ts.stop == nil {
		return
	}
	ts.stop()
	ts.stop = nil
	select {
	case err := <-ts.done:
		if err != nil {
			ts.t.Errorf("server stopped with %v", err)
		}
	case <-time.After(20 * time.Second):
		ts.t.Error("server did not stop in 20s")
	}
}

// connect completes the OAuth flow without a browser.
func (ts *testServer) connect() {
	ts.t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(ts.base + "/connect")
	if err != nil {
		ts.t.Fatal(err)
	}
	resp.Body.Close()
	cb, err := ts.sf.Authorize(resp.Header.Get("Location"))
	if err != nil {
		ts.t.Fatal(err)
	}
	resp, err = hc.Get(cb)
	if err != nil {
		ts.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		ts.t.Fatalf("callback: %s", resp.Status)
	}
}

// waitIdle waits until no job runs and at least n jobs finished.
func (ts *testServer) waitIdle(n int) status {
	ts.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var s status
		ts.getJSON("/api/status", http.StatusOK, &s)
		finished := 0
		for _, j := range s.Recent {
			if j.State != store.JobQueued && j.State != store.JobRunning {
				finished++
			}
		}
		if len(s.Running) == 0 && finished >= n {
			return s
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("jobs still running: %+v", s.Running)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (ts *testServer) getJSON(path string, want int, out any) {
	ts.t.Helper()
	resp, err := http.Get(ts.base + path)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		ts.t.Fatalf("GET %s: %s %s, want %d", path, resp.Status, body, want)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			ts.t.Fatalf("GET %s: %v in %s", path, err, body)
		}
	}
}

func (ts *testServer) post(path, ctype, body string) (int, map[string]any) {
	ts.t.Helper()
	resp, err := http.Post(ts.base+path, ctype, strings.NewReader(body))
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func TestServerFlow(t *testing.T) {
	sf := sftest.NewServer(sftest.Options{Records: 25, OutboundTimeScale: 0.001, Start: time.Now().UTC()})
	defer sf.Close()
	ts := startServer(t, sf)

	var s status
	ts.getJSON("/healthz", http.StatusOK, nil)
	ts.getJSON("/api/status", http.StatusOK, &s)
	if len(s.Orgs) != 0 {
		t.Fatalf("orgs before connect: %+v", s.Orgs)
	}

	// Connecting starts the first full sync.
	ts.connect()
	s = ts.waitIdle(1)
	if len(s.Orgs) != 1 || s.Orgs[0].OrgID != sf.Org.ID() {
		t.Fatalf("orgs after connect: %+v", s.Orgs)
	}
	if s.Recent[0].State != store.JobSucceeded || s.Recent[0].Mode != "full" {
		t.Fatalf("first sync: %+v", s.Recent[0])
	}
	rows := map[string]int64{}
	for _, o := range s.Orgs[0].Objects {
		rows[o.Name] = o.Rows
		if o.Fields == 0 || o.LastSync == nil || o.Watermark == nil {
			t.Errorf("object status %+v", o)
		}
		if o.Name == "Invoice__c" && (!o.Custom || o.CustomFields == 0 || o.CustomFields >= o.Fields) {
			t.Errorf("custom field count of %+v", o)
		}
	}
	for _, o := range []string{"Account", "Contact", "Invoice__c"} {
		if rows[o] != int64(sf.Org.Count(o, false)) {
			t.Errorf("%s: %d rows on the status page, the org has %d", o, rows[o], sf.Org.Count(o, false))
		}
	}

	t.Run("sync API", func(t *testing.T) {
		ts.t = t
		tests := []struct {
			name, ctype, body string
			status            int
			errHas            string
		}{
			{"bad JSON", "application/json", `{"mode":`, 400, "truncated"},
			{"unknown field", "application/json", `{"org":"x"}`, 400, `"org"`},
			{"bad mode", "application/json", `{"mode":"sometimes"}`, 400, "mode"},
			{"objects not a list", "application/json", `{"objects":"Account"}`, 400, "objects"},
			{"bad object name", "application/json", `{"objects":["Acc;ount"]}`, 400, "object name"},
			{"bad org id", "application/json", `{"orgId":"nope"}`, 400, "org id"},
			{"unknown org", "application/json", `{"orgId":"00D000000000001"}`, 404, "not connected"},
			{"wrong content type", "text/plain", `{}`, 400, "content type"},
			{"not an object", "application/json", `["Account"]`, 400, "want a JSON object"},
			{"orgId not a string", "application/json", `{"orgId":5}`, 400, "orgId"},
			{"mode not a string", "application/json", `{"mode":true}`, 400, "mode"},
			{"object not a string", "application/json", `{"objects":[1]}`, 400, "objects"},
			{"two values", "application/json", `{}{}`, 400, "more than one"},
			{"empty object name", "application/json", `{"objects":[""]}`, 400, "object name"},
			{"unknown object", "application/json", `{"objects":["Acount"]}`, 400, `"Acount"`},
			{"unknown object in a form", "application/x-www-form-urlencoded", `objects=Nope__c`, 400, `"Nope__c"`},
			{"bad mode in a form", "application/x-www-form-urlencoded", `mode=sometimes`, 400, "mode"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ts.t = t
				code, out := ts.post("/salesforce-sync", tt.ctype, tt.body)
				msg, _ := out["error"].(string)
				if code != tt.status || !strings.Contains(msg, tt.errHas) {
					t.Fatalf("got %d %v, want %d with %q", code, out, tt.status, tt.errHas)
				}
			})
		}
		ts.t = t
		code, out := ts.post("/salesforce-sync", "application/json", `{"mode":"full","objects":["Account"]}`)
		if code != http.StatusAccepted || out["id"] == "" || out["state"] != "queued" {
			t.Fatalf("start: %d %v", code, out)
		}
		url, _ := out["url"].(string)
		if url != "/salesforce-sync/"+out["id"].(string) {
			t.Fatalf("job url %q", url)
		}
		ts.waitIdle(2)
		var job jobJSON
		ts.getJSON(url, http.StatusOK, &job)
		if job.State != store.JobSucceeded || job.Mode != "full" || len(job.Progress) != 1 || job.Progress[0].Done != int64(sf.Org.Count("Account", false)) {
			t.Fatalf("job %+v", job)
		}
		ts.getJSON("/salesforce-sync/nope", http.StatusNotFound, nil)
	})
	ts.t = t

	t.Run("webhook", func(t *testing.T) {
		ts.t = t
		sf.AddOutboundMessage(sftest.OutboundMessage{Name: "acct", Object: "Account",
			Fields: []string{"Id", "Name", "Phone", "SystemModstamp"}, EndpointURL: ts.base + "/webhook"})
		id := sf.Org.Records("Account", false)[0]["Id"].(string)
		sf.Org.SetNow(time.Now().UTC())
		if err := sf.Org.Update("Account", id, map[string]any{"Phone": "+1 555 0199"}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sf.WaitOutbound(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := ts.app.st.ReadRows(context.Background(), store.ReadQuery{OrgID: sf.Org.ID(), Object: "Account", AfterID: "", Limit: 0})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			if r.ID == id && r.Values["Phone"] != "+1 555 0199" {
				t.Fatalf("phone %v after the webhook", r.Values["Phone"])
			}
		}
		var s status
		ts.getJSON("/api/status", http.StatusOK, &s)
		if s.Webhooks.Messages == 0 {
			t.Fatalf("webhook counts %+v", s.Webhooks)
		}
	})
	ts.t = t

	t.Run("status page", func(t *testing.T) {
		resp, err := http.Get(ts.base + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{sf.Org.ID(), "admin@sftest.example", "Invoice__c", "Sync now", "Webhooks"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("status page lacks %q", want)
			}
		}
		if strings.Contains(strings.ToLower(string(body)), "<script") {
			t.Error("the status page has a script; it must work without JavaScript")
		}
		if !strings.Contains(string(body), `<form method="post" action="/salesforce-sync">`) {
			t.Error("the status page has no sync form")
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id")
		}
		// The page's form works without JavaScript.
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err = hc.PostForm(ts.base+"/salesforce-sync", map[string][]string{"orgId": {sf.Org.ID()}, "mode": {"incremental"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("form post: %s", resp.Status)
		}
		ts.waitIdle(3)
	})

	// No secret on the status page, in /api/status or in the logs.
	conn, err := ts.app.mgr.Connection(context.Background(), sf.Org.ID())
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{sf.ClientSecret(), ts.app.cfg.key, string(conn.AccessToken), string(conn.RefreshToken)}
	for _, path := range []string{"/", "/api/status"} {
		resp, err := http.Get(ts.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for i, secret := range secrets {
			if secret == "" {
				t.Fatalf("secret %d is empty", i)
			}
			if strings.Contains(string(body), secret) {
				t.Errorf("secret %d appears on %s", i, path)
			}
		}
	}
	ts.shutdown()
	logs := ts.logs.String()
	for i, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("secret %d appears in the logs", i)
		}
	}
	if !strings.Contains(logs, `"request_id"`) {
		t.Error("request lines carry no request_id")
	}
}

func TestConfigFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		err  string
	}{
		{"missing credentials", nil, nil, "missing -client-id, -client-secret, -key"},
		{"demo needs nothing", []string{"-demo"}, nil, ""},
		{"env", nil, map[string]string{"SFSYNC_CLIENT_ID": "a", "SFSYNC_CLIENT_SECRET": "b", "SFSYNC_KEY": "c"}, ""},
		{"bad duration", []string{"-demo"}, map[string]string{"SFSYNC_INTERVAL": "soon"}, "SFSYNC_INTERVAL"},
		{"bad reserve", []string{"-demo", "-limit-reserve", "2"}, nil, "limit-reserve"},
		{"bad log format", []string{"-demo", "-log-format", "xml"}, nil, "log-format"},
		{"bad log level", []string{"-demo", "-log-level", "loud"}, nil, "log-level"},
		{"bad boolean env", nil, map[string]string{"SFSYNC_DEMO": "yes"}, "SFSYNC_DEMO"},
		{"client ca alone", []string{"-demo", "-client-ca", "x.pem"}, nil, "client-ca"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err %v, want %q", err, tt.err)
			}
		})
	}
	var help strings.Builder
	_, err := parseConfig([]string{"-h"}, func(string) string { return "" }, &help)
	if err != flagHelp {
		t.Fatalf("-h: %v", err)
	}
	for _, f := range []string{"-client-id", "-client-secret", "-redirect-url", "-login-url", "-db", "-key", "-addr",
		"-objects", "-interval", "-outbound-fields", "-outbound-wsdl", "SFSYNC_KEY", "-demo-auto",
		"postgres://", "-db-schema", "SFSYNC_DB_SCHEMA"} {
		if !strings.Contains(help.String(), f) {
			t.Errorf("-h does not document %s", f)
		}
	}
}

func TestOutboundConfig(t *testing.T) {
	cfg := &config{outboundFields: listFlag{"04k000000000001AAA=Account:Id, Name,Phone", "Contact:Id,Email"}}
	actions, byObject, err := loadOutbound(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a := actions["04k000000000001AAA"]; a.Object != "Account" || strings.Join(a.Fields, ",") != "Id,Name,Phone" {
		t.Fatalf("action %+v", a)
	}
	if f := byObject["Contact"]; strings.Join(f, ",") != "Id,Email" {
		t.Fatalf("by object %v", byObject)
	}
	if _, _, err := loadOutbound(&config{outboundFields: listFlag{"Account"}}); err == nil {
		t.Fatal("a list without fields was accepted")
	}
}

// lockedWriter lets the logger and the test share a builder safely.
type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// FuzzDecodeSyncRequest: any body gets a request or a clear error, never
// a panic.
func FuzzDecodeSyncRequest(f *testing.F) {
	for _, s := range []string{`{}`, `{"orgId":"00D000000000001","objects":["Account"],"mode":"full"}`,
		`{"mode":"incremental"}`, `{"mode":`, `[]`, `{"objects":[1]}`, `null`, ``, `{"a":1}{"b":2}`} {
		f.Add(s, "application/json")
	}
	f.Add("orgId=00D000000000001&mode=full&objects=Account", "application/x-www-form-urlencoded")
	f.Fuzz(func(t *testing.T, body, ctype string) {
		r, _ := http.NewRequest(http.MethodPost, "/salesforce-sync", strings.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		req, _, err := decodeSyncRequest(r)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		if req.Mode != "" && req.Mode != "full" && req.Mode != "incremental" && !strings.Contains(ctype, "form") {
			t.Fatalf("mode %q accepted", req.Mode)
		}
	})
}

func TestOutboundWSDLFlag(t *testing.T) {
	sf := sftest.NewServer(sftest.Options{})
	defer sf.Close()
	id := sf.AddOutboundMessage(sftest.OutboundMessage{Name: "inv", Object: "Invoice__c",
		Fields: []string{"Id", "Name", "Amount__c", "SystemModstamp"}, EndpointURL: "http://127.0.0.1:1/webhook"})
	wsdl, err := sf.OutboundWSDL(id)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "inv.wsdl")
	if err := os.WriteFile(path, wsdl, 0o600); err != nil {
		t.Fatal(err)
	}
	actions, byObject, err := loadOutbound(&config{outboundWSDL: listFlag{id + "=" + path, path}})
	if err != nil {
		t.Fatal(err)
	}
	a := actions[id]
	if a.Object != "Invoice__c" || !slices.Contains(a.Fields, "Amount__c") || !slices.Contains(a.Fields, "SystemModstamp") {
		t.Fatalf("action from WSDL: %+v", a)
	}
	if !slices.Contains(byObject["Invoice__c"], "Amount__c") {
		t.Fatalf("by object from WSDL: %v", byObject)
	}
	if _, _, err := loadOutbound(&config{outboundWSDL: listFlag{filepath.Join(t.TempDir(), "missing.wsdl")}}); err == nil {
		t.Fatal("a missing WSDL file was accepted")
	}
}

func TestDatabaseConfig(t *testing.T) {
	env := map[string]string{"SFSYNC_CLIENT_ID": "a", "SFSYNC_CLIENT_SECRET": "s3cret-value",
		"SFSYNC_KEY": "k3y-value", "SFSYNC_DB": "postgres://sync:pa55word@db.internal:5432/sf?sslmode=require"}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.dbPath != env["SFSYNC_DB"] || cfg.dbSchema != "salesforce" || cfg.clientSecret != "s3cret-value" || cfg.key != "k3y-value" {
		t.Fatalf("from the environment: db %q schema %q", cfg.dbPath, cfg.dbSchema)
	}
	if !isPostgres(cfg.dbPath) || isPostgres("sfsync.db") || isPostgres("/var/lib/postgres.db") || !isPostgres("PostgreSQL://h/db") {
		t.Fatal("isPostgres")
	}
	if got := redactDB(cfg.dbPath); strings.Contains(got, "pa55word") || !strings.Contains(got, "db.internal:5432/sf") {
		t.Fatalf("redacted %q", got)
	}
	// A flag wins over the environment; -db-schema from either.
	cfg, err = parseConfig([]string{"-db", "local.db", "-key", "flagkey"}, func(k string) string {
		if k == "SFSYNC_DB_SCHEMA" {
			return "tenant_a"
		}
		return env[k]
	}, io.Discard)
	if err != nil || cfg.dbPath != "local.db" || cfg.key != "flagkey" || cfg.dbSchema != "tenant_a" {
		t.Fatalf("flags over env: %+v, %v", cfg, err)
	}
	if _, err := parseConfig([]string{"-db-schema", ""}, func(k string) string { return env[k] }, io.Discard); err == nil {
		t.Fatal("an empty -db-schema was accepted for PostgreSQL")
	}
	// -h shows no secret taken from the environment.
	var help strings.Builder
	if _, err := parseConfig([]string{"-h"}, func(k string) string { return env[k] }, &help); err != flagHelp {
		t.Fatal(err)
	}
	for _, secret := range []string{"pa55word", "s3cret-value", "k3y-value"} {
		if strings.Contains(help.String(), secret) {
			t.Errorf("-h prints %q", secret)
		}
	}
}

// TestEveryFlagHasEnv: -h documents an environment variable for every
// flag, named after it, and each of those variables sets its flag.
func TestEveryFlagHasEnv(t *testing.T) {
	var help strings.Builder
	if _, err := parseConfig([]string{"-h"}, func(string) string { return "" }, &help); err != flagHelp {
		t.Fatal(err)
	}
	usage := map[string]string{}
	var cur string
	for line := range strings.SplitSeq(help.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "  -"); ok {
			cur, _, _ = strings.Cut(rest, " ")
			usage[cur] = ""
			continue
		}
		if cur != "" {
			usage[cur] += strings.TrimSpace(line) + " "
		}
	}
	if len(usage) < 30 {
		t.Fatalf("only %d flags in -h:\n%s", len(usage), help.String())
	}
	envOf := func(flag string) string { return "SFSYNC_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_")) }
	for name, u := range usage {
		if !strings.Contains(u, "(env "+envOf(name)) {
			t.Errorf("-%s: usage %q names no %s", name, u, envOf(name))
		}
	}

	// Each variable sets its flag: a value for every flag, given through
	// the environment only, must come out of parseConfig.
	values := map[string]string{
		"addr": "127.0.0.1:9", "client-id": "cid", "client-secret": "csecret", "redirect-url": "https://x/cb",
		"login-url": "https://test.salesforce.com", "db": "env.db", "db-schema": "tenant", "key-id": "k9",
		"key": "thekey", "old-keys": "k0=abc", "objects": "Account", "interval": "7m",
		"calculated-interval": "3h", "reconcile-interval": "5h", "concurrency": "3", "bulk-threshold": "77",
		"limit-reserve": "0.5", "outbound-fields": "Account:Id,Name", "outbound-wsdl": "a.wsdl",
		"require-known-action": "true", "webhook-token": "tok", "tls-cert": "c.pem", "tls-key": "k.pem",
		"client-ca": "ca.pem", "log-format": "json", "log-level": "debug", "demo": "false",
		"demo-auto": "false", "demo-records": "12", "demo-change-every": "9s",
	}
	env := map[string]string{}
	for name := range usage {
		v, ok := values[name]
		if !ok {
			t.Errorf("-%s: no test value; add one", name)
			continue
		}
		env[envOf(name)] = v
	}
	c, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{
		"addr": c.addr, "client-id": c.clientID, "client-secret": c.clientSecret, "redirect-url": c.redirectURL,
		"login-url": c.loginURL, "db": c.dbPath, "db-schema": c.dbSchema, "key-id": c.keyID, "key": c.key,
		"old-keys": c.oldKeys, "objects": c.objects, "interval": c.interval.String(),
		"calculated-interval": c.calcInterval.String(), "reconcile-interval": c.reconcileEvery.String(),
		"concurrency": fmt.Sprint(c.concurrency), "bulk-threshold": fmt.Sprint(c.bulkThreshold),
		"limit-reserve": fmt.Sprint(c.limitReserve), "outbound-fields": c.outboundFields.String(),
		"outbound-wsdl": c.outboundWSDL.String(), "require-known-action": fmt.Sprint(c.requireAction),
		"webhook-token": c.webhookToken, "tls-cert": c.tlsCert, "tls-key": c.tlsKey, "client-ca": c.clientCA,
		"log-format": c.logFormat, "log-level": c.logLevel, "demo": fmt.Sprint(c.demo),
		"demo-auto": fmt.Sprint(c.demoAuto), "demo-records": fmt.Sprint(c.demoRecords),
		"demo-change-every": c.demoEvery.String(),
	}
	norm := map[string]string{"interval": "7m0s", "calculated-interval": "3h0m0s", "reconcile-interval": "5h0m0s",
		"demo-change-every": "9s"}
	for name := range usage {
		want := values[name]
		if n, ok := norm[name]; ok {
			want = n
		}
		if got[name] != want {
			t.Errorf("%s=%q gave -%s %q", envOf(name), values[name], name, got[name])
		}
	}
	if _, err := parseConfig([]string{"-demo"}, func(k string) string {
		return map[string]string{"SFSYNC_REQUIRE_KNOWN_ACTION": "yes please"}[k]
	}, io.Discard); err == nil || !strings.Contains(err.Error(), "SFSYNC_REQUIRE_KNOWN_ACTION") {
		t.Errorf("a bad boolean in the environment: %v", err)
	}
}

// TestOldKeysErrorHidesKey: a malformed -old-keys entry (a bare key)
// is reported without quoting it.
func TestOldKeysErrorHidesKey(t *testing.T) {
	key, err := oauth.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	secret := base64.StdEncoding.EncodeToString(key.Secret)
	for _, old := range []string{secret, "k0=" + secret[:10], strings.TrimRight(secret, "=") + "=x"} {
		_, err := parseKeys(&config{keyID: "k1", key: secret, oldKeys: old})
		if err == nil {
			t.Fatalf("-old-keys %q accepted", old)
		}
		if strings.Contains(err.Error(), secret[:10]) {
			t.Errorf("the error quotes the key: %v", err)
		}
	}
}

// TestStatusPageEscapes: every value on the status page is HTML-escaped,
// and the page carries no script.
func TestStatusPageEscapes(t *testing.T) {
	const evil = `<script>alert(1)</script>"'&`
	at := time.Now()
	s := &status{Uptime: evil, Orgs: []orgStatus{{OrgID: evil, Username: evil, InstanceURL: evil, Status: evil,
		Objects: []objectStatus{{Name: evil, Label: evil, Resumable: true, LastSync: &at}}}},
		Running: []jobJSON{{ID: evil, URL: "/salesforce-sync/" + evil, Mode: evil, State: store.JobState(evil),
			Progress: []progressJSON{{Object: evil, Phase: evil, Error: evil}}}},
		Recent: []jobJSON{{ID: evil, URL: evil, OrgID: evil, Mode: evil, State: store.JobState(evil), Error: evil}},
		Errors: []errorView{{At: at, OrgID: evil, Source: evil, JobID: evil, Text: evil}}}
	var b strings.Builder
	if err := page.Execute(&b, s); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	if strings.Contains(strings.ToLower(html), "<script") || strings.Contains(html, `"'&`) {
		t.Fatalf("unescaped value on the status page:\n%s", html)
	}
	if n := strings.Count(html, "&lt;script&gt;"); n < 10 {
		t.Errorf("the value shows escaped only %d times", n)
	}
}
