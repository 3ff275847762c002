package oauth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/rest"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/sqlite"
)

// app is the web app of a test: the Connect and Callback handlers on a
// real HTTP server, a Manager on a real SQLite file, and a browser.
type app struct {
	sf      *sftest.Server
	srv     *httptest.Server
	m       *oauth.Manager
	st      *sqlite.Store
	dbPath  string
	browser *http.Client
	logs    *bytes.Buffer
	log     *slog.Logger
	secrets map[string]bool // every token seen
}

func newApp(t *testing.T, opts sftest.Options) *app {
	t.Helper()
	a := &app{sf: sftest.NewServer(opts), logs: &bytes.Buffer{}, secrets: map[string]bool{}}
	t.Cleanup(a.sf.Close)
	a.log = slog.New(slog.NewJSONHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a.dbPath = filepath.Join(t.TempDir(), "sfsync.db")
	st, err := sqlite.Open(context.Background(), a.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a.st = st
	mux := http.NewServeMux()
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	a.m = a.manager(t, st)
	mux.Handle("/connect", a.m.ConnectHandler())
	mux.Handle("/callback", a.m.CallbackHandler())
	jar, _ := cookiejar.New(nil)
	a.browser = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return a
}

func (a *app) manager(t *testing.T, st store.ConnectionStore) *oauth.Manager {
	t.Helper()
	key, err := oauth.ParseKey("k1", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := oauth.NewSealer(key)
	cfg := oauth.Config{ClientID: a.sf.ClientID(), ClientSecret: a.sf.ClientSecret(),
		RedirectURL: a.srv.URL + "/callback", LoginURL: a.sf.URL}
	return oauth.NewManager(cfg, st, s)
}

// login runs connect -> authorize -> callback and returns the callback's
// response.
func (a *app) login(t *testing.T) (*http.Response, string) {
	t.Helper()
	auth := a.startLogin(t)
	cb, err := a.sf.Authorize(auth)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	return a.get(t, cb), cb
}

func (a *app) startLogin(t *testing.T) string {
	t.Helper()
	resp := a.get(t, a.srv.URL+"/connect")
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("connect: %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func (a *app) get(t *testing.T, u string) *http.Response {
	t.Helper()
	resp, err := a.browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	a.log.Info("browser", "url", u, "status", resp.StatusCode, "body", string(b))
	return resp
}

// remember records the clear tokens of every stored connection.
func (a *app) remember(t *testing.T) {
	t.Helper()
	cs, err := a.m.Connections(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		a.log.Info("connection", "conn", c, "access", c.AccessToken, "refresh", c.RefreshToken)
		for _, s := range []oauth.Secret{c.AccessToken, c.RefreshToken} {
			if s != "" {
				a.secrets[s.Reveal()] = true
			}
		}
	}
}

func (a *app) only(t *testing.T) *oauth.Connection {
	t.Helper()
	cs, err := a.m.Connections(context.Background())
	if err != nil || len(cs) != 1 {
		t.Fatalf("%d connections, %v", len(cs), err)
	}
	return cs[0]
}

func (a *app) rest(t *testing.T, m *oauth.Manager, orgID string) *rest.Client {
	t.Helper()
	hc, err := m.Client(context.Background(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := m.Connection(context.Background(), orgID)
	return &rest.Client{InstanceURL: c.InstanceURL, HTTPClient: hc, Retry: &rest.RetryPolicy{}}
}

func query(ctx context.Context, rc *rest.Client) error {
	var out struct{ TotalSize int }
	return rc.GetJSON(ctx, "query", url.Values{"q": {"SELECT Id FROM Account"}}, &out)
}

func TestEndToEnd(t *testing.T) {
	a := newApp(t, sftest.Options{Records: 3})
	ctx := context.Background()
	hooked := make(chan string, 1)
	a.m.OnConnect(func(ctx context.Context, c *oauth.Connection) { hooked <- c.OrgID })

	resp, _ := a.login(t)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("callback: %d %s", resp.StatusCode, b)
	}
	c := a.only(t)
	if got := <-hooked; got != c.OrgID {
		t.Errorf("hook got %s", got)
	}
	if c.Username != a.sf.Username() || c.InstanceURL != a.sf.URL || c.RefreshToken == "" || len(c.OrgID) != 18 {
		t.Errorf("connection %+v", c)
	}
	a.remember(t)

	rc := a.rest(t, a.m, c.OrgID)
	if v, err := rc.LatestVersion(ctx); err != nil || v == "" {
		t.Fatalf("LatestVersion = %q, %v", v, err)
	}
	if err := query(ctx, rc); err != nil {
		t.Fatalf("query: %v", err)
	}
	if l := rc.Limits(); l.Max == 0 {
		t.Errorf("no Sforce-Limit-Info seen: %+v", l)
	}

	// Forced expiry: one refresh, transparently.
	tokens := a.sf.Calls()["token"]
	a.sf.ExpireAccessTokens()
	if err := query(ctx, rc); err != nil {
		t.Fatalf("query after expiry: %v", err)
	}
	if n := a.sf.Calls()["token"] - tokens; n != 1 {
		t.Errorf("%d token calls for one expiry", n)
	}
	a.remember(t)

	// A revoked refresh token: login required, stored as such.
	c = a.only(t)
	a.sf.RevokeRefreshToken(c.RefreshToken.Reveal())
	a.sf.ExpireAccessTokens()
	err := query(ctx, rc)
	a.log.Error("query failed", "err", err)
	if !errors.Is(err, oauth.ErrLoginRequired) {
		t.Fatalf("after revoke: %v", err)
	}
	if c := a.only(t); c.Status != store.StatusLoginRequired {
		t.Errorf("status %q", c.Status)
	}

	// Logging in again makes it active; Disconnect revokes and deletes.
	if resp, _ := a.login(t); resp.StatusCode != http.StatusOK {
		t.Fatalf("second login: %d", resp.StatusCode)
	}
	<-hooked
	a.remember(t)
	c = a.only(t)
	if c.Status != store.StatusActive {
		t.Errorf("status %q after login", c.Status)
	}
	revokes := a.sf.Calls()["revoke"]
	if err := a.m.Disconnect(ctx, c.OrgID[:15]); err != nil {
		t.Fatal(err)
	}
	if a.sf.Calls()["revoke"] != revokes+1 {
		t.Error("no revoke call")
	}
	if _, err := a.m.Connection(ctx, c.OrgID); !errors.Is(err, oauth.ErrNotConnected) {
		t.Errorf("after Disconnect: %v", err)
	}
	a.noSecretsOnDisk(t)
}

// noSecretsOnDisk searches the SQLite files and the captured logs for
// every token sftest issued.
func (a *app) noSecretsOnDisk(t *testing.T) {
	t.Helper()
	if len(a.secrets) < 4 {
		t.Fatalf("only %d tokens seen", len(a.secrets))
	}
	a.secrets[a.sf.ClientSecret()] = true
	files, _ := filepath.Glob(a.dbPath + "*")
	var disk []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		disk = append(disk, b...)
	}
	if len(disk) == 0 {
		t.Fatal("empty database files")
	}
	for s := range a.secrets {
		if bytes.Contains(disk, []byte(s)) {
			t.Errorf("token %.8s... in the SQLite file", s)
		}
		if strings.Contains(a.logs.String(), s) {
			t.Errorf("token %.8s... in the logs", s)
		}
	}
	if !strings.Contains(a.logs.String(), "[redacted]") {
		t.Error("logs do not show the placeholder")
	}
}

func TestEndToEndRejections(t *testing.T) {
	a := newApp(t, sftest.Options{})
	ctx := context.Background()
	resp, firstCB := a.login(t)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	org := a.only(t).OrgID
	a.st.DeleteConnection(ctx, org)
	first, _ := url.Parse(firstCB)

	t.Run("replayed callback", func(t *testing.T) {
		expect400(t, a.get(t, firstCB), "no login in progress")
	})
	t.Run("replayed code", func(t *testing.T) {
		auth, _ := url.Parse(a.startLogin(t))
		cb := a.srv.URL + "/callback?code=" + url.QueryEscape(first.Query().Get("code")) + "&state=" + url.QueryEscape(auth.Query().Get("state"))
		expect400(t, a.get(t, cb), "invalid_grant")
	})
	t.Run("wrong verifier", func(t *testing.T) {
		authA := a.startLogin(t)
		cbA, err := a.sf.Authorize(authA)
		if err != nil {
			t.Fatal(err)
		}
		codeA, _ := url.Parse(cbA)
		authB, _ := url.Parse(a.startLogin(t))
		cb := a.srv.URL + "/callback?code=" + url.QueryEscape(codeA.Query().Get("code")) + "&state=" + url.QueryEscape(authB.Query().Get("state"))
		expect400(t, a.get(t, cb), "invalid_request")
	})
	t.Run("forged state", func(t *testing.T) {
		auth := a.startLogin(t)
		cb, _ := a.sf.Authorize(auth)
		u, _ := url.Parse(cb)
		q := u.Query()
		q.Set("state", "forged"+q.Get("state"))
		u.RawQuery = q.Encode()
		expect400(t, a.get(t, u.String()), "no login in progress")
	})
	t.Run("deny", func(t *testing.T) {
		auth, _ := url.Parse(a.startLogin(t))
		cb := a.srv.URL + "/callback?error=access_denied&error_description=end-user+denied+authorization&state=" + url.QueryEscape(auth.Query().Get("state"))
		resp := a.get(t, cb)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "denied") {
			t.Errorf("status %d %s", resp.StatusCode, b)
		}
	})
	if cs, _ := a.st.Connections(ctx); len(cs) != 0 {
		t.Errorf("%d connections stored by rejected callbacks", len(cs))
	}
}

func expect400(t *testing.T, resp *http.Response, text string) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), text) {
		t.Errorf("got %d %s, want 400 with %q", resp.StatusCode, b, text)
	}
}

func TestEndToEndSingleRefresh(t *testing.T) {
	a := newApp(t, sftest.Options{})
	if resp, _ := a.login(t); resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	ctx := context.Background()
	rc := a.rest(t, a.m, a.only(t).OrgID)
	a.sf.ExpireAccessTokens()
	before := a.sf.Calls()["token"]
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			if err := query(ctx, rc); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := a.sf.Calls()["token"] - before; n != 1 {
		t.Errorf("%d refreshes reached sftest, want 1", n)
	}
}

func TestEndToEndTwoProcessesRotating(t *testing.T) {
	a := newApp(t, sftest.Options{RotateRefreshTokens: true})
	if resp, _ := a.login(t); resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	ctx := context.Background()
	org := a.only(t).OrgID
	// A second "process": its own Store handle on the same SQLite file
	// and its own Manager.
	st2, err := sqlite.Open(ctx, a.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	m2 := a.manager(t, st2)
	clients := []*rest.Client{a.rest(t, a.m, org), a.rest(t, m2, org)}
	before := a.sf.Calls()["token"]
	for round := range 8 {
		a.sf.ExpireAccessTokens()
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				if err := query(ctx, clients[i%2]); err != nil {
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		wg.Wait()
	}
	if c := a.only(t); c.Status != store.StatusActive {
		t.Errorf("status %q", c.Status)
	}
	if n := a.sf.Calls()["token"] - before; n != 8 {
		t.Errorf("%d refreshes for 8 expiries, want 8", n)
	}
}

func TestEndToEndJWT(t *testing.T) {
	a := newApp(t, sftest.Options{})
	ctx := context.Background()
	c, err := a.m.ConnectJWT(ctx, oauth.JWTBearer{Username: a.sf.Username(), PrivateKey: a.sf.JWTPrivateKey()})
	if err != nil {
		t.Fatal(err)
	}
	if c.RefreshToken != "" {
		t.Error("jwt connection has a refresh token")
	}
	rc := a.rest(t, a.m, c.OrgID)
	if err := query(ctx, rc); err != nil {
		t.Fatal(err)
	}
	before := a.sf.Calls()["token"]
	a.sf.ExpireAccessTokens()
	if err := query(ctx, rc); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if n := a.sf.Calls()["token"] - before; n != 1 {
		t.Errorf("%d token calls", n)
	}
}
