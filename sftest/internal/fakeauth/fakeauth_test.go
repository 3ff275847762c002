package fakeauth

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"html"

	"github.com/google/go-cmp/cmp"
)

const fixtures = "../../../testdata/fixtures/salesforce/oauth/"

const (
	testClient   = "3MVG9test.client"
	testSecret   = "s3cr3t-client"
	testUser     = "admin@sftest.example.com"
	testPassword = "pa55word"
	testOrg      = "00D8c000002JHMDEA4"
	testUserID   = "005B0000005V71XIAS"
	testRedirect = "http://127.0.0.1:8080/callback"
)

// clock is a settable clock for the fake org.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	a     *Server
	srv   *httptest.Server
	clock *clock
	count map[string]int
	mu    sync.Mutex
}

func newEnv(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	e := &env{clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, count: map[string]int{}}
	mux := http.NewServeMux()
	e.srv = httptest.NewUnstartedServer(mux)
	cfg := Config{
		ClientID: testClient, ClientSecret: testSecret,
		Username: testUser, Password: testPassword,
		OrgID: testOrg, UserID: testUserID,
		Now:     e.clock.Now,
		BaseURL: func() string { return e.srv.URL },
		Count: func(ep string) {
			e.mu.Lock()
			e.count[ep]++
			e.mu.Unlock()
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	e.a = New(cfg)
	e.a.Register(mux)
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" + randomString(10)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func (e *env) authorizeURL(extra url.Values) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {testClient},
		"redirect_uri": {testRedirect}, "state": {"st/ate=1"},
		"scope": {"api refresh_token id"},
	}
	for k, v := range extra {
		q[k] = v
	}
	return e.srv.URL + "/services/oauth2/authorize?" + q.Encode()
}

// code approves a request and returns the code from the callback.
func (e *env) code(t *testing.T, extra url.Values) string {
	t.Helper()
	cb, err := e.a.Authorize(e.authorizeURL(extra))
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	u, _ := url.Parse(cb)
	if got := u.Query().Get("state"); got != "st/ate=1" {
		t.Fatalf("state = %q", got)
	}
	if !strings.HasPrefix(cb, testRedirect+"?") {
		t.Fatalf("callback %q", cb)
	}
	return u.Query().Get("code")
}

type tokenResult struct {
	status int
	raw    string
	body   map[string]any
}

func (e *env) token(t *testing.T, form url.Values, basic ...string) tokenResult {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/services/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(basic[0], basic[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := tokenResult{status: resp.StatusCode, raw: string(raw)}
	if err := json.Unmarshal(raw, &r.body); err != nil {
		t.Fatalf("token response is not JSON: %v: %s", err, raw)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	return r
}

func codeForm(code, verifier string) url.Values {
	f := url.Values{
		"grant_type": {"authorization_code"}, "code": {code},
		"client_id": {testClient}, "client_secret": {testSecret},
		"redirect_uri": {testRedirect},
	}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return f
}

func keys(m map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

func readFixture(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkSuccess checks a 1.4 response: fields, types, order, signature.
func checkSuccess(t *testing.T, r tokenResult, withRefresh bool) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	want := []string{"access_token", "refresh_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at"}
	if _, ok := r.body["id_token"]; ok {
		want = append(want[:4], append([]string{"id_token"}, want[4:]...)...)
	}
	if !withRefresh {
		want = append(want[:1], want[2:]...)
	}
	var order []string
	d := json.NewDecoder(strings.NewReader(r.raw))
	d.Token()
	for d.More() {
		k, _ := d.Token()
		order = append(order, k.(string))
		var v any
		d.Decode(&v)
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	// Every field is a string, as in the recorded response.
	fx := readFixture(t, "restforce_auth_success_response.json")
	for k, v := range r.body {
		if reflect.TypeOf(v) != reflect.TypeOf("") {
			t.Errorf("%s is %T, want string", k, v)
		}
		if fv, ok := fx[k]; ok && reflect.TypeOf(fv) != reflect.TypeOf(v) {
			t.Errorf("%s type differs from the fixture", k)
		}
	}
	if !regexp.MustCompile(`^[0-9]{13}$`).MatchString(r.body["issued_at"].(string)) {
		t.Errorf("issued_at = %v", r.body["issued_at"])
	}
	if at := r.body["access_token"].(string); !strings.HasPrefix(at, testOrg[:15]+"!") || len(at) < 40 {
		t.Errorf("access_token %q lacks the 15-char org prefix", at)
	}
	if r.body["token_type"] != "Bearer" {
		t.Errorf("token_type = %v", r.body["token_type"])
	}
	if _, ok := r.body["expires_in"]; ok {
		t.Error("expires_in must not be returned")
	}
	id := r.body["id"].(string)
	if !strings.HasSuffix(id, "/id/"+testOrg+"/"+testUserID) {
		t.Errorf("id = %q", id)
	}
	if !strings.HasPrefix(id, r.body["instance_url"].(string)+"/id/") {
		t.Errorf("id %q not under instance_url", id)
	}
	// Signature verification as a client does it (1.5).
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write([]byte(id + r.body["issued_at"].(string)))
	got, _ := base64.StdEncoding.DecodeString(r.body["signature"].(string))
	if !hmac.Equal(got, m.Sum(nil)) {
		t.Error("signature does not verify")
	}
}

func checkError(t *testing.T, r tokenResult, code string) {
	t.Helper()
	if r.status != 400 {
		t.Errorf("status = %d, want 400", r.status)
	}
	fx := readFixture(t, "restforce_auth_error_response.json")
	if diff := cmp.Diff(keys(fx), keys(r.body)); diff != "" {
		t.Errorf("error keys (-fixture +got):\n%s", diff)
	}
	if r.body["error"] != code {
		t.Errorf("error = %v (%v), want %s", r.body["error"], r.body["error_description"], code)
	}
	if strings.Contains(r.raw, testSecret) {
		t.Error("error body leaks the client secret")
	}
}

func TestAuthorizationCodeFlow(t *testing.T) {
	e := newEnv(t, nil)
	verifier, challenge := pkce()
	code := e.code(t, url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
	r := e.token(t, codeForm(code, verifier))
	checkSuccess(t, r, true)
	if r.body["scope"] != "api refresh_token id" {
		t.Errorf("scope = %v", r.body["scope"])
	}
	if !e.a.Validate(r.body["access_token"].(string)) {
		t.Error("issued token not valid")
	}
	if e.a.Validate("00D8c000002JHMD!bogus") {
		t.Error("unknown token valid")
	}
	if e.count["token"] != 1 {
		t.Errorf("token count = %d", e.count["token"])
	}
}

func TestCodeWithoutRefreshScope(t *testing.T) {
	e := newEnv(t, nil)
	code := e.code(t, url.Values{"scope": {"api"}})
	checkSuccess(t, e.token(t, codeForm(code, "")), false)
}

func TestClientSecretBasic(t *testing.T) {
	e := newEnv(t, nil)
	code := e.code(t, nil)
	f := codeForm(code, "")
	f.Del("client_secret")
	f.Del("client_id")
	checkSuccess(t, e.token(t, f, testClient, testSecret), true)

	f.Set("code", e.code(t, nil))
	checkError(t, e.token(t, f, testClient, "wrong"), "invalid_client")
}

func TestTokenErrors(t *testing.T) {
	e := newEnv(t, nil)
	verifier, challenge := pkce()
	withPKCE := url.Values{"code_challenge": {challenge}}
	tests := []struct {
		name string
		form func() url.Values
		want string
	}{
		{"wrong verifier", func() url.Values {
			return codeForm(e.code(t, withPKCE), verifier+"x")
		}, "invalid_request"},
		{"missing verifier", func() url.Values {
			return codeForm(e.code(t, withPKCE), "")
		}, "invalid_grant"},
		{"verifier without challenge", func() url.Values {
			return codeForm(e.code(t, nil), verifier)
		}, "invalid_request"},
		{"reused code", func() url.Values {
			f := codeForm(e.code(t, nil), "")
			if r := e.token(t, f); r.status != 200 {
				t.Fatalf("first use: %s", r.raw)
			}
			return f
		}, "invalid_grant"},
		{"expired code", func() url.Values {
			f := codeForm(e.code(t, nil), "")
			e.clock.Advance(CodeLifetime)
			return f
		}, "invalid_grant"},
		{"unknown code", func() url.Values { return codeForm("aPrxnope", "") }, "invalid_grant"},
		{"missing code", func() url.Values { return codeForm("", "") }, "invalid_request"},
		{"wrong redirect_uri", func() url.Values {
			f := codeForm(e.code(t, nil), "")
			f.Set("redirect_uri", "http://127.0.0.1:8080/other")
			return f
		}, "redirect_uri_mismatch"},
		{"wrong client secret", func() url.Values {
			f := codeForm(e.code(t, nil), "")
			f.Set("client_secret", "nope")
			return f
		}, "invalid_client"},
		{"missing client secret", func() url.Values {
			f := codeForm(e.code(t, nil), "")
			f.Del("client_secret")
			return f
		}, "invalid_client"},
		{"unknown client", func() url.Values {
			f := codeForm(e.code(t, nil), "")
			f.Set("client_id", "other")
			return f
		}, "invalid_client_id"},
		{"missing grant type", func() url.Values { return url.Values{"client_id": {testClient}} }, "invalid_request"},
		{"unsupported grant type", func() url.Values { return url.Values{"grant_type": {"implicit"}} }, "unsupported_grant_type"},
		{"wrong password", func() url.Values {
			return url.Values{"grant_type": {"password"}, "client_id": {testClient}, "client_secret": {testSecret},
				"username": {testUser}, "password": {"bad"}}
		}, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, e.token(t, tt.form()), tt.want)
		})
	}
}

func TestFailedExchangeSpendsCode(t *testing.T) {
	e := newEnv(t, nil)
	verifier, challenge := pkce()
	code := e.code(t, url.Values{"code_challenge": {challenge}})
	checkError(t, e.token(t, codeForm(code, verifier+"x")), "invalid_request")
	checkError(t, e.token(t, codeForm(code, verifier)), "invalid_grant")
}

func TestWrongPasswordMatchesFixture(t *testing.T) {
	e := newEnv(t, nil)
	r := e.token(t, url.Values{"grant_type": {"password"}, "client_id": {testClient},
		"client_secret": {testSecret}, "username": {testUser}, "password": {"bad"}})
	if diff := cmp.Diff(readFixture(t, "restforce_auth_error_response.json"), r.body); diff != "" {
		t.Errorf("(-fixture +got):\n%s", diff)
	}
}

func TestPasswordAndClientCredentials(t *testing.T) {
	e := newEnv(t, nil)
	checkSuccess(t, e.token(t, url.Values{"grant_type": {"password"}, "client_id": {testClient},
		"client_secret": {testSecret}, "username": {testUser}, "password": {testPassword}}), false)
	checkSuccess(t, e.token(t, url.Values{"grant_type": {"client_credentials"}},
		testClient, testSecret), false)
}

func refreshForm(tok string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok},
		"client_id": {testClient}, "client_secret": {testSecret}}
}

func TestRefresh(t *testing.T) {
	e := newEnv(t, nil)
	r := e.token(t, codeForm(e.code(t, nil), ""))
	rt := r.body["refresh_token"].(string)
	first := r.body["access_token"].(string)

	for i := range 2 {
		r2 := e.token(t, refreshForm(rt))
		checkSuccess(t, r2, false)
		if r2.body["access_token"] == first {
			t.Errorf("refresh %d returned the same access token", i)
		}
	}
	// Secret optional on refresh, but a wrong one is refused.
	f := refreshForm(rt)
	f.Del("client_secret")
	checkSuccess(t, e.token(t, f), false)
	f.Set("client_secret", "bad")
	checkError(t, e.token(t, f), "invalid_client")

	e.a.RevokeRefreshToken(rt)
	if e.a.Validate(first) {
		t.Error("access token survived the revocation of its refresh token")
	}
	r3 := e.token(t, refreshForm(rt))
	checkError(t, r3, "invalid_grant")
	if diff := cmp.Diff(readFixture(t, "restforce_refresh_error_response.json"), r3.body); diff != "" {
		t.Errorf("(-fixture +got):\n%s", diff)
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RotateRefreshTokens = true })
	_, rt := e.a.NewSession()
	r := e.token(t, refreshForm(rt))
	checkSuccess(t, r, true)
	next := r.body["refresh_token"].(string)
	if next == rt {
		t.Fatal("rotation returned the same refresh token")
	}
	checkError(t, e.token(t, refreshForm(rt)), "invalid_grant")
	checkSuccess(t, e.token(t, refreshForm(next)), true)
}

func TestSessionTimeout(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SessionTimeout = 30 * time.Minute })
	at, rt := e.a.NewSession()
	e.clock.Advance(29 * time.Minute)
	if !e.a.Validate(at) {
		t.Fatal("expired early")
	}
	e.clock.Advance(time.Minute)
	if e.a.Validate(at) {
		t.Fatal("not expired after SessionTimeout")
	}
	r := e.token(t, refreshForm(rt))
	checkSuccess(t, r, false)
	at2 := r.body["access_token"].(string)
	e.a.ExpireAccessTokens()
	if e.a.Validate(at2) {
		t.Error("ExpireAccessTokens left a token live")
	}
	checkSuccess(t, e.token(t, refreshForm(rt)), false)
}

func (e *env) revoke(t *testing.T, tok string) int {
	t.Helper()
	resp, err := http.PostForm(e.srv.URL+"/services/oauth2/revoke", url.Values{"token": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 && len(body) != 0 {
		t.Errorf("revoke success body %q, want empty", body)
	}
	return resp.StatusCode
}

func TestRevoke(t *testing.T) {
	e := newEnv(t, nil)
	at, rt := e.a.NewSession()
	at2, _ := e.a.NewSession()
	if got := e.revoke(t, at2); got != 200 {
		t.Fatalf("revoke access: %d", got)
	}
	if e.a.Validate(at2) || !e.a.Validate(at) {
		t.Fatal("revoking an access token affected the wrong token")
	}
	if got := e.revoke(t, rt); got != 200 {
		t.Fatalf("revoke refresh: %d", got)
	}
	if e.a.Validate(at) {
		t.Error("access token survived revoke of its refresh token")
	}
	checkError(t, e.token(t, refreshForm(rt)), "invalid_grant")
	if got := e.revoke(t, "nope"); got != 400 {
		t.Errorf("unknown token: %d", got)
	}
	if e.count["revoke"] != 3 {
		t.Errorf("revoke count %d", e.count["revoke"])
	}
}

func (e *env) get(t *testing.T, path, tok string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// shape maps a JSON value to its structure: keys and value kinds, with
// nulls left as "any".
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, vv := range x {
			out[k] = shape(vv)
		}
		return out
	case nil:
		return "null"
	default:
		return reflect.TypeOf(v).String()
	}
}

func TestIdentity(t *testing.T) {
	e := newEnv(t, nil)
	at, _ := e.a.NewSession()
	path := "/id/" + testOrg + "/" + testUserID
	status, got := e.get(t, path, at)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	fx := readFixture(t, "identity_mobilesdk_android.json")
	if diff := cmp.Diff(shape(fx), shape(got)); diff != "" {
		t.Errorf("identity shape (-fixture +got):\n%s", diff)
	}
	if got["id"] != e.srv.URL+path || got["username"] != testUser || got["organization_id"] != testOrg {
		t.Errorf("identity values: %v %v %v", got["id"], got["username"], got["organization_id"])
	}
	urls := got["urls"].(map[string]any)
	if urls["rest"] != e.srv.URL+"/services/data/v{version}/" ||
		urls["enterprise"] != e.srv.URL+"/services/Soap/c/{version}/"+testOrg[:15] {
		t.Errorf("urls: %v", urls)
	}
	// 15-character IDs in the path name the same identity.
	if s, _ := e.get(t, "/id/"+testOrg[:15]+"/"+testUserID[:15], at); s != 200 {
		t.Errorf("15-char path: %d", s)
	}
	if s, _ := e.get(t, "/id/"+testOrg+"/005B0000005V71YIAS", at); s != 404 {
		t.Errorf("other user: %d", s)
	}
	if s, _ := e.get(t, path, ""); s != 403 {
		t.Errorf("no token: %d", s)
	}
	e.a.ExpireAccessTokens()
	if s, _ := e.get(t, path, at); s != 403 {
		t.Errorf("expired token: %d", s)
	}
	if e.count["identity"] != 5 {
		t.Errorf("identity count %d", e.count["identity"])
	}
}

func TestUserinfo(t *testing.T) {
	e := newEnv(t, nil)
	at, _ := e.a.NewSession()
	status, got := e.get(t, "/services/oauth2/userinfo", at)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	want := []string{"active", "address", "email", "email_verified", "family_name", "given_name",
		"language", "locale", "name", "nickname", "organization_id", "photos", "picture",
		"preferred_username", "profile", "sub", "updated_at", "urls", "user_id", "user_type",
		"utcOffset", "zoneinfo"}
	if diff := cmp.Diff(want, keys(got)); diff != "" {
		t.Errorf("userinfo keys (-want +got):\n%s", diff)
	}
	if got["preferred_username"] != testUser || got["sub"] != e.srv.URL+"/id/"+testOrg+"/"+testUserID {
		t.Errorf("values: %v", got)
	}
	e.a.RevokeRefreshToken("unknown")
	if s, _ := e.get(t, "/services/oauth2/userinfo", "x"); s != 403 {
		t.Errorf("bad token: %d", s)
	}
}

func jwtAssertion(t *testing.T, key *rsa.PrivateKey, claims map[string]any) url.Values {
	t.Helper()
	s, err := SignJWT(key, claims)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"grant_type": {jwtBearerGrant}, "assertion": {s}}
}

func TestJWTBearer(t *testing.T) {
	e := newEnv(t, nil)
	exp := e.clock.Now().Add(3 * time.Minute).Unix()
	good := func() map[string]any {
		return map[string]any{"iss": testClient, "sub": testUser, "aud": e.srv.URL, "exp": exp}
	}
	r := e.token(t, jwtAssertion(t, e.a.JWTPrivateKey(), good()))
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	if diff := cmp.Diff([]string{"access_token", "id", "instance_url", "scope", "token_type"}, keys(r.body)); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if !e.a.Validate(r.body["access_token"].(string)) {
		t.Error("JWT token not valid")
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	with := func(k string, v any) map[string]any {
		c := good()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"other key", jwtAssertion(t, other, good()), "invalid_grant"},
		{"wrong iss", jwtAssertion(t, e.a.JWTPrivateKey(), with("iss", "x")), "invalid_client_id"},
		{"wrong sub", jwtAssertion(t, e.a.JWTPrivateKey(), with("sub", "x@y")), "invalid_grant"},
		{"wrong aud", jwtAssertion(t, e.a.JWTPrivateKey(), with("aud", "https://login.salesforce.com")), "invalid_grant"},
		{"aud list", jwtAssertion(t, e.a.JWTPrivateKey(), with("aud", []string{"x", e.srv.URL})), ""},
		{"expired", jwtAssertion(t, e.a.JWTPrivateKey(), with("exp", e.clock.Now().Unix())), "invalid_grant"},
		{"no exp", jwtAssertion(t, e.a.JWTPrivateKey(), with("exp", nil)), "invalid_grant"},
		{"garbage", url.Values{"grant_type": {jwtBearerGrant}, "assertion": {"a.b.c"}}, "invalid_grant"},
		{"missing", url.Values{"grant_type": {jwtBearerGrant}}, "invalid_request"},
		{"alg none", url.Values{"grant_type": {jwtBearerGrant}, "assertion": {
			base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." +
				base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+testClient+`"}`)) + "."}}, "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.token(t, tt.form)
			if tt.want == "" {
				if r.status != 200 {
					t.Errorf("status %d: %s", r.status, r.raw)
				}
				return
			}
			checkError(t, r, tt.want)
		})
	}
}

func TestAuthorizeValidation(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name     string
		extra    url.Values
		page     bool   // error without callback
		callback string // error code in the callback
	}{
		{"unknown client", url.Values{"client_id": {"x"}}, true, ""},
		{"missing redirect", url.Values{"redirect_uri": {""}}, true, ""},
		{"https redirect not configured", url.Values{"redirect_uri": {"https://evil.example/cb"}}, true, ""},
		{"localhost without port", url.Values{"redirect_uri": {"http://localhost/cb"}}, true, ""},
		{"localhost ok", url.Values{"redirect_uri": {"http://localhost:9/cb?x=1"}}, false, ""},
		{"token response type", url.Values{"response_type": {"token"}}, false, "unsupported_response_type"},
		{"unknown scope", url.Values{"scope": {"api bogus"}}, false, "invalid_scope"},
		{"plain pkce", url.Values{"code_challenge": {"abc"}, "code_challenge_method": {"plain"}}, false, "invalid_request"},
		{"double-encoded challenge", url.Values{"code_challenge": {base64.URLEncoding.EncodeToString(make([]byte, 32))}}, false, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb, err := e.a.Authorize(e.authorizeURL(tt.extra))
			switch {
			case tt.page:
				if err == nil || cb != "" {
					t.Errorf("got %q, %v; want an error and no callback", cb, err)
				}
			case tt.callback != "":
				u, _ := url.Parse(cb)
				if err == nil || u.Query().Get("error") != tt.callback || u.Query().Get("state") != "st/ate=1" {
					t.Errorf("got %q, %v", cb, err)
				}
			default:
				u, _ := url.Parse(cb)
				if err != nil || u.Query().Get("code") == "" || u.Query().Get("x") != "1" {
					t.Errorf("got %q, %v", cb, err)
				}
			}
		})
	}
	t.Run("configured redirect", func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.RedirectURIs = []string{"https://app.example/cb"} })
		if _, err := e.a.Authorize(e.authorizeURL(nil)); err == nil {
			t.Error("loopback accepted though RedirectURIs is set")
		}
		if _, err := e.a.Authorize(e.authorizeURL(url.Values{"redirect_uri": {"https://app.example/cb"}})); err != nil {
			t.Error(err)
		}
	})
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formOf reads the hidden fields of a page, as a browser would submit them.
func formOf(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if len(v) == 0 {
		t.Fatalf("no form in page:\n%s", page)
	}
	return v
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

func do(t *testing.T, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == "GET" {
		resp, err = noRedirect.Get(u)
	} else {
		resp, err = noRedirect.PostForm(u, form)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestLoginAndConsentPages(t *testing.T) {
	e := newEnv(t, nil)
	verifier, challenge := pkce()
	authURL := e.authorizeURL(url.Values{"code_challenge": {challenge}})
	endpoint := e.srv.URL + "/services/oauth2/authorize"

	resp, page := do(t, "GET", authURL, nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("login page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(page, "<script") {
		t.Error("login page uses JavaScript")
	}
	form := formOf(t, page)

	// Wrong password: the login page again, with a message.
	form.Set("username", testUser)
	form.Set("password", "bad")
	resp, page = do(t, "POST", endpoint, form)
	if resp.StatusCode != 200 || !strings.Contains(page, `id="error"`) || !strings.Contains(page, `name="password"`) {
		t.Fatalf("bad login: %d\n%s", resp.StatusCode, page)
	}

	form.Set("password", testPassword)
	resp, page = do(t, "POST", endpoint, form)
	if resp.StatusCode != 200 || !strings.Contains(page, `value="Allow"`) {
		t.Fatalf("consent page: %d\n%s", resp.StatusCode, page)
	}
	consent := formOf(t, page)

	deny := url.Values{"action": {"Deny"}}
	for k, v := range consent {
		deny[k] = v
	}
	consent.Set("action", "Allow")
	resp, _ = do(t, "POST", endpoint, consent)
	if resp.StatusCode != 302 {
		t.Fatalf("allow: %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("state") != "st/ate=1" || !strings.HasPrefix(loc.String(), testRedirect) {
		t.Fatalf("callback %s", loc)
	}
	checkSuccess(t, e.token(t, codeForm(loc.Query().Get("code"), verifier)), true)

	// The ticket is single-use.
	resp, _ = do(t, "POST", endpoint, deny)
	if resp.StatusCode != 400 {
		t.Errorf("reused ticket: %d", resp.StatusCode)
	}

	// Deny from a fresh login.
	_, page = do(t, "GET", authURL, nil)
	form = formOf(t, page)
	form.Set("username", testUser)
	form.Set("password", testPassword)
	_, page = do(t, "POST", endpoint, form)
	consent = formOf(t, page)
	consent.Set("action", "Deny")
	resp, _ = do(t, "POST", endpoint, consent)
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Query().Get("error") != "access_denied" ||
		loc.Query().Get("error_description") == "" || loc.Query().Get("code") != "" ||
		loc.Query().Get("state") != "st/ate=1" {
		t.Errorf("deny: %d %s", resp.StatusCode, loc)
	}
}

func TestAuthorizePageErrors(t *testing.T) {
	e := newEnv(t, nil)
	for _, extra := range []url.Values{
		{"client_id": {"nope"}},
		{"redirect_uri": {"https://evil.example/steal"}},
	} {
		resp, page := do(t, "GET", e.authorizeURL(extra), nil)
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(page, "error=") {
			t.Errorf("%v: %d %q", extra, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, _ := do(t, "GET", e.authorizeURL(url.Values{"immediate": {"true"}}), nil)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Query().Get("error") != "immediate_unsuccessful" {
		t.Errorf("immediate: %d %s", resp.StatusCode, loc)
	}
	// Tampered hidden redirect_uri is validated again on POST.
	resp, _ = do(t, "POST", e.srv.URL+"/services/oauth2/authorize", url.Values{
		"step": {"login"}, "client_id": {testClient}, "response_type": {"code"},
		"redirect_uri": {"https://evil.example/"}, "username": {testUser}, "password": {testPassword}})
	if resp.StatusCode != 400 {
		t.Errorf("tampered POST: %d", resp.StatusCode)
	}
}

func TestTokenFormats(t *testing.T) {
	e := newEnv(t, nil)
	_, rt := e.a.NewSession()
	f := refreshForm(rt)
	f.Set("format", "urlencoded")
	resp, err := http.PostForm(e.srv.URL+"/services/oauth2/token", f)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	v, err := url.ParseQuery(string(b))
	if err != nil || v.Get("access_token") == "" || v.Get("issued_at") == "" {
		t.Errorf("urlencoded: %s", b)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/services/oauth2/token", strings.NewReader(refreshForm(rt).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/xml")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "<OAuth><access_token>") {
		t.Errorf("xml: %s", b)
	}
}

// FuzzTokenForm feeds arbitrary bodies, content types and Basic headers to
// the token endpoint: it must answer 200 with a token or 400 with exactly
// error and error_description, never panic.
func FuzzTokenForm(f *testing.F) {
	f.Add("grant_type=authorization_code&code=x&client_id="+testClient, "application/x-www-form-urlencoded", "")
	f.Add("grant_type=refresh_token&refresh_token=5Aep&client_id="+testClient, "application/x-www-form-urlencoded", "")
	f.Add("grant_type=password&username="+testUser+"&password="+testPassword+"&client_id="+testClient+"&client_secret="+testSecret,
		"application/x-www-form-urlencoded; charset=utf-8", "")
	f.Add("grant_type=client_credentials", "application/x-www-form-urlencoded", base64.StdEncoding.EncodeToString([]byte(testClient+":"+testSecret)))
	f.Add("grant_type="+url.QueryEscape(jwtBearerGrant)+"&assertion=e30.e30.AA", "application/x-www-form-urlencoded", "")
	f.Add("%zz&&==;", "text/plain", "!!")
	f.Add("grant_type=a&grant_type=b", "application/x-www-form-urlencoded", "")
	a := New(Config{ClientID: testClient, ClientSecret: testSecret, Username: testUser, Password: testPassword,
		OrgID: testOrg, UserID: testUserID})
	mux := http.NewServeMux()
	a.Register(mux)
	f.Fuzz(func(t *testing.T, body, contentType, basic string) {
		req := httptest.NewRequest("POST", "/services/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if basic != "" {
			req.Header.Set("Authorization", "Basic "+basic)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("status %d, body not JSON: %q", w.Code, w.Body.String())
		}
		switch w.Code {
		case 200:
			if _, ok := m["access_token"]; !ok {
				t.Fatalf("200 without access_token: %v", m)
			}
		case 400:
			if len(m) != 2 || m["error"] == nil || m["error_description"] == nil {
				t.Fatalf("bad error body: %v", m)
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}

func TestOpenIDToken(t *testing.T) {
	e := newEnv(t, nil)
	code := e.code(t, url.Values{"scope": {"openid api refresh_token"}, "nonce": {"n-0S6"}})
	r := e.token(t, codeForm(code, ""))
	checkSuccess(t, r, true)
	idt, _ := r.body["id_token"].(string)
	parts := strings.Split(idt, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token %q", idt)
	}
	resp, err := http.Get(e.srv.URL + "/id/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []struct{ Kid, N, E string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil || len(jwks.Keys) != 1 {
		t.Fatalf("jwks: %v %+v", err, jwks)
	}
	nb, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].N)
	eb, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("id_token signature: %v", err)
	}
	var claims map[string]any
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	json.Unmarshal(cb, &claims)
	if claims["sub"] != r.body["id"] || claims["aud"] != testClient || claims["nonce"] != "n-0S6" || claims["iss"] != e.srv.URL {
		t.Errorf("claims %v", claims)
	}
}

// FuzzAuthorize sends arbitrary authorization requests: the endpoint must
// show a page or redirect, and never redirect to a callback URL that the
// configuration does not allow.
func FuzzAuthorize(f *testing.F) {
	f.Add("response_type=code&client_id=" + testClient + "&redirect_uri=" + url.QueryEscape(testRedirect) + "&state=x")
	f.Add("response_type=token&client_id=" + testClient + "&redirect_uri=" + url.QueryEscape(testRedirect))
	f.Add("client_id=" + testClient + "&redirect_uri=http%3A%2F%2Fevil.example%2F")
	f.Add("response_type=code&client_id=" + testClient + "&redirect_uri=http%3A%2F%2Flocalhost%3A1%2F%3Fa%3Db&scope=api+x&immediate=true")
	a := New(Config{ClientID: testClient, ClientSecret: testSecret, Username: testUser, Password: testPassword,
		OrgID: testOrg, UserID: testUserID})
	mux := http.NewServeMux()
	a.Register(mux)
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest("GET", "/services/oauth2/authorize", nil)
		req.URL.RawQuery = query
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		switch w.Code {
		case 200, 400:
		case 302:
			loc := w.Header().Get("Location")
			q, _ := url.ParseQuery(query)
			if !a.redirectAllowed(q.Get("redirect_uri")) {
				t.Fatalf("redirected to %q for a disallowed redirect_uri", loc)
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}

// TestBrowserSession follows a browser with cookies: after one login and
// Allow, the next request returns at once with a code; prompt=login and
// prompt=consent bring the pages back; immediate=true succeeds.
func TestBrowserSession(t *testing.T) {
	e := newEnv(t, nil)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	endpoint := e.srv.URL + "/services/oauth2/authorize"
	get := func(extra url.Values) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(e.authorizeURL(extra))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	post := func(form url.Values) *http.Response {
		t.Helper()
		resp, err := c.PostForm(endpoint, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	codeOf := func(resp *http.Response) string {
		t.Helper()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != 302 || loc.Query().Get("code") == "" {
			t.Fatalf("want a code redirect, got %d %s", resp.StatusCode, loc)
		}
		return loc.Query().Get("code")
	}

	if resp, _ := get(url.Values{"immediate": {"true"}}); resp.Header.Get("Location") == "" ||
		!strings.Contains(resp.Header.Get("Location"), "immediate_unsuccessful") {
		t.Fatalf("immediate before login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := get(nil)
	form := formOf(t, page)
	form.Set("username", testUser)
	form.Set("password", testPassword)
	resp, err := c.PostForm(endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	consent := formOf(t, string(b))
	consent.Set("action", "Allow")
	checkSuccess(t, e.token(t, codeForm(codeOf(post(consent)), "")), true)

	checkSuccess(t, e.token(t, codeForm(codeOf(func() *http.Response { r, _ := get(nil); return r }()), "")), true)
	codeOf(func() *http.Response { r, _ := get(url.Values{"immediate": {"true"}}); return r }())
	if _, page := get(url.Values{"prompt": {"login"}}); !strings.Contains(page, `name="password"`) {
		t.Error("prompt=login did not show the login page")
	}
	if _, page := get(url.Values{"prompt": {"consent"}}); !strings.Contains(page, `value="Allow"`) {
		t.Error("prompt=consent did not show the consent page")
	}
	e.clock.Advance(DefaultSessionTimeout)
	if _, page := get(nil); !strings.Contains(page, `name="password"`) {
		t.Error("expired browser session still logged in")
	}
}
