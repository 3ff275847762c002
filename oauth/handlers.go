package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Query parameters of the Connect handler.
const (
	ParamReturnTo  = "return_to"  // a local path to redirect to after the callback
	ParamLoginURL  = "login_url"  // one of the allowed login hosts (WithLoginURLs)
	ParamLoginHint = "login_hint" // pre-fills the username
	ParamPrompt    = "prompt"     // "login", "consent", "select_account", space-separated
)

// loginState is what the login cookie carries, sealed.
type loginState struct {
	State    string `json:"s"`
	Verifier string `json:"v"`
	ReturnTo string `json:"r,omitempty"`
	LoginURL string `json:"l"`
	Expires  int64  `json:"e"` // unix seconds
}

const cookieAAD = "sfsync/oauth/login-cookie"

// ConnectHandler serves GET /connect: it redirects the browser to the
// login host's authorize page with a fresh state (256 random bits) and a
// PKCE S256 challenge. The state, the PKCE verifier and where to go
// afterwards travel in a sealed, HttpOnly, SameSite=Lax cookie (Secure when
// Config.RedirectURL is https) named after a hash of the state, so several
// logins can be in flight at once; it lives 10 minutes. Optional query
// parameters: return_to (a local path), login_url (one of Config.LoginURL
// and the WithLoginURLs hosts), login_hint and prompt. See [OAuth 2.0 Web
// Server Flow].
//
// [OAuth 2.0 Web Server Flow]: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm&type=5
func (m *Manager) ConnectHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			m.page(w, http.StatusMethodNotAllowed, "Method not allowed", "Use GET.")
			return
		}
		if m.cfg.ClientID == "" || m.cfg.RedirectURL == "" {
			m.page(w, http.StatusInternalServerError, "Login is not configured", "The app has no client ID or redirect URL.")
			return
		}
		u, err := m.authorizeURL(w, r)
		if err != nil {
			m.page(w, http.StatusBadRequest, "Cannot start the login", err.Error())
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u, http.StatusFound)
	})
}

func (m *Manager) authorizeURL(w http.ResponseWriter, r *http.Request) (string, error) {
	q := r.URL.Query()
	login := m.cfg.loginURL()
	if v := q.Get(ParamLoginURL); v != "" {
		login = ""
		for _, a := range m.o.loginURLs {
			if strings.EqualFold(a, trimSlash(v)) {
				login = a
			}
		}
		if login == "" {
			return "", errors.New("that login URL is not allowed")
		}
	}
	ret := q.Get(ParamReturnTo)
	if ret != "" && !localPath(ret) {
		return "", errors.New("return_to must be a local path")
	}
	opts := []oauth2.AuthCodeOption{}
	if h := q.Get(ParamLoginHint); h != "" {
		if len(h) > 256 {
			return "", errors.New("login_hint is too long")
		}
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", h))
	}
	if p := q.Get(ParamPrompt); p != "" {
		for _, v := range strings.Fields(p) {
			if v != "login" && v != "consent" && v != "select_account" {
				return "", errors.New("prompt must be login, consent or select_account")
			}
		}
		opts = append(opts, oauth2.SetAuthURLParam("prompt", strings.Join(strings.Fields(p), " ")))
	}
	st := loginState{State: randomState(), Verifier: oauth2.GenerateVerifier(), ReturnTo: ret, LoginURL: login,
		Expires: m.o.now().Add(m.o.loginTTL).Unix()}
	val, err := m.sealCookie(&st)
	if err != nil {
		return "", errors.New("cannot seal the login state")
	}
	http.SetCookie(w, m.cookie(st.State, val, int(m.o.loginTTL/time.Second)))
	opts = append(opts, oauth2.S256ChallengeOption(st.Verifier))
	return m.cfg.oauth2Config(login).AuthCodeURL(st.State, opts...), nil
}

func randomState() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// localPath accepts "/x" but not "//host" or "/\host" (open redirects).
func localPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return false
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && !strings.ContainsAny(p, "\r\n\t")
}

// cookieName is the login cookie of one state.
func (m *Manager) cookieName(state string) string {
	h := sha256.Sum256([]byte(state))
	return m.o.cookieName + "_" + hex.EncodeToString(h[:8])
}

func (m *Manager) cookie(state, value string, maxAge int) *http.Cookie {
	path := "/"
	secure := false
	if u, err := url.Parse(m.cfg.RedirectURL); err == nil {
		if u.Path != "" {
			path = u.Path
		}
		secure = u.Scheme == "https"
	}
	c := &http.Cookie{Name: m.cookieName(state), Value: value, Path: path, HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
	if maxAge > 0 {
		c.Expires = m.o.now().Add(time.Duration(maxAge) * time.Second)
	}
	return c
}

func (m *Manager) sealCookie(st *loginState) (string, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	sealed, err := m.sealer.Seal(b, []byte(cookieAAD))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Errors of the callback's state check.
var (
	ErrNoState      = errors.New("oauth: callback has no state")
	ErrNoLoginState = errors.New("oauth: no login in progress for this state (expired, or started in another browser)")
	ErrBadState     = errors.New("oauth: state does not match the login in progress")
	ErrStateExpired = errors.New("oauth: login took longer than 10 minutes")
	ErrStateUsed    = errors.New("oauth: this login was already completed")
)

// openCookie opens a login cookie value and checks it against state.
func (m *Manager) openCookie(value, state string) (*loginState, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil, ErrBadState
	}
	b, err := m.sealer.Open(raw, []byte(cookieAAD))
	if err != nil {
		return nil, ErrBadState
	}
	var st loginState
	if err := json.Unmarshal(b, &st); err != nil || st.State == "" || st.Verifier == "" {
		return nil, ErrBadState
	}
	if subtle.ConstantTimeCompare([]byte(st.State), []byte(state)) != 1 {
		return nil, ErrBadState
	}
	if !m.o.now().Before(time.Unix(st.Expires, 0)) {
		return nil, ErrStateExpired
	}
	return &st, nil
}

// checkState finds and opens the login cookie of the request's state and
// clears it in the response.
func (m *Manager) checkState(w http.ResponseWriter, r *http.Request, state string) (*loginState, error) {
	if state == "" {
		return nil, ErrNoState
	}
	if len(state) > 512 {
		return nil, ErrBadState
	}
	ck, err := r.Cookie(m.cookieName(state))
	if err != nil {
		return nil, ErrNoLoginState
	}
	http.SetCookie(w, m.cookie(state, "", -1))
	st, err := m.openCookie(ck.Value, state)
	if err != nil {
		return nil, err
	}
	if !m.states.use(state, time.Unix(st.Expires, 0), m.o.now()) {
		return nil, ErrStateUsed
	}
	return st, nil
}

// CallbackHandler serves GET /callback. It checks the state against the
// login cookie (a missing, forged, replayed or expired state is a 400 and
// nothing is stored), shows Salesforce's error (the user denied access) on
// a page, exchanges the code with the PKCE verifier, verifies the token
// response signature (SALESFORCE.md 1.5), reads the identity URL for the
// org ID, user ID and username, saves the connection, runs the OnConnect
// hooks and redirects to the login's return_to, or shows a success page.
// A callback carrying Salesforce's error (the user clicked Deny) gets a
// 400 page saying that nothing was connected. See [OAuth 2.0 Web Server
// Flow] and [Identity URLs].
//
// [OAuth 2.0 Web Server Flow]: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm&type=5
// [Identity URLs]: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_using_openid.htm&type=5
func (m *Manager) CallbackHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			m.page(w, http.StatusMethodNotAllowed, "Method not allowed", "Use GET.")
			return
		}
		q := r.URL.Query()
		st, serr := m.checkState(w, r, q.Get("state"))
		if e := q.Get("error"); e != "" {
			m.deniedPage(w, st, serr, e, q.Get("error_description"))
			return
		}
		if serr != nil {
			m.page(w, http.StatusBadRequest, "Login rejected", serr.Error())
			return
		}
		code := q.Get("code")
		if code == "" || len(code) > 4096 {
			m.page(w, http.StatusBadRequest, "Login rejected", "The callback has no authorization code.")
			return
		}
		c, status, err := m.complete(r.Context(), st, code)
		if err != nil {
			m.page(w, status, "Login failed", err.Error())
			return
		}
		m.mu.Lock()
		hooks := append([]func(context.Context, *Connection){}, m.hooks...)
		m.mu.Unlock()
		hctx := context.WithoutCancel(r.Context()) // see OnConnect
		for _, h := range hooks {
			cp := *c
			cp.Scopes = slices.Clone(c.Scopes)
			h(hctx, &cp)
		}
		if st.ReturnTo != "" {
			http.Redirect(w, r, st.ReturnTo, http.StatusSeeOther)
			return
		}
		m.page(w, http.StatusOK, "Org connected", fmt.Sprintf("Connected %s as %s.", c.OrgID, c.Username))
	})
}

// deniedPage answers a callback that carries Salesforce's error instead
// of a code (SALESFORCE.md 1.7), most often access_denied when the user
// clicked Deny: a 400 with a page a person can read, nothing stored. The
// error_description is shown only when the state matches a login in
// progress, so a crafted link cannot put text of its choosing on the page.
func (m *Manager) deniedPage(w http.ResponseWriter, st *loginState, serr error, code, desc string) {
	code = clipText(code, 100)
	if strings.Trim(code, "abcdefghijklmnopqrstuvwxyz_") != "" {
		code = "unexpected error code" // OAuth codes are lower case words
	}
	if serr != nil {
		m.page(w, http.StatusBadRequest, "Login rejected",
			"Salesforce reported an error ("+code+"), but it belongs to no login in progress in this browser. Nothing was connected.")
		return
	}
	desc = clipText(desc, 500)
	if code == "access_denied" {
		msg := "Access to Salesforce was not granted, so no org was connected. You can close this page, or start the connection again when you are ready."
		if desc != "" {
			msg += " (Salesforce said: " + strings.TrimSuffix(desc, ".") + ".)"
		}
		m.pageLink(w, http.StatusBadRequest, "Connection cancelled", msg, st.ReturnTo)
		return
	}
	msg := "Salesforce could not connect the org: " + code
	if desc != "" {
		msg += " (" + desc + ")"
	}
	m.pageLink(w, http.StatusBadRequest, "Salesforce did not connect the org", msg+". Nothing was connected; you can try again.", st.ReturnTo)
}

// clipText cuts s to at most n bytes without splitting a character.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}

// complete redeems the code and saves the connection. The status is the
// HTTP status to answer with on error.
func (m *Manager) complete(ctx context.Context, st *loginState, code string) (*Connection, int, error) {
	tr, err := m.exchange(ctx, st.LoginURL, code, st.Verifier)
	if err != nil {
		var te *TokenError
		if errors.As(err, &te) {
			return nil, http.StatusBadRequest, fmt.Errorf("salesforce refused the authorization code: %s", strings.TrimPrefix(te.Error(), "authorization_code grant refused: "))
		}
		return nil, http.StatusBadGateway, errors.New("the login host could not be reached")
	}
	if err := verifySignature(m.cfg.ClientSecret, tr, true); err != nil {
		return nil, http.StatusBadRequest, err
	}
	c, err := m.connectionFrom(ctx, tr, st.LoginURL)
	if err != nil {
		return nil, http.StatusBadGateway, err
	}
	if err := m.Save(ctx, c); err != nil {
		return nil, http.StatusInternalServerError, errors.New("the connection could not be saved")
	}
	return c, 0, nil
}

// connectionFrom checks a token response and reads its identity.
func (m *Manager) connectionFrom(ctx context.Context, tr *tokenResponse, loginURL string) (*Connection, error) {
	if tr.AccessToken == "" || tr.ID == "" || tr.InstanceURL == "" {
		return nil, errors.New("token response lacks access_token, id or instance_url")
	}
	if err := checkHost(tr.ID, loginURL); err != nil {
		return nil, fmt.Errorf("identity url: %w", err)
	}
	if err := checkHost(tr.InstanceURL, loginURL); err != nil {
		return nil, fmt.Errorf("instance url: %w", err)
	}
	id, err := m.readIdentity(ctx, tr.ID, tr.AccessToken)
	if err != nil {
		return nil, err
	}
	org, err := NormalizeOrgID(id.OrgID)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if p := strings.Split(strings.Trim(mustPath(tr.ID), "/"), "/"); len(p) >= 3 && p[len(p)-3] == "id" {
		if o, err := NormalizeOrgID(p[len(p)-2]); err == nil && o != org {
			return nil, errors.New("identity: org id differs from the identity url")
		}
	}
	return &Connection{
		OrgID: org, UserID: id.UserID, Username: id.Username, InstanceURL: tr.InstanceURL,
		IdentityURL: tr.ID, LoginURL: loginURL, Scopes: tr.scopes(), IssuedAt: tr.issuedAt(m.o.now()),
		AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken,
	}, nil
}

func mustPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Path
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1><p>{{.Message}}</p>{{with .Link}}<p><a href="{{.}}">Continue</a></p>{{end}}</body></html>
`))

func (m *Manager) page(w http.ResponseWriter, status int, title, msg string) {
	m.pageLink(w, status, title, msg, "")
}

// pageLink writes a small HTML page; link, if set, is a local path
// (checked by localPath when the login started).
func (m *Manager) pageLink(w http.ResponseWriter, status int, title, msg, link string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	pageTmpl.Execute(w, struct{ Title, Message, Link string }{title, msg, link})
}

// usedStates remembers completed states until their cookies expire, so a
// replayed callback is refused even if the browser kept the cookie.
type usedStates struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (u *usedStates) use(state string, expires, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.seen == nil {
		u.seen = map[string]time.Time{}
	}
	for k, e := range u.seen {
		if now.After(e) {
			delete(u.seen, k)
		}
	}
	h := sha256.Sum256([]byte(state))
	k := string(h[:])
	if _, ok := u.seen[k]; ok {
		return false
	}
	u.seen[k] = expires
	return true
}
