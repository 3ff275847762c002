package oauth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// Connection is a connected org with its tokens in clear (as Secret).
type Connection struct {
	OrgID        string // 18 characters
	UserID       string
	Username     string
	InstanceURL  string // base of REST calls; updated when a refresh moves it
	IdentityURL  string
	LoginURL     string // where refresh, revoke and JWT grants go
	Scopes       []string
	IssuedAt     time.Time // when the current access token was issued
	Status       store.ConnectionStatus
	AccessToken  Secret
	RefreshToken Secret // empty for a JWT bearer connection
}

// sealedTokens is the clear form of store.Connection.Sealed.
type sealedTokens struct {
	Access  string `json:"a"`
	Refresh string `json:"r,omitempty"`
	// RefreshingAt is set by the process that claimed the right to
	// refresh (see Manager.refresh); zero otherwise.
	RefreshingAt time.Time `json:"ra,omitzero"`
}

// Manager connects orgs and keeps their sessions. It is safe for
// concurrent use. Several Managers (in one or several processes) may share
// a Store: the connection's Version decides which of them refreshes.
type Manager struct {
	cfg    Config
	st     store.ConnectionStore
	sealer *Sealer
	o      options

	mu     sync.Mutex
	conns  map[string]*connState
	jwt    map[string]*JWTBearer // org ID -> minter
	hooks  []func(context.Context, *Connection)
	states usedStates
}

// connState is the in-process cache and refresh lock of one connection.
type connState struct {
	refreshing chan struct{} // a one-slot lock: one refresh at a time in this process

	mu      sync.Mutex
	conn    *Connection
	version int64
}

func (cs *connState) get() (*Connection, int64) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := *cs.conn
	return &c, cs.version
}

func (cs *connState) set(c *Connection, v int64) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cp := *c
	cs.conn, cs.version = &cp, v
}

type options struct {
	now          func() time.Time
	loginURLs    []string
	claimTimeout time.Duration
	pollInterval time.Duration
	cookieName   string
	loginTTL     time.Duration
}

// ManagerOption configures a Manager.
type ManagerOption func(*options)

// WithLoginURLs allows the Connect handler's login_url parameter to pick
// one of these login hosts (besides Config.LoginURL), such as
// SandboxLoginURL.
func WithLoginURLs(urls ...string) ManagerOption {
	return func(o *options) { o.loginURLs = append(o.loginURLs, urls...) }
}

// WithClock sets the clock used for cookie expiry and claims (tests).
func WithClock(now func() time.Time) ManagerOption {
	return func(o *options) { o.now = now }
}

// WithRefreshClaimTimeout sets how long a refresh claimed by another
// process is waited for before this process takes over (default 30s).
func WithRefreshClaimTimeout(d time.Duration) ManagerOption {
	return func(o *options) { o.claimTimeout = d }
}

// NewManager returns a Manager storing connections in st, with token
// material sealed by s.
func NewManager(cfg Config, st store.ConnectionStore, s *Sealer, opts ...ManagerOption) *Manager {
	m := &Manager{cfg: cfg, st: st, sealer: s, conns: map[string]*connState{}, jwt: map[string]*JWTBearer{}}
	m.o = options{now: time.Now, claimTimeout: 30 * time.Second, pollInterval: 25 * time.Millisecond,
		cookieName: "sfsync_login", loginTTL: 10 * time.Minute}
	for _, f := range opts {
		f(&m.o)
	}
	m.o.loginURLs = append([]string{cfg.loginURL()}, m.o.loginURLs...)
	for i, u := range m.o.loginURLs {
		m.o.loginURLs[i] = trimSlash(u)
	}
	return m
}

// String names the Manager by its client ID; it never prints the client
// secret, keys or tokens the Manager holds.
func (m *Manager) String() string { return "oauth.Manager{ClientID:" + m.cfg.ClientID + "}" }

// Format writes String for every verb (fmt would otherwise print the
// unexported configuration, client secret included).
func (m *Manager) Format(f fmt.State, _ rune) { io.WriteString(f, m.String()) }

// LogValue logs the Manager as String.
func (m *Manager) LogValue() slog.Value { return slog.StringValue(m.String()) }

// OnConnect adds a hook that the callback calls after it saved a new
// connection, once per hook in the order added, with a copy of the
// connection (tokens included: do not log them in clear; Secret prints
// as "[redacted]").
//
// Hooks run synchronously on the callback's request, before the browser
// is redirected or shown the success page, so a hook must return quickly:
// start long work, such as the first full sync, in a goroutine of its own
// (or hand it to a job queue) and return. ctx carries the request's values
// but is not cancelled when the response has been written, so work started
// with it is not cut short when the browser moves on; give such work a
// deadline or a cancellation of its own. A panic in a hook is not
// recovered (net/http then drops the connection); the connection is saved
// by then.
func (m *Manager) OnConnect(f func(ctx context.Context, c *Connection)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hooks = append(m.hooks, f)
}

func aad(orgID string) []byte { return []byte("sfsync/oauth/tokens/" + orgID) }

func (m *Manager) seal(c *Connection, claim time.Time) ([]byte, error) {
	b, err := json.Marshal(sealedTokens{Access: c.AccessToken.Reveal(), Refresh: c.RefreshToken.Reveal(), RefreshingAt: claim})
	if err != nil {
		return nil, err
	}
	return m.sealer.Seal(b, aad(c.OrgID))
}

func (m *Manager) unseal(sc *store.Connection) (*Connection, sealedTokens, error) {
	var t sealedTokens
	b, err := m.sealer.Open(sc.Sealed, aad(sc.OrgID))
	if err != nil {
		return nil, t, fmt.Errorf("open tokens of %s: %w", sc.OrgID, err)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, t, fmt.Errorf("open tokens of %s: %w", sc.OrgID, ErrBadSeal)
	}
	c := &Connection{
		OrgID: sc.OrgID, UserID: sc.UserID, Username: sc.Username, InstanceURL: sc.InstanceURL,
		IdentityURL: sc.IdentityURL, LoginURL: sc.LoginURL, Scopes: slices.Clone(sc.Scopes),
		IssuedAt: sc.IssuedAt, Status: sc.Status,
		AccessToken: Secret(t.Access), RefreshToken: Secret(t.Refresh),
	}
	return c, t, nil
}

func (m *Manager) toStore(c *Connection, version int64, claim time.Time) (*store.Connection, error) {
	sealed, err := m.seal(c, claim)
	if err != nil {
		return nil, fmt.Errorf("seal tokens of %s: %w", c.OrgID, err)
	}
	status := c.Status
	if status == "" {
		status = store.StatusActive
	}
	return &store.Connection{
		OrgID: c.OrgID, UserID: c.UserID, Username: c.Username, InstanceURL: c.InstanceURL,
		IdentityURL: c.IdentityURL, LoginURL: c.LoginURL, Scopes: slices.Clone(c.Scopes),
		Status: status, IssuedAt: c.IssuedAt, Sealed: sealed, Version: version,
	}, nil
}

// load reads a connection from the Store, unsealed.
func (m *Manager) load(ctx context.Context, orgID string) (*Connection, sealedTokens, int64, error) {
	sc, err := m.st.Connection(ctx, orgID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, sealedTokens{}, 0, fmt.Errorf("%w: %s", ErrNotConnected, orgID)
	}
	if err != nil {
		return nil, sealedTokens{}, 0, fmt.Errorf("load connection %s: %w", orgID, err)
	}
	c, t, err := m.unseal(sc)
	if err != nil {
		return nil, t, 0, err
	}
	return c, t, sc.Version, nil
}

// Connection returns the stored connection of an org (15- or 18-character
// ID) with its tokens, or an error wrapping ErrNotConnected.
func (m *Manager) Connection(ctx context.Context, orgID string) (*Connection, error) {
	id, err := NormalizeOrgID(orgID)
	if err != nil {
		return nil, err
	}
	c, _, _, err := m.load(ctx, id)
	return c, err
}

// Connections lists every stored connection, ordered by org ID.
func (m *Manager) Connections(ctx context.Context) ([]*Connection, error) {
	scs, err := m.st.Connections(ctx)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	out := make([]*Connection, 0, len(scs))
	for _, sc := range scs {
		c, _, err := m.unseal(sc)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Save stores c, replacing the org's connection if there is one: for
// example a connection built from tokens a tool already holds. OrgID may
// have 15 or 18 characters; an empty Status means active, an empty
// LoginURL means Config.LoginURL.
func (m *Manager) Save(ctx context.Context, c *Connection) error {
	id, err := NormalizeOrgID(c.OrgID)
	if err != nil {
		return fmt.Errorf("save connection: %w", err)
	}
	cp := *c
	cp.OrgID = id
	if cp.Status == "" {
		cp.Status = store.StatusActive
	}
	if cp.LoginURL == "" {
		cp.LoginURL = m.cfg.loginURL()
	}
	cp.LoginURL = trimSlash(cp.LoginURL)
	cp.InstanceURL = trimSlash(cp.InstanceURL)
	if cp.InstanceURL == "" || cp.AccessToken == "" {
		return errors.New("save connection: instance url and access token are required")
	}
	for range 10 {
		var version int64
		sc, err := m.st.Connection(ctx, id)
		switch {
		case err == nil:
			version = sc.Version
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("save connection %s: %w", id, err)
		}
		nsc, err := m.toStore(&cp, version, time.Time{})
		if err != nil {
			return err
		}
		err = m.st.SaveConnection(ctx, nsc)
		if errors.Is(err, store.ErrVersionConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("save connection %s: %w", id, err)
		}
		m.state(id).set(&cp, nsc.Version)
		*c = cp
		return nil
	}
	return fmt.Errorf("save connection %s: %w", id, store.ErrVersionConflict)
}

// Disconnect revokes the org's refresh token (or its access token, for a
// connection without one) at the login host and deletes the connection.
// When revoking fails (not counting a token that is already invalid), the
// connection is kept and the error returned, so the call can be repeated.
// See [Revoke OAuth Tokens].
//
// [Revoke OAuth Tokens]: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_revoke_token.htm&type=5
func (m *Manager) Disconnect(ctx context.Context, orgID string) error {
	id, err := NormalizeOrgID(orgID)
	if err != nil {
		return fmt.Errorf("disconnect: %w", err)
	}
	c, _, _, err := m.load(ctx, id)
	if err != nil {
		return fmt.Errorf("disconnect: %w", err)
	}
	tok := c.RefreshToken
	if tok == "" {
		tok = c.AccessToken
	}
	if tok != "" {
		if err := m.revoke(ctx, c.LoginURL, tok); err != nil {
			return fmt.Errorf("disconnect %s: %w", id, err)
		}
	}
	if err := m.st.DeleteConnection(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("disconnect %s: %w", id, err)
	}
	m.mu.Lock()
	delete(m.conns, id)
	delete(m.jwt, id)
	m.mu.Unlock()
	return nil
}

func (m *Manager) state(orgID string) *connState {
	m.mu.Lock()
	defer m.mu.Unlock()
	cs, ok := m.conns[orgID]
	if !ok {
		cs = &connState{refreshing: make(chan struct{}, 1)}
		m.conns[orgID] = cs
	}
	return cs
}

// cached returns the in-process state of a connection, loading it from the
// Store the first time.
func (m *Manager) cached(ctx context.Context, orgID string) (*connState, error) {
	cs := m.state(orgID)
	cs.mu.Lock()
	loaded := cs.conn != nil
	cs.mu.Unlock()
	if loaded {
		return cs, nil
	}
	c, _, v, err := m.load(ctx, orgID)
	if err != nil {
		return nil, err
	}
	cs.mu.Lock()
	if cs.conn == nil {
		cs.conn, cs.version = c, v
	}
	cs.mu.Unlock()
	return cs, nil
}

func (m *Manager) minter(orgID string) *JWTBearer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.jwt[orgID]
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// JWTBearer is the server-to-server login of the JWT bearer flow
// (SALESFORCE.md 1.10): the connected app's certificate holds the public
// half of PrivateKey, and Username is pre-authorized for the app.
type JWTBearer struct {
	Username   string
	PrivateKey *rsa.PrivateKey
	// LoginURL is where the token is requested; "" means Config.LoginURL.
	LoginURL string
	// Audience is the JWT aud claim; "" means the login host
	// (https://login.salesforce.com, https://test.salesforce.com or a
	// community URL must be used with a My Domain LoginURL).
	Audience string
	// Lifetime of the assertion; 0 means 3 minutes.
	Lifetime time.Duration
}
