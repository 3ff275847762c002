package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/sfsync/salesforce-sync/store"
)

// memStore is a small ConnectionStore for unit tests (store/memory is
// another package's work).
type memStore struct {
	mu    sync.Mutex
	conns map[string]*store.Connection
	saves atomic.Int32
}

func newMemStore() *memStore { return &memStore{conns: map[string]*store.Connection{}} }

func cloneConn(c *store.Connection) *store.Connection {
	cp := *c
	cp.Scopes = slices.Clone(c.Scopes)
	cp.Sealed = slices.Clone(c.Sealed)
	return &cp
}

func (s *memStore) SaveConnection(ctx context.Context, c *store.Connection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v int64
	if old, ok := s.conns[c.OrgID]; ok {
		v = old.Version
	}
	if c.Version != v {
		return store.ErrVersionConflict
	}
	c.Version = v + 1
	s.conns[c.OrgID] = cloneConn(c)
	s.saves.Add(1)
	return nil
}

func (s *memStore) Connection(ctx context.Context, orgID string) (*store.Connection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.conns[orgID]
	if !ok {
		return nil, store.ErrNotFound
	}
	return cloneConn(c), nil
}

func (s *memStore) Connections(ctx context.Context) ([]*store.Connection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*store.Connection
	for _, c := range s.conns {
		out = append(out, cloneConn(c))
	}
	slices.SortFunc(out, func(a, b *store.Connection) int { return strings.Compare(a.OrgID, b.OrgID) })
	return out, nil
}

func (s *memStore) DeleteConnection(ctx context.Context, orgID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[orgID]; !ok {
		return store.ErrNotFound
	}
	delete(s.conns, orgID)
	return nil
}

const (
	loginHost = "https://login.example.com"
	instHost  = "https://inst.example.com"
	testOrg15 = "00De0000000pmu1"
	testOrg   = "00De0000000pmu1EAA"
	testUser  = "005e0000000AbcdAAA"
	clientID  = "test-client"
	secret    = "test-secret"
	redirect  = "https://app.example.com/callback"
)

// fakeSF is a Salesforce login and instance on an httpmock transport:
// authorize bookkeeping, the code, refresh and JWT grants (with optional
// rotation), identity, revoke and one API resource, /services/data/v62.0/x.
type fakeSF struct {
	t  *testing.T
	mt *httpmock.MockTransport

	mu          sync.Mutex
	codes       map[string]string // code -> PKCE challenge
	access      map[string]bool   // valid access tokens
	refresh     map[string]bool   // valid refresh tokens
	rotate      bool
	instance    string // instance_url to return
	badSig      bool
	noRefresh   bool // code grant returns no refresh token
	tokenDelay  time.Duration
	issued      []string // every token issued
	jwtVerify   func(assertion string) error
	tokenCalls  map[string]int // by grant_type
	revoked     []string
	revokeFails bool
	n           int
}

func newFakeSF(t *testing.T) *fakeSF {
	f := &fakeSF{t: t, mt: httpmock.NewMockTransport(), codes: map[string]string{}, access: map[string]bool{},
		refresh: map[string]bool{}, instance: instHost, tokenCalls: map[string]int{}}
	f.mt.RegisterResponder("POST", loginHost+"/services/oauth2/token", f.token)
	f.mt.RegisterResponder("GET", loginHost+"/id/"+testOrg+"/"+testUser, f.identity)
	f.mt.RegisterResponder("POST", loginHost+"/services/oauth2/revoke", f.revoke)
	for _, h := range []string{instHost, "https://moved.example.com"} {
		f.mt.RegisterResponder("GET", h+"/services/data/v62.0/x", f.api)
		f.mt.RegisterResponder("POST", h+"/services/data/v62.0/x", f.api)
	}
	return f
}

func (f *fakeSF) client() *http.Client { return &http.Client{Transport: f.mt} }

func (f *fakeSF) newToken(kind string) string {
	f.n++
	b := make([]byte, 12)
	rand.Read(b)
	tok := fmt.Sprintf("%s!%s-%d-%x", testOrg15, kind, f.n, b)
	f.issued = append(f.issued, tok)
	return tok
}

// authorize records an authorize URL's challenge and returns a code.
func (f *fakeSF) authorize(authURL string) (code, state string) {
	u, _ := url.Parse(authURL)
	q := u.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	code = f.newToken("code")
	f.codes[code] = q.Get("code_challenge")
	return code, q.Get("state")
}

// session issues tokens without a login, as after one.
func (f *fakeSF) session() (access, refresh string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	access, refresh = f.newToken("at"), f.newToken("rt")
	f.access[access], f.refresh[refresh] = true, true
	return access, refresh
}

func (f *fakeSF) expireAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.access)
}

func (f *fakeSF) calls(grant string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls[grant]
}

func jsonResp(req *http.Request, status int, v any) (*http.Response, error) {
	r := httpmock.NewStringResponse(status, mustJSON(v))
	r.Header.Set("Content-Type", "application/json")
	r.Request = req
	return r, nil
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func oauthErr(req *http.Request, code, desc string) (*http.Response, error) {
	return jsonResp(req, 400, map[string]string{"error": code, "error_description": desc})
}

func (f *fakeSF) token(req *http.Request) (*http.Response, error) {
	if err := req.ParseForm(); err != nil {
		return oauthErr(req, "invalid_request", "bad form")
	}
	if f.tokenDelay > 0 {
		time.Sleep(f.tokenDelay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	grant := req.PostForm.Get("grant_type")
	f.tokenCalls[grant]++
	if grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" &&
		(req.PostForm.Get("client_id") != clientID || req.PostForm.Get("client_secret") != secret) {
		return oauthErr(req, "invalid_client", "invalid client credentials")
	}
	resp := map[string]string{}
	switch grant {
	case "authorization_code":
		ch, ok := f.codes[req.PostForm.Get("code")]
		if !ok {
			return oauthErr(req, "invalid_grant", "invalid authorization code")
		}
		delete(f.codes, req.PostForm.Get("code"))
		sum := sha256.Sum256([]byte(req.PostForm.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != ch {
			return oauthErr(req, "invalid_request", "invalid code verifier")
		}
		if req.PostForm.Get("redirect_uri") != redirect {
			return oauthErr(req, "redirect_uri_mismatch", "redirect_uri must match configuration")
		}
		if !f.noRefresh {
			rt := f.newToken("rt")
			f.refresh[rt] = true
			resp["refresh_token"] = rt
		}
	case "refresh_token":
		rt := req.PostForm.Get("refresh_token")
		if !f.refresh[rt] {
			return oauthErr(req, "invalid_grant", "expired access/refresh token")
		}
		if f.rotate {
			delete(f.refresh, rt)
			nrt := f.newToken("rt")
			f.refresh[nrt] = true
			resp["refresh_token"] = nrt
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if f.jwtVerify == nil {
			return oauthErr(req, "unsupported_grant_type", "no")
		}
		if err := f.jwtVerify(req.PostForm.Get("assertion")); err != nil {
			return oauthErr(req, "invalid_grant", err.Error())
		}
	default:
		return oauthErr(req, "unsupported_grant_type", "grant type not supported")
	}
	at := f.newToken("at")
	f.access[at] = true
	id := loginHost + "/id/" + testOrg + "/" + testUser
	issued := strconv.FormatInt(time.Now().UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(id + issued))
	sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if f.badSig {
		sig = base64.StdEncoding.EncodeToString(make([]byte, 32))
	}
	resp["access_token"], resp["signature"], resp["scope"] = at, sig, "api refresh_token"
	resp["instance_url"], resp["id"], resp["token_type"], resp["issued_at"] = f.instance, id, "Bearer", issued
	return jsonResp(req, 200, resp)
}

func (f *fakeSF) bearer(req *http.Request) bool {
	tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	defer f.mu.Unlock()
	return ok && f.access[tok]
}

func (f *fakeSF) identity(req *http.Request) (*http.Response, error) {
	if !f.bearer(req) {
		return httpmock.NewStringResponse(403, "Bad_OAuth_Token"), nil
	}
	return jsonResp(req, 200, map[string]any{"organization_id": testOrg, "user_id": testUser, "username": "admin@example.com"})
}

func (f *fakeSF) revoke(req *http.Request) (*http.Response, error) {
	req.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.revokeFails {
		return httpmock.NewStringResponse(503, "down"), nil
	}
	tok := req.PostForm.Get("token")
	f.revoked = append(f.revoked, tok)
	delete(f.refresh, tok)
	delete(f.access, tok)
	return httpmock.NewStringResponse(200, ""), nil
}

func (f *fakeSF) api(req *http.Request) (*http.Response, error) {
	if !f.bearer(req) {
		return jsonResp(req, 401, []map[string]string{{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}})
	}
	var body string
	if req.Body != nil {
		b := new(strings.Builder)
		fmt.Fprint(b, "")
		buf := make([]byte, 1024)
		n, _ := req.Body.Read(buf)
		body = string(buf[:n])
	}
	return jsonResp(req, 200, map[string]string{"ok": "yes", "body": body, "host": req.URL.Host})
}

// harness is a Manager wired to a fakeSF and a memStore.
type harness struct {
	*fakeSF
	m  *Manager
	st *memStore
}

func testSealer(t *testing.T) *Sealer {
	t.Helper()
	k, err := ParseKey("k1", base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSealer(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newHarness(t *testing.T, opts ...ManagerOption) *harness {
	t.Helper()
	f := newFakeSF(t)
	st := newMemStore()
	cfg := Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirect, LoginURL: loginHost, HTTPClient: f.client()}
	return &harness{fakeSF: f, st: st, m: NewManager(cfg, st, testSealer(t), opts...)}
}

// saveSession stores a connection for tokens issued by the fake.
func (h *harness) saveSession(t *testing.T) (access, refresh string) {
	t.Helper()
	access, refresh = h.session()
	err := h.m.Save(context.Background(), &Connection{OrgID: testOrg15, UserID: testUser, Username: "admin@example.com",
		InstanceURL: instHost, IdentityURL: loginHost + "/id/" + testOrg + "/" + testUser,
		AccessToken: Secret(access), RefreshToken: Secret(refresh)})
	if err != nil {
		t.Fatal(err)
	}
	return access, refresh
}
