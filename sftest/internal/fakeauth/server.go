package fakeauth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultSessionTimeout is the access token lifetime when
// Config.SessionTimeout is zero (SALESFORCE.md 1.6: 2 hours is a common
// default).
const DefaultSessionTimeout = 2 * time.Hour

// CodeLifetime is how long an authorization code can be exchanged.
const CodeLifetime = 15 * time.Minute

// loginTicketLifetime bounds the time between the login page and the
// consent page.
const loginTicketLifetime = 15 * time.Minute

// defaultScopes are granted when an authorization request names no scope,
// as Salesforce grants every scope configured on the connected app.
var defaultScopes = []string{"api", "id", "refresh_token"}

// knownScopes are the scopes of SALESFORCE.md 1.1 the fake accepts.
var knownScopes = map[string]bool{
	"api": true, "refresh_token": true, "offline_access": true, "id": true,
	"openid": true, "profile": true, "email": true, "address": true,
	"phone": true, "web": true, "full": true, "chatter_api": true,
	"visualforce": true, "custom_permissions": true, "wave_api": true,
	"lightning": true, "content": true, "pardot_api": true,
}

// Config configures the OAuth server of one fake org with one connected app
// and one user.
type Config struct {
	// ClientID and ClientSecret are the connected app's consumer key and
	// secret.
	ClientID, ClientSecret string
	// RedirectURIs are the app's callback URLs (exact match). Empty allows
	// any http://127.0.0.1:<port>/... or http://localhost:<port>/... URL.
	RedirectURIs []string

	// Username and Password are the one user's login.
	Username, Password string
	// OrgID and UserID are 18-character IDs (00D..., 005...).
	OrgID, UserID string
	// FirstName, LastName and Email describe the user in the identity and
	// userinfo responses. Empty: "Test", "User" and Username.
	FirstName, LastName, Email string

	// RotateRefreshTokens makes every refresh return a new refresh token
	// and invalidate the old one (SALESFORCE.md 1.6).
	RotateRefreshTokens bool
	// SessionTimeout is the access token lifetime. Zero means
	// DefaultSessionTimeout.
	SessionTimeout time.Duration

	// Now is the fake org's clock. Nil means time.Now.
	Now func() time.Time
	// BaseURL gives the server URL, without a trailing slash: the login
	// URL (the JWT audience), the instance_url and the host of the
	// identity URL. Nil means "http://127.0.0.1".
	BaseURL func() string
	// Count, if not nil, is called once per request with the endpoint
	// name: "token", "identity", "userinfo", "revoke", "authorize" or
	// "jwks" (the /id/keys key set).
	Count func(endpoint string)
}

// Server is the OAuth 2.0 server of a fake org. It is safe for concurrent
// use.
type Server struct {
	cfg Config

	keyOnce sync.Once
	key     *rsa.PrivateKey // the JWT bearer certificate's key; made at first use

	idKeyOnce sync.Once
	idKey     *rsa.PrivateKey // signs id_tokens; made at first use

	mu       sync.Mutex
	codes    map[string]*authCode
	tickets  map[string]*ticket
	browsers map[string]*browser
	access   map[string]*accessToken
	refresh  map[string]*refreshToken
}

// authCode is an issued authorization code.
type authCode struct {
	clientID, redirectURI string
	scopes                []string
	challenge, nonce      string
	expires               time.Time
	used                  bool
}

// ticket is a successful login waiting for consent.
type ticket struct {
	req     authRequest
	expires time.Time
}

// browser is a logged-in browser (the session cookie of the pages).
type browser struct {
	expires  time.Time
	approved bool
}

// accessToken is an issued access token (a session).
type accessToken struct {
	expires time.Time
	refresh string // "" when the token came from a flow without refresh token
	scopes  []string
	revoked bool
}

// refreshToken is an issued refresh token.
type refreshToken struct {
	clientID string
	scopes   []string
	revoked  bool
}

// New returns an OAuth server for cfg. The 2048-bit RSA key whose
// certificate is registered for the JWT bearer flow is generated at the
// first call of JWTPrivateKey or the first JWT bearer request (which then
// fails, as no one else can hold the key), so that New stays cheap for
// the many tests that never use the flow.
func New(cfg Config) *Server {
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultSessionTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BaseURL == nil {
		cfg.BaseURL = func() string { return "http://127.0.0.1" }
	}
	if cfg.FirstName == "" {
		cfg.FirstName = "Test"
	}
	if cfg.LastName == "" {
		cfg.LastName = "User"
	}
	if cfg.Email == "" {
		cfg.Email = cfg.Username
	}
	return &Server{
		cfg:      cfg,
		codes:    map[string]*authCode{},
		tickets:  map[string]*ticket{},
		browsers: map[string]*browser{},
		access:   map[string]*accessToken{},
		refresh:  map[string]*refreshToken{},
	}
}

// Register mounts the OAuth endpoints, the identity URL and the key set
// that verifies id_tokens (/id/keys, counted as "jwks") on mux.
func (a *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("/services/oauth2/authorize", a.counted("authorize", a.serveAuthorize))
	mux.HandleFunc("/services/oauth2/token", a.counted("token", a.serveToken))
	mux.HandleFunc("/services/oauth2/revoke", a.counted("revoke", a.serveRevoke))
	mux.HandleFunc("/services/oauth2/userinfo", a.counted("userinfo", a.serveUserinfo))
	mux.HandleFunc("/id/{orgID}/{userID}", a.counted("identity", a.serveIdentity))
	mux.HandleFunc("/id/keys", a.counted("jwks", a.serveKeys))
}

func (a *Server) counted(name string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Count != nil {
			a.cfg.Count(name)
		}
		h(w, r)
	}
}

// JWTPrivateKey returns the private key of the certificate registered for
// the JWT bearer flow: assertions signed with it are accepted.
func (a *Server) JWTPrivateKey() *rsa.PrivateKey {
	a.keyOnce.Do(func() { a.key = generateKey() })
	return a.key
}

func generateKey() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("fakeauth: generate key: " + err.Error())
	}
	return k
}

// Validate reports whether accessToken is live: issued by this server, not
// revoked, and not expired on the Now clock.
func (a *Server) Validate(accessToken string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.liveLocked(accessToken) != nil
}

func (a *Server) liveLocked(token string) *accessToken {
	t := a.access[token]
	if t == nil || t.revoked || !a.cfg.Now().Before(t.expires) {
		return nil
	}
	return t
}

// NewSession issues an access token and a refresh token as if the user had
// logged in and allowed the app with the default scopes
// ("api id refresh_token").
func (a *Server) NewSession() (access, refresh string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	refresh = a.newRefreshLocked(a.cfg.ClientID, defaultScopes)
	access = a.newAccessLocked(refresh, defaultScopes)
	return access, refresh
}

// ExpireAccessTokens makes every access token issued so far expired.
// Refresh tokens stay valid.
func (a *Server) ExpireAccessTokens() {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.cfg.Now()
	for _, t := range a.access {
		if t.expires.After(now) {
			t.expires = now
		}
	}
}

// RevokeRefreshToken revokes a refresh token and every access token issued
// from it, as the revoke endpoint does (SALESFORCE.md 1.8). Unknown tokens
// are ignored.
func (a *Server) RevokeRefreshToken(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.revokeRefreshLocked(token)
}

func (a *Server) revokeRefreshLocked(token string) bool {
	rt := a.refresh[token]
	if rt == nil {
		return false
	}
	rt.revoked = true
	for _, t := range a.access {
		if t.refresh == token {
			t.revoked = true
		}
	}
	return true
}

// newAccessLocked issues an access token: the 15-character org ID, "!",
// then random characters (SALESFORCE.md 1.4).
func (a *Server) newAccessLocked(refresh string, scopes []string) string {
	tok := org15(a.cfg.OrgID) + "!AQ" + randomString(72)
	a.access[tok] = &accessToken{
		expires: a.cfg.Now().Add(a.cfg.SessionTimeout),
		refresh: refresh,
		scopes:  scopes,
	}
	return tok
}

func (a *Server) newRefreshLocked(clientID string, scopes []string) string {
	tok := "5Aep" + randomString(80)
	a.refresh[tok] = &refreshToken{clientID: clientID, scopes: scopes}
	return tok
}

// identityURL is the "id" of token responses (SALESFORCE.md 1.4).
func (a *Server) identityURL() string {
	return a.cfg.BaseURL() + "/id/" + a.cfg.OrgID + "/" + a.cfg.UserID
}

// grantsRefresh reports whether scopes allow a refresh token (1.2).
func grantsRefresh(scopes []string) bool {
	for _, s := range scopes {
		if s == "refresh_token" || s == "offline_access" {
			return true
		}
	}
	return false
}

// org15 returns the case-sensitive 15-character form of an ID.
func org15(id string) string {
	if len(id) > 15 {
		return id[:15]
	}
	return id
}

// randomString returns n URL-safe random characters. Salesforce's tokens
// use letters, digits, '.' and '_' after the prefix.
func randomString(n int) string {
	b := make([]byte, (n*3+3)/4)
	if _, err := rand.Read(b); err != nil {
		panic("fakeauth: random: " + err.Error())
	}
	s := base64.RawURLEncoding.EncodeToString(b)
	return strings.ReplaceAll(s[:n], "-", ".")
}
