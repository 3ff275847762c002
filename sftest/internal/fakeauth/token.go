package fakeauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// jwtBearerGrant is the grant_type of the JWT bearer flow (1.10).
const jwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// maxFormBytes bounds a token or revoke request body.
const maxFormBytes = 64 << 10

// oauthError is a token endpoint error (SALESFORCE.md 1.7).
type oauthError struct {
	status      int
	code, descr string
}

func errInvalidRequest(d string) *oauthError { return &oauthError{400, "invalid_request", d} }
func errInvalidGrant(d string) *oauthError   { return &oauthError{400, "invalid_grant", d} }

var (
	errClientID     = &oauthError{400, "invalid_client_id", "client identifier invalid"}
	errClientSecret = &oauthError{400, "invalid_client", "invalid client credentials"}
	errExpiredToken = errInvalidGrant("expired access/refresh token")
)

// tokenResponse is a success body; empty fields are left out. Field order
// is the one of real responses (1.4).
type tokenResponse struct {
	AccessToken, RefreshToken, Signature, Scope string
	IDToken                                     string
	InstanceURL, ID, TokenType, IssuedAt        string
}

func (t tokenResponse) pairs() [][2]string {
	all := [][2]string{
		{"access_token", t.AccessToken}, {"refresh_token", t.RefreshToken},
		{"signature", t.Signature}, {"scope", t.Scope}, {"id_token", t.IDToken},
		{"instance_url", t.InstanceURL}, {"id", t.ID},
		{"token_type", t.TokenType}, {"issued_at", t.IssuedAt},
	}
	out := all[:0]
	for _, p := range all {
		if p[1] != "" {
			out = append(out, p)
		}
	}
	return out
}

// serveToken is POST /services/oauth2/token.
func (a *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	format := responseFormat(r)
	if r.Method != http.MethodPost {
		writeOAuth(w, format, nil, errInvalidRequest("must use HTTP POST"))
		return
	}
	form, oerr := readForm(r)
	if oerr != nil {
		writeOAuth(w, format, nil, oerr)
		return
	}
	if f := form.Get("format"); f != "" {
		format = f
	}
	resp, oerr := a.grant(r, form)
	writeOAuth(w, format, resp, oerr)
}

// readForm parses an application/x-www-form-urlencoded body. Parameters in
// the URL query are not read: secrets belong in the body.
func readForm(r *http.Request) (url.Values, *oauthError) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, errInvalidRequest("content type must be application/x-www-form-urlencoded")
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, maxFormBytes)); err != nil {
		return nil, errInvalidRequest("request body too large or unreadable")
	}
	form, err := url.ParseQuery(buf.String())
	if err != nil {
		return nil, errInvalidRequest("malformed form body")
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, errInvalidRequest("duplicate parameter " + strconv.Quote(k))
		}
	}
	return form, nil
}

func (a *Server) grant(r *http.Request, form url.Values) (*tokenResponse, *oauthError) {
	switch gt := form.Get("grant_type"); gt {
	case "":
		return nil, errInvalidRequest("grant type is missing")
	case "authorization_code":
		return a.grantCode(r, form)
	case "refresh_token":
		return a.grantRefresh(r, form)
	case jwtBearerGrant:
		return a.grantJWT(form)
	case "password":
		return a.grantPassword(r, form)
	case "client_credentials":
		return a.grantClientCredentials(r, form)
	default:
		return nil, &oauthError{400, "unsupported_grant_type", "grant type not supported"}
	}
}

// checkClient authenticates the client from the form or HTTP Basic (1.3).
// requireSecret is false for the refresh grant, where the secret is
// optional (1.6), though a wrong one is still refused.
func (a *Server) checkClient(r *http.Request, form url.Values, requireSecret bool) *oauthError {
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok {
		if id != "" && id != bid {
			return errInvalidRequest("client_id in the body and in the Authorization header differ")
		}
		id, secret = bid, bsecret
	}
	if id != a.cfg.ClientID || id == "" {
		return errClientID
	}
	if secret == "" && !requireSecret {
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(a.cfg.ClientSecret)) != 1 {
		return errClientSecret
	}
	return nil
}

// grantCode is the authorization_code grant (1.3) with PKCE (1.2).
func (a *Server) grantCode(r *http.Request, form url.Values) (*tokenResponse, *oauthError) {
	if err := a.checkClient(r, form, true); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.codes[form.Get("code")]
	switch {
	case form.Get("code") == "":
		return nil, errInvalidRequest("authorization code is missing")
	case c == nil || c.used || c.clientID != a.cfg.ClientID:
		return nil, errInvalidGrant("invalid authorization code")
	case !a.cfg.Now().Before(c.expires):
		return nil, errInvalidGrant("authorization code expired")
	}
	// A code is spent by any exchange attempt, failed or not: a second
	// try with a corrected verifier or redirect_uri is refused too.
	c.used = true
	if form.Get("redirect_uri") != c.redirectURI {
		return nil, &oauthError{400, "redirect_uri_mismatch", "redirect_uri must match configuration"}
	}
	if err := checkPKCE(c.challenge, form.Get("code_verifier")); err != nil {
		return nil, err
	}
	refresh := ""
	if grantsRefresh(c.scopes) {
		refresh = a.newRefreshLocked(c.clientID, c.scopes)
	}
	resp := a.issueLocked(refresh, c.scopes, true)
	if contains(c.scopes, "openid") {
		resp.IDToken = a.idToken(resp.AccessToken, c.nonce)
	}
	return resp, nil
}

// checkPKCE verifies code_verifier against the stored S256 challenge, with
// the error codes of SALESFORCE.md 1.2.
func checkPKCE(challenge, verifier string) *oauthError {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return errInvalidRequest("code_verifier sent but no code_challenge was given")
	case verifier == "":
		return errInvalidGrant("code_verifier is missing")
	}
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) != 1 {
		return errInvalidRequest("invalid code verifier")
	}
	return nil
}

// grantRefresh is the refresh_token grant (1.6).
func (a *Server) grantRefresh(r *http.Request, form url.Values) (*tokenResponse, *oauthError) {
	if err := a.checkClient(r, form, false); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	tok := form.Get("refresh_token")
	if tok == "" {
		return nil, errInvalidRequest("refresh_token is missing")
	}
	rt := a.refresh[tok]
	if rt == nil || rt.revoked || rt.clientID != a.cfg.ClientID {
		return nil, errExpiredToken
	}
	scopes := rt.scopes
	if s := form.Get("scope"); s != "" {
		scopes = strings.Fields(s)
		for _, sc := range scopes {
			if !contains(rt.scopes, sc) {
				return nil, &oauthError{400, "invalid_scope", "the requested scope is not allowed"}
			}
		}
	}
	if !a.cfg.RotateRefreshTokens {
		return a.issueLocked(tok, scopes, false), nil
	}
	// Rotation: the old token stops working at once; its access tokens
	// stay valid until they expire.
	rt.revoked = true
	next := a.newRefreshLocked(rt.clientID, rt.scopes)
	resp := a.issueLocked(next, scopes, true)
	return resp, nil
}

// grantPassword is the username-password flow: no refresh token (7.14).
func (a *Server) grantPassword(r *http.Request, form url.Values) (*tokenResponse, *oauthError) {
	if err := a.checkClient(r, form, true); err != nil {
		return nil, err
	}
	if !a.checkLogin(form.Get("username"), form.Get("password")) {
		return nil, errInvalidGrant("authentication failure - Invalid Password")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issueLocked("", []string{"api", "id"}, false), nil
}

// grantClientCredentials is the client-credentials flow (1.11): the run-as
// user is the configured user; no refresh token.
func (a *Server) grantClientCredentials(r *http.Request, form url.Values) (*tokenResponse, *oauthError) {
	if err := a.checkClient(r, form, true); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issueLocked("", []string{"api", "id"}, false), nil
}

// checkLogin compares credentials in constant time.
func (a *Server) checkLogin(user, password string) bool {
	u := subtle.ConstantTimeCompare([]byte(user), []byte(a.cfg.Username))
	p := subtle.ConstantTimeCompare([]byte(password), []byte(a.cfg.Password))
	return u&p == 1 && a.cfg.Username != ""
}

// issueLocked issues an access token and builds the 1.4 response. The
// refresh token is included only when withRefresh is true.
func (a *Server) issueLocked(refresh string, scopes []string, withRefresh bool) *tokenResponse {
	access := a.newAccessLocked(refresh, scopes)
	id := a.identityURL()
	issued := strconv.FormatInt(a.cfg.Now().UnixMilli(), 10)
	resp := &tokenResponse{
		AccessToken: access,
		Signature:   Signature(a.cfg.ClientSecret, id, issued),
		Scope:       strings.Join(scopes, " "),
		InstanceURL: a.cfg.BaseURL(),
		ID:          id,
		TokenType:   "Bearer",
		IssuedAt:    issued,
	}
	if withRefresh {
		resp.RefreshToken = refresh
	}
	return resp
}

// Signature is the token response signature of SALESFORCE.md 1.5:
// base64(HMAC-SHA256(clientSecret, id+issuedAt)).
func Signature(clientSecret, id, issuedAt string) string {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte(id + issuedAt))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// responseFormat reads the Accept header (1.3); the format parameter
// overrides it.
func responseFormat(r *http.Request) string {
	acc := r.Header.Get("Accept")
	switch {
	case strings.Contains(acc, "application/x-www-form-urlencoded"):
		return "urlencoded"
	case strings.Contains(acc, "application/xml"):
		return "xml"
	}
	return "json"
}

// writeOAuth writes a success or an error in the requested format.
func writeOAuth(w http.ResponseWriter, format string, resp *tokenResponse, oerr *oauthError) {
	var pairs [][2]string
	status := http.StatusOK
	if oerr != nil {
		pairs = [][2]string{{"error", oerr.code}, {"error_description", oerr.descr}}
		status = oerr.status
	} else {
		pairs = resp.pairs()
	}
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	var body []byte
	switch format {
	case "urlencoded":
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
		v := url.Values{}
		for _, p := range pairs {
			v.Set(p[0], p[1])
		}
		body = []byte(v.Encode())
	case "xml":
		w.Header().Set("Content-Type", "application/xml;charset=UTF-8")
		body = xmlPairs(pairs)
	default:
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		body = jsonPairs(pairs)
	}
	w.WriteHeader(status)
	w.Write(body)
}

// jsonPairs writes a JSON object of string values in the given key order.
func jsonPairs(pairs [][2]string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p[0])
		v, _ := json.Marshal(p[1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// xmlPairs writes <OAuth><key>value</key>...</OAuth>.
func xmlPairs(pairs [][2]string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><OAuth>`)
	for _, p := range pairs {
		b.WriteString("<" + p[0] + ">")
		xml.EscapeText(&b, []byte(p[1]))
		b.WriteString("</" + p[0] + ">")
	}
	b.WriteString("</OAuth>")
	return b.Bytes()
}

// serveRevoke is /services/oauth2/revoke (1.8): POST token=..., or GET
// ?token=. A refresh token takes its access tokens with it.
func (a *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	var tok string
	switch r.Method {
	case http.MethodGet:
		tok = r.URL.Query().Get("token")
	case http.MethodPost:
		form, oerr := readForm(r)
		if oerr != nil {
			writeOAuth(w, "json", nil, oerr)
			return
		}
		tok = form.Get("token")
	default:
		writeOAuth(w, "json", nil, errInvalidRequest("must use HTTP POST"))
		return
	}
	a.mu.Lock()
	ok := a.revokeRefreshLocked(tok)
	if t := a.access[tok]; t != nil {
		t.revoked, ok = true, true
	}
	a.mu.Unlock()
	if !ok {
		writeOAuth(w, "json", nil, &oauthError{400, "unsupported_token_type", "this token type is not supported"})
		return
	}
	w.WriteHeader(http.StatusOK)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
