package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// connect runs the Connect handler and returns the authorize URL and the
// login cookie.
func (h *harness) connect(t *testing.T, query string) (*url.URL, *http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.m.ConnectHandler().ServeHTTP(rec, httptest.NewRequest("GET", "https://app.example.com/connect?"+query, nil))
	if rec.Code != http.StatusFound {
		t.Fatalf("connect: %d %s", rec.Code, rec.Body)
	}
	u, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("%d cookies", len(cookies))
	}
	return u, cookies[0]
}

func (h *harness) callback(t *testing.T, query string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", redirect+"?"+query, nil)
	for _, c := range cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	h.m.CallbackHandler().ServeHTTP(rec, req)
	return rec
}

func TestConnectRedirect(t *testing.T) {
	h := newHarness(t, WithLoginURLs("https://test.salesforce.com"))
	u, ck := h.connect(t, "login_hint=a%40b.c&prompt=login+consent&return_to=/orgs")
	q := u.Query()
	if got := u.Scheme + "://" + u.Host + u.Path; got != loginHost+"/services/oauth2/authorize" {
		t.Errorf("authorize at %s", got)
	}
	want := map[string]string{"response_type": "code", "client_id": clientID, "redirect_uri": redirect,
		"scope": "api refresh_token", "code_challenge_method": "S256", "login_hint": "a@b.c", "prompt": "login consent"}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	state := q.Get("state")
	if raw, err := base64.RawURLEncoding.DecodeString(state); err != nil || len(raw) < 16 {
		t.Errorf("state %q has fewer than 128 bits", state)
	}
	if !ck.HttpOnly || !ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != 600 || ck.Path != "/callback" {
		t.Errorf("cookie attributes %+v", ck)
	}
	if strings.Contains(ck.Value, state) {
		t.Error("state readable in cookie")
	}
	st, err := h.m.openCookie(ck.Value, state)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(st.Verifier))
	if q.Get("code_challenge") != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Error("code_challenge is not S256 of the verifier")
	}
	if st.ReturnTo != "/orgs" || st.LoginURL != loginHost {
		t.Errorf("login state %+v", st)
	}

	u2, ck2 := h.connect(t, "login_url=https://test.salesforce.com")
	if u2.Host != "test.salesforce.com" || ck2.Name == ck.Name {
		t.Errorf("sandbox login at %s, cookie %s", u2.Host, ck2.Name)
	}
}

func TestConnectRejects(t *testing.T) {
	h := newHarness(t)
	for _, q := range []string{"login_url=https://evil.example.com", "return_to=https://evil.example.com/",
		"return_to=//evil.example.com", "prompt=none", "login_hint=" + strings.Repeat("a", 300)} {
		rec := httptest.NewRecorder()
		h.m.ConnectHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/connect?"+q, nil))
		if rec.Code != http.StatusBadRequest || len(rec.Result().Cookies()) != 0 {
			t.Errorf("%s: %d", q, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.m.ConnectHandler().ServeHTTP(rec, httptest.NewRequest("POST", "/connect", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

func TestCallbackConnects(t *testing.T) {
	h := newHarness(t)
	var hooked []*Connection
	h.m.OnConnect(func(ctx context.Context, c *Connection) { hooked = append(hooked, c) })
	u, ck := h.connect(t, "return_to=/done")
	code, state := h.authorize(u.String())
	rec := h.callback(t, "code="+code+"&state="+state, ck)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/done" {
		t.Fatalf("callback: %d %s", rec.Code, rec.Body)
	}
	if cl := rec.Result().Cookies(); len(cl) != 1 || cl[0].MaxAge != -1 || cl[0].Name != ck.Name {
		t.Errorf("login cookie not cleared: %+v", cl)
	}
	sc, err := h.st.Connection(context.Background(), testOrg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range h.issued {
		if strings.Contains(string(sc.Sealed), tok) {
			t.Fatalf("clear token in the store")
		}
	}
	c, err := h.m.Connection(context.Background(), testOrg15)
	if err != nil {
		t.Fatal(err)
	}
	if c.OrgID != testOrg || c.UserID != testUser || c.Username != "admin@example.com" || c.InstanceURL != instHost ||
		c.LoginURL != loginHost || c.Status != store.StatusActive || c.AccessToken == "" || c.RefreshToken == "" ||
		strings.Join(c.Scopes, " ") != "api refresh_token" || c.IssuedAt.IsZero() {
		t.Errorf("connection %+v", c)
	}
	if len(hooked) != 1 || hooked[0].OrgID != testOrg {
		t.Errorf("hook calls %v", hooked)
	}
	// Without return_to: a success page.
	u, ck = h.connect(t, "")
	code, state = h.authorize(u.String())
	if rec := h.callback(t, "code="+code+"&state="+state, ck); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Org connected") {
		t.Errorf("success page: %d %s", rec.Code, rec.Body)
	}
	if cs, _ := h.m.Connections(context.Background()); len(cs) != 1 {
		t.Errorf("%d connections", len(cs))
	}
}

func TestCallbackLoginsInFlight(t *testing.T) {
	h := newHarness(t)
	type login struct {
		u  *url.URL
		ck *http.Cookie
	}
	var logins []login
	for range 3 {
		u, ck := h.connect(t, "")
		logins = append(logins, login{u, ck})
	}
	var all []*http.Cookie
	for _, l := range logins {
		all = append(all, l.ck)
	}
	for i := len(logins) - 1; i >= 0; i-- { // finish in reverse order, all cookies sent
		code, state := h.authorize(logins[i].u.String())
		if rec := h.callback(t, "code="+code+"&state="+state, all...); rec.Code != 200 {
			t.Fatalf("login %d: %d %s", i, rec.Code, rec.Body)
		}
	}
}

func TestCallbackRejections(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := newHarness(t, WithClock(clock))
	ctx := context.Background()
	stored := func(t *testing.T) {
		t.Helper()
		if cs, _ := h.st.Connections(ctx); len(cs) != 0 {
			t.Errorf("%d connections stored", len(cs))
		}
	}
	expect := func(t *testing.T, rec *httptest.ResponseRecorder, text string) {
		t.Helper()
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), text) {
			t.Errorf("got %d %s; want 400 with %q", rec.Code, rec.Body, text)
		}
		stored(t)
	}

	t.Run("missing state", func(t *testing.T) {
		_, ck := h.connect(t, "")
		expect(t, h.callback(t, "code=abc", ck), "no state")
	})
	t.Run("no cookie", func(t *testing.T) {
		u, _ := h.connect(t, "")
		code, state := h.authorize(u.String())
		expect(t, h.callback(t, "code="+code+"&state="+state), "no login in progress")
	})
	t.Run("forged state", func(t *testing.T) {
		u, ck := h.connect(t, "")
		code, _ := h.authorize(u.String())
		expect(t, h.callback(t, "code="+code+"&state=forged"+strings.Repeat("x", 40), ck), "no login in progress")
		// A cookie renamed to match a forged state does not open for it.
		forged := "forged-state-" + strings.Repeat("y", 30)
		expect(t, h.callback(t, "code="+code+"&state="+forged, &http.Cookie{Name: h.m.cookieName(forged), Value: ck.Value}), "does not match")
		expect(t, h.callback(t, "code="+code+"&state="+forged, &http.Cookie{Name: h.m.cookieName(forged), Value: "garbage"}), "does not match")
	})
	t.Run("replayed", func(t *testing.T) {
		u, ck := h.connect(t, "")
		code, state := h.authorize(u.String())
		if rec := h.callback(t, "code="+code+"&state="+state, ck); rec.Code != 200 {
			t.Fatalf("first callback: %d %s", rec.Code, rec.Body)
		}
		calls := h.calls("authorization_code")
		rec := h.callback(t, "code="+code+"&state="+state, ck)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "already completed") {
			t.Errorf("replay: %d %s", rec.Code, rec.Body)
		}
		if h.calls("authorization_code") != calls {
			t.Error("replay reached the token endpoint")
		}
		h.st.DeleteConnection(ctx, testOrg)
	})
	t.Run("replayed code", func(t *testing.T) {
		u, ck := h.connect(t, "")
		code, state := h.authorize(u.String())
		if rec := h.callback(t, "code="+code+"&state="+state, ck); rec.Code != 200 {
			t.Fatalf("first callback: %d", rec.Code)
		}
		h.st.DeleteConnection(ctx, testOrg)
		u2, ck2 := h.connect(t, "")
		_, state2 := h.authorize(u2.String())
		expect(t, h.callback(t, "code="+code+"&state="+state2, ck2), "invalid_grant")
	})
	t.Run("wrong verifier", func(t *testing.T) {
		// A code obtained for login A is injected into login B: B's
		// verifier does not match A's challenge.
		uA, _ := h.connect(t, "")
		codeA, _ := h.authorize(uA.String())
		uB, ckB := h.connect(t, "")
		_, stateB := h.authorize(uB.String())
		expect(t, h.callback(t, "code="+codeA+"&state="+stateB, ckB), "invalid_request")
	})
	t.Run("tampered signature", func(t *testing.T) {
		h.badSig = true
		defer func() { h.badSig = false }()
		u, ck := h.connect(t, "")
		code, state := h.authorize(u.String())
		expect(t, h.callback(t, "code="+code+"&state="+state, ck), "signature")
	})
	t.Run("expired cookie", func(t *testing.T) {
		u, ck := h.connect(t, "")
		code, state := h.authorize(u.String())
		mu.Lock()
		now = now.Add(10*time.Minute + time.Second)
		mu.Unlock()
		expect(t, h.callback(t, "code="+code+"&state="+state, ck), "longer than 10 minutes")
	})
	t.Run("deny", func(t *testing.T) {
		u, ck := h.connect(t, "")
		_, state := h.authorize(u.String())
		calls := h.calls("authorization_code")
		rec := h.callback(t, "error=access_denied&error_description=end-user+denied+authorization&state="+state, ck)
		expect(t, rec, "end-user denied authorization")
		if !strings.Contains(rec.Body.String(), "denied") || h.calls("authorization_code") != calls {
			t.Error("deny page or token call")
		}
	})
	t.Run("error escaped", func(t *testing.T) {
		rec := h.callback(t, "error=%3Cscript%3E&error_description=%3Cb%3Ex")
		if strings.Contains(rec.Body.String(), "<script>") || rec.Code != 400 {
			t.Errorf("unescaped: %s", rec.Body)
		}
	})
	t.Run("no code", func(t *testing.T) {
		u, ck := h.connect(t, "")
		_, state := h.authorize(u.String())
		expect(t, h.callback(t, "state="+state, ck), "no authorization code")
	})
}

func FuzzCallback(f *testing.F) {
	f.Add("code=abc&state=xyz", "sfsync_login_00", "value")
	f.Add("error=access_denied&error_description=x&state=1", "", "")
	f.Add("state=%ff%00&code=", "a", "AQJrMQ")
	f.Fuzz(func(t *testing.T, query, name, value string) {
		h := newHarness(t)
		req := httptest.NewRequest("GET", "https://app.example.com/callback", nil)
		req.URL.RawQuery = query
		if name != "" {
			req.Header.Set("Cookie", name+"="+value)
		}
		if st := req.URL.Query().Get("state"); st != "" {
			req.AddCookie(&http.Cookie{Name: h.m.cookieName(st), Value: url.QueryEscape(value)})
		}
		rec := httptest.NewRecorder()
		h.m.CallbackHandler().ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d for %q", rec.Code, query)
		}
		if n := h.st.saves.Load(); n != 0 || h.calls("authorization_code") != 0 {
			t.Fatalf("stored or exchanged for %q", query)
		}
	})
}

func FuzzOpenCookie(f *testing.F) {
	k, _ := ParseKey("k1", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	s, _ := NewSealer(k)
	m := NewManager(Config{ClientID: "c", RedirectURL: redirect}, newMemStore(), s)
	good, _ := m.sealCookie(&loginState{State: "st", Verifier: "v", LoginURL: loginHost, Expires: time.Now().Add(time.Hour).Unix()})
	f.Add(good, "st")
	f.Add(good, "other")
	f.Add("", "")
	f.Add("AQJrMQ", "st")
	f.Fuzz(func(t *testing.T, value, state string) {
		st, err := m.openCookie(value, state)
		if err == nil && (state != "st" || st.Verifier != "v") {
			t.Fatalf("opened forged cookie %q for %q", value, state)
		}
	})
}

// TestCallbackDenyPage checks the page a user sees after clicking Deny: a
// 400 (never a 500) with a readable message and Salesforce's reason, and
// that a crafted link without a login in progress cannot put its own text
// on the page.
func TestCallbackDenyPage(t *testing.T) {
	h := newHarness(t)
	u, ck := h.connect(t, "return_to=/orgs")
	_, state := h.authorize(u.String())
	rec := h.callback(t, "error=access_denied&error_description=end-user+denied+authorization&state="+state, ck)
	body := rec.Body.String()
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("deny: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{"Connection cancelled", "no org was connected", "end-user denied authorization", `href="/orgs"`} {
		if !strings.Contains(body, want) {
			t.Errorf("deny page lacks %q:\n%s", want, body)
		}
	}
	if cl := rec.Result().Cookies(); len(cl) != 1 || cl[0].MaxAge != -1 {
		t.Errorf("login cookie not cleared on deny: %+v", cl)
	}

	u, ck = h.connect(t, "")
	_, state = h.authorize(u.String())
	rec = h.callback(t, "error=invalid_scope&error_description=the+requested+scope+is+not+allowed&state="+state, ck)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "invalid_scope") ||
		!strings.Contains(rec.Body.String(), "the requested scope is not allowed") || !strings.Contains(rec.Body.String(), "Nothing was connected") {
		t.Errorf("other error: %d %s", rec.Code, rec.Body)
	}

	rec = h.callback(t, "error=access_denied&error_description=Call+0800+to+restore+your+account&state=forged")
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "0800") ||
		!strings.Contains(rec.Body.String(), "no login in progress") {
		t.Errorf("crafted deny link: %d %s", rec.Code, rec.Body)
	}
	if n := h.st.saves.Load(); n != 0 {
		t.Errorf("%d saves", n)
	}
}

// TestCallbackHookContext checks that hooks run before the callback
// answers and get a context that outlives the request, so work a hook
// starts is not cancelled when the browser is redirected.
func TestCallbackHookContext(t *testing.T) {
	h := newHarness(t)
	var hookCtx context.Context
	answered := false
	h.m.OnConnect(func(ctx context.Context, c *Connection) {
		hookCtx = ctx
		if answered {
			t.Error("hook ran after the callback answered")
		}
	})
	u, ck := h.connect(t, "")
	code, state := h.authorize(u.String())
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest("GET", redirect+"?code="+code+"&state="+state, nil).WithContext(ctx)
	req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	rec := httptest.NewRecorder()
	h.m.CallbackHandler().ServeHTTP(rec, req)
	answered = true
	cancel() // what net/http does once the handler returned
	if rec.Code != http.StatusOK || hookCtx == nil {
		t.Fatalf("callback %d, hook called: %v", rec.Code, hookCtx != nil)
	}
	if err := hookCtx.Err(); err != nil {
		t.Errorf("hook context ended with the request: %v", err)
	}
}
