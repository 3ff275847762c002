package fakeauth

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// authorizePath is the authorization endpoint (1.1).
const authorizePath = "/services/oauth2/authorize"

// authParams are the authorization request parameters the pages carry
// from the login form to the server (1.2).
var authParams = []string{
	"response_type", "client_id", "redirect_uri", "state", "scope",
	"code_challenge", "code_challenge_method", "display", "immediate",
	"prompt", "login_hint", "nonce",
}

// authRequest is a validated authorization request.
type authRequest struct {
	params      url.Values // the original parameters, for the login form
	redirectURI string
	state       string
	scopes      []string
	challenge   string
	nonce       string
	immediate   bool
}

// pageError is an authorization request error shown as a page, not
// redirected: a bad client_id or redirect_uri means the callback cannot be
// trusted.
type pageError struct{ code, descr string }

func (e *pageError) Error() string { return e.code + ": " + e.descr }

// callbackError is an authorization request error sent to the callback
// (RFC 6749 4.1.2.1, SALESFORCE.md 1.2).
type callbackError struct{ code, descr string }

// parseAuthRequest validates the parameters of an authorization request.
func (a *Server) parseAuthRequest(q url.Values) (*authRequest, *pageError, *callbackError) {
	if q.Get("client_id") == "" || q.Get("client_id") != a.cfg.ClientID {
		return nil, &pageError{"invalid_client_id", "client identifier invalid"}, nil
	}
	ru := q.Get("redirect_uri")
	if !a.redirectAllowed(ru) {
		return nil, &pageError{"redirect_uri_mismatch", "redirect_uri must match configuration"}, nil
	}
	req := &authRequest{params: q, redirectURI: ru, state: q.Get("state")}
	if q.Get("response_type") != "code" {
		return req, nil, &callbackError{"unsupported_response_type", "response type not supported"}
	}
	req.scopes = strings.Fields(q.Get("scope"))
	if len(req.scopes) == 0 {
		req.scopes = defaultScopes
	}
	for _, s := range req.scopes {
		if !knownScopes[s] {
			return req, nil, &callbackError{"invalid_scope", "the requested scope is not allowed"}
		}
	}
	req.scopes = dedupe(req.scopes)
	if m := q.Get("code_challenge_method"); m != "" && m != "S256" {
		return req, nil, &callbackError{"invalid_request", "code challenge method not supported"}
	}
	req.challenge = q.Get("code_challenge")
	if req.challenge != "" && !validChallenge(req.challenge) {
		return req, nil, &callbackError{"invalid_request", "invalid code challenge"}
	}
	req.immediate = q.Get("immediate") == "true"
	req.nonce = q.Get("nonce")
	return req, nil, nil
}

// validChallenge accepts an unpadded base64url SHA-256 digest (43
// characters): a challenge encoded twice or padded is refused (7.13).
func validChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, c := range s {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// redirectAllowed matches a callback URL against the configuration.
func (a *Server) redirectAllowed(ru string) bool {
	if ru == "" {
		return false
	}
	if len(a.cfg.RedirectURIs) > 0 {
		return contains(a.cfg.RedirectURIs, ru)
	}
	u, err := url.Parse(ru)
	if err != nil || u.Scheme != "http" || u.Port() == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	host := u.Hostname()
	return (host == "127.0.0.1" || host == "localhost") && strings.HasPrefix(u.Path, "/")
}

// callback builds redirect_uri with extra query parameters, keeping the
// callback's own query.
func callback(redirectURI string, extra url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil {
		return redirectURI
	}
	q := u.Query()
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (r *authRequest) errorCallback(e *callbackError) string {
	v := url.Values{"error": {e.code}, "error_description": {e.descr}}
	if r.state != "" {
		v.Set("state", r.state)
	}
	return callback(r.redirectURI, v)
}

// approveLocked issues a one-time code and returns the callback URL.
func (a *Server) approveLocked(r *authRequest) string {
	code := "aPrx" + randomString(60)
	a.codes[code] = &authCode{
		clientID:    a.cfg.ClientID,
		redirectURI: r.redirectURI,
		scopes:      r.scopes,
		challenge:   r.challenge,
		nonce:       r.nonce,
		expires:     a.cfg.Now().Add(CodeLifetime),
	}
	v := url.Values{"code": {code}}
	if r.state != "" {
		v.Set("state", r.state)
	}
	return callback(r.redirectURI, v)
}

// ErrAuthorize is wrapped by the errors of [Server.Authorize].
var ErrAuthorize = errors.New("authorization request refused")

// Authorize approves an authorization request without a browser, for
// tests: it applies the validation of the authorize endpoint, then returns
// the callback URL redirect_uri?code=...&state=... that the browser would
// have been sent to after login and Allow. A bad client_id or redirect_uri
// gives an error and no URL; other request errors (unsupported
// response_type, unknown scope, bad PKCE challenge) give the error
// callback URL, as the endpoint would redirect, and an error.
func (a *Server) Authorize(authorizeURL string) (callbackURL string, err error) {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return "", fmt.Errorf("%w: parse url: %w", ErrAuthorize, err)
	}
	if !strings.HasSuffix(u.Path, authorizePath) {
		return "", fmt.Errorf("%w: path %q is not %s", ErrAuthorize, u.Path, authorizePath)
	}
	req, pe, ce := a.parseAuthRequest(u.Query())
	if pe != nil {
		return "", fmt.Errorf("%w: %s", ErrAuthorize, pe.Error())
	}
	if ce != nil {
		return req.errorCallback(ce), fmt.Errorf("%w: %s: %s", ErrAuthorize, ce.code, ce.descr)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.approveLocked(req), nil
}

// serveAuthorize is GET (login page) and POST (login, then consent) of
// /services/oauth2/authorize.
func (a *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		a.startLogin(w, r, r.URL.Query())
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			a.errorPage(w, &pageError{"invalid_request", "malformed form"})
			return
		}
		switch r.PostForm.Get("step") {
		case "login":
			a.postLogin(w, r, r.PostForm)
		case "consent":
			a.postConsent(w, r, r.PostForm)
		default:
			a.errorPage(w, &pageError{"invalid_request", "unknown form step"})
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// startLogin validates the request and shows the login page.
func (a *Server) startLogin(w http.ResponseWriter, r *http.Request, q url.Values) {
	req, pe, ce := a.parseAuthRequest(q)
	switch {
	case pe != nil:
		a.errorPage(w, pe)
		return
	case ce != nil:
		http.Redirect(w, r, req.errorCallback(ce), http.StatusFound)
		return
	}
	prompt := strings.Fields(q.Get("prompt"))
	loggedIn, approved := a.browserSession(r)
	if contains(prompt, "login") {
		loggedIn = false
	}
	if contains(prompt, "consent") {
		approved = false
	}
	switch {
	case loggedIn && approved:
		// Logged in and the app already allowed: straight back with a code.
		a.mu.Lock()
		target := a.approveLocked(req)
		a.mu.Unlock()
		http.Redirect(w, r, target, http.StatusFound)
	case req.immediate:
		ce := &callbackError{"immediate_unsuccessful", "user is not logged in or has not approved the app"}
		http.Redirect(w, r, req.errorCallback(ce), http.StatusFound)
	case loggedIn:
		a.renderConsent(w, req)
	default:
		a.renderLogin(w, req, q.Get("login_hint"), "")
	}
}

// postLogin checks the credentials; on success it shows the consent page
// with a server-side ticket holding the validated request.
func (a *Server) postLogin(w http.ResponseWriter, r *http.Request, form url.Values) {
	q := url.Values{}
	for _, k := range authParams {
		if v := form.Get(k); v != "" {
			q.Set(k, v)
		}
	}
	req, pe, ce := a.parseAuthRequest(q)
	if pe != nil {
		a.errorPage(w, pe)
		return
	}
	if ce != nil {
		http.Redirect(w, r, req.errorCallback(ce), http.StatusSeeOther)
		return
	}
	if !a.checkLogin(form.Get("username"), form.Get("password")) {
		a.renderLogin(w, req, form.Get("username"),
			"Please check your username and password. If you still can't log in, contact your Salesforce administrator.")
		return
	}
	a.startBrowserSession(w)
	a.renderConsent(w, req)
}

// renderConsent shows the consent page with a server-side ticket holding
// the validated request.
func (a *Server) renderConsent(w http.ResponseWriter, req *authRequest) {
	tk := randomString(40)
	a.mu.Lock()
	a.tickets[tk] = &ticket{req: *req, expires: a.cfg.Now().Add(loginTicketLifetime)}
	a.mu.Unlock()
	a.render(w, http.StatusOK, consentPage, map[string]any{
		"Ticket": tk, "Scopes": req.scopes, "Username": a.cfg.Username,
	})
}

// browserCookie names the fake's browser session cookie.
const browserCookie = "sftest_sid"

// startBrowserSession remembers the login in a cookie, as Salesforce's
// session does, so that a later authorization request skips the login
// page (and the consent page once the app is allowed).
func (a *Server) startBrowserSession(w http.ResponseWriter) {
	sid := randomString(40)
	a.mu.Lock()
	a.browsers[sid] = &browser{expires: a.cfg.Now().Add(a.cfg.SessionTimeout)}
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: sid, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// browserSession reports whether the request's browser is logged in and
// has allowed the app.
func (a *Server) browserSession(r *http.Request) (loggedIn, approved bool) {
	c, err := r.Cookie(browserCookie)
	if err != nil {
		return false, false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.browsers[c.Value]
	if b == nil || !a.cfg.Now().Before(b.expires) {
		return false, false
	}
	return true, b.approved
}

// postConsent applies Allow or Deny.
func (a *Server) postConsent(w http.ResponseWriter, r *http.Request, form url.Values) {
	a.mu.Lock()
	tk := a.tickets[form.Get("ticket")]
	delete(a.tickets, form.Get("ticket"))
	if tk == nil || !a.cfg.Now().Before(tk.expires) {
		a.mu.Unlock()
		a.errorPage(w, &pageError{"invalid_request", "the login has expired; start again"})
		return
	}
	var target string
	switch form.Get("action") {
	case "Allow":
		target = a.approveLocked(&tk.req)
		if c, err := r.Cookie(browserCookie); err == nil && a.browsers[c.Value] != nil {
			a.browsers[c.Value].approved = true
		}
	case "Deny":
		target = tk.req.errorCallback(&callbackError{"access_denied", "end-user denied authorization"})
	default:
		a.mu.Unlock()
		a.errorPage(w, &pageError{"invalid_request", "choose Allow or Deny"})
		return
	}
	a.mu.Unlock()
	http.Redirect(w, r, target, http.StatusFound)
}

func (a *Server) renderLogin(w http.ResponseWriter, req *authRequest, username, message string) {
	var hidden [][2]string
	for _, k := range authParams {
		if v := req.params.Get(k); v != "" {
			hidden = append(hidden, [2]string{k, v})
		}
	}
	a.render(w, http.StatusOK, loginPage, map[string]any{
		"Hidden": hidden, "Username": username, "Message": message,
	})
}

func (a *Server) errorPage(w http.ResponseWriter, e *pageError) {
	a.render(w, http.StatusBadRequest, errorPage, map[string]any{"Code": e.code, "Description": e.descr})
}

func (a *Server) render(w http.ResponseWriter, status int, t *template.Template, data map[string]any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	t.Execute(w, data)
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

const pageHead = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Salesforce (sftest)</title>
<style>body{font-family:sans-serif;max-width:26em;margin:4em auto}label,input,button{display:block;margin:.4em 0}</style>
</head><body>`

var loginPage = template.Must(template.New("login").Parse(pageHead + `
<h1>Login | Salesforce (sftest)</h1>
{{with .Message}}<p id="error" role="alert">{{.}}</p>{{end}}
<form method="post" action="` + authorizePath + `">
<input type="hidden" name="step" value="login">
{{range .Hidden}}<input type="hidden" name="{{index . 0}}" value="{{index . 1}}">
{{end}}<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" value="{{.Username}}" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" name="Login" value="Log In">Log In</button>
</form></body></html>`))

var consentPage = template.Must(template.New("consent").Parse(pageHead + `
<h1>Allow Access?</h1>
<p>The app is asking for access as {{.Username}} to:</p>
<ul>{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<form method="post" action="` + authorizePath + `">
<input type="hidden" name="step" value="consent">
<input type="hidden" name="ticket" value="{{.Ticket}}">
<button type="submit" name="action" value="Allow">Allow</button>
<button type="submit" name="action" value="Deny">Deny</button>
</form></body></html>`))

var errorPage = template.Must(template.New("error").Parse(pageHead + `
<h1>Error</h1>
<p id="error">error={{.Code}}<br>error_description={{.Description}}</p>
</body></html>`))
