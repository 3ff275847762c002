package oauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// Client returns an *http.Client for an org's API (15- or 18-character
// ID). It adds the access token as a bearer to requests for the org's
// instance (and identity) host, and never to other hosts. When a response
// is 401 with INVALID_SESSION_ID it gets a new access token (refresh
// token, or the JWT bearer flow), persists it and replays the request once;
// a request whose body cannot be rewound (no GetBody) is not replayed. It
// never refreshes on 403 or any other status. When the org's instance URL
// changes on refresh, requests still aimed at the old instance go to the
// new one.
//
// When no new token can be had, the request fails with an error for which
// errors.Is(err, ErrLoginRequired) holds. See [OAuth 2.0 Refresh Token
// Flow].
//
// [OAuth 2.0 Refresh Token Flow]: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm&type=5
func (m *Manager) Client(ctx context.Context, orgID string) (*http.Client, error) {
	id, err := NormalizeOrgID(orgID)
	if err != nil {
		return nil, err
	}
	cs, err := m.cached(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := m.usable(ctx, cs, id)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", id, err)
	}
	base := m.cfg.httpClient()
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	origin, _ := url.Parse(c.InstanceURL)
	return &http.Client{Transport: &transport{m: m, orgID: id, cs: cs, base: rt, origin: origin},
		Timeout: base.Timeout, CheckRedirect: base.CheckRedirect}, nil
}

type transport struct {
	m      *Manager
	orgID  string
	cs     *connState
	base   http.RoundTripper
	origin *url.URL // the instance URL when the Client was made
}

// usable returns the cached connection. One cached as needing a login is
// read again from the Store first: another process may have connected the
// org again since.
func (m *Manager) usable(ctx context.Context, cs *connState, orgID string) (*Connection, error) {
	c, _ := cs.get()
	if c.Status != store.StatusLoginRequired {
		return c, nil
	}
	nc, _, v, err := m.load(ctx, orgID)
	if err != nil {
		return nil, err
	}
	cs.set(nc, v)
	if nc.Status == store.StatusLoginRequired {
		return nil, ErrLoginRequired
	}
	return nc, nil
}

// maxSniff is how much of a 401 body is read to look for
// INVALID_SESSION_ID; the body is given back intact otherwise.
const maxSniff = 64 << 10

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, err := t.m.usable(req.Context(), t.cs, t.orgID)
	if err != nil {
		closeBody(req)
		return nil, fmt.Errorf("%s: %w", t.orgID, err)
	}
	r2, authed := t.prepare(req, c, req.Body)
	resp, err := t.base.RoundTrip(r2)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !authed {
		return resp, err
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxSniff))
	if err != nil || !invalidSession(head) || !rewindable(req) {
		resp.Body = &prefixBody{Reader: io.MultiReader(bytes.NewReader(head), resp.Body), c: resp.Body}
		return resp, nil
	}
	resp.Body.Close()

	nc, err := t.m.refresh(req.Context(), t.cs, t.orgID, c.AccessToken)
	if err != nil {
		return nil, err
	}
	var body io.ReadCloser
	if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		if body, err = req.GetBody(); err != nil {
			return nil, fmt.Errorf("rewind body: %w", err)
		}
	}
	r3, _ := t.prepare(req, nc, body)
	return t.base.RoundTrip(r3)
}

// prepare clones req for connection c: it moves requests from an old
// instance to the current one and adds the bearer for the org's hosts.
func (t *transport) prepare(req *http.Request, c *Connection, body io.ReadCloser) (*http.Request, bool) {
	r := req.Clone(req.Context())
	r.Body = body
	inst, _ := url.Parse(c.InstanceURL)
	if inst != nil && t.origin != nil && sameHost(r.URL, t.origin) && !sameHost(t.origin, inst) {
		r.URL.Scheme, r.URL.Host, r.Host = inst.Scheme, inst.Host, ""
	}
	id, _ := url.Parse(c.IdentityURL)
	if (inst != nil && sameHost(r.URL, inst)) || (id != nil && sameHost(r.URL, id)) {
		r.Header.Set("Authorization", "Bearer "+c.AccessToken.Reveal())
		return r, true
	}
	return r, false
}

func sameHost(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host
}

func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// invalidSession reports whether a 401 body says the session is invalid
// (SALESFORCE.md 2.3): REST JSON, Bulk/SOAP XML or the identity service.
func invalidSession(body []byte) bool {
	return bytes.Contains(body, []byte("INVALID_SESSION_ID")) ||
		bytes.Contains(body, []byte("InvalidSessionId")) ||
		bytes.Contains(body, []byte("Bad_OAuth_Token"))
}

type prefixBody struct {
	io.Reader
	c io.Closer
}

func (p *prefixBody) Close() error { return p.c.Close() }

// refresh gets a new access token to replace failed, the one a request was
// refused with. In this process one refresh per connection runs at a time;
// callers that waited find the new token and use it. Across processes the
// connection's Version decides: a process first claims the refresh by
// saving the connection with a claim mark (the save succeeds for one
// process only); the others wait for the new token to appear in the Store,
// so a rotating refresh token is never spent twice. A claim older than the
// claim timeout (a crashed process) is taken over.
//
// The grant and the save that follows run on a context detached from the
// caller's, so a cancelled request cannot lose a rotated refresh token.
func (m *Manager) refresh(ctx context.Context, cs *connState, orgID string, failed Secret) (*Connection, error) {
	select { // wait for a refresh in progress, but not past ctx
	case cs.refreshing <- struct{}{}:
		defer func() { <-cs.refreshing }()
	case <-ctx.Done():
		return nil, fmt.Errorf("refresh %s: %w", orgID, ctx.Err())
	}
	if c, _ := cs.get(); c.AccessToken != failed && c.Status != store.StatusLoginRequired {
		return c, nil
	}
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	for {
		c, tok, v, err := m.load(work, orgID)
		if err != nil {
			return nil, fmt.Errorf("refresh %s: %w", orgID, err)
		}
		if c.Status == store.StatusLoginRequired {
			cs.set(c, v)
			return nil, fmt.Errorf("refresh %s: %w", orgID, ErrLoginRequired)
		}
		if c.AccessToken != failed { // another process refreshed
			cs.set(c, v)
			return c, nil
		}
		now := m.o.now()
		if !tok.RefreshingAt.IsZero() && now.Sub(tok.RefreshingAt) < m.o.claimTimeout {
			if err := wait(ctx, m.o.pollInterval); err != nil {
				return nil, fmt.Errorf("refresh %s: wait for another process: %w", orgID, err)
			}
			continue
		}
		claim, err := m.toStore(c, v, now)
		if err != nil {
			return nil, err
		}
		if err := m.st.SaveConnection(work, claim); errors.Is(err, store.ErrVersionConflict) {
			continue // someone else moved first: look again
		} else if err != nil {
			return nil, fmt.Errorf("refresh %s: claim: %w", orgID, err)
		}
		return m.mintAndSave(work, cs, c, claim.Version)
	}
}

// mintAndSave runs the grant for c (whose claim is at version v) and
// stores the outcome, releasing the claim.
func (m *Manager) mintAndSave(ctx context.Context, cs *connState, c *Connection, v int64) (*Connection, error) {
	nc, err := m.mint(ctx, c)
	if err != nil {
		if isInvalidGrant(err) {
			lc := *c
			lc.Status = store.StatusLoginRequired
			nv, serr := m.saveOver(ctx, &lc, v)
			if serr != nil {
				return nil, fmt.Errorf("refresh %s: %w (and marking it failed: %v)", c.OrgID, err, serr)
			}
			cs.set(&lc, nv)
			return nil, fmt.Errorf("refresh %s: %w", c.OrgID, err)
		}
		if _, serr := m.saveOver(ctx, c, v); serr != nil { // release the claim
			return nil, fmt.Errorf("refresh %s: %w", c.OrgID, err)
		}
		return nil, fmt.Errorf("refresh %s: %w", c.OrgID, err)
	}
	nv, err := m.saveOver(ctx, nc, v)
	// Keep the new token in this process even when persisting failed: the
	// old one is dead, and the next refresh will try to persist again.
	cs.set(nc, nv)
	if err != nil {
		return nil, fmt.Errorf("refresh %s: persist new token: %w", c.OrgID, err)
	}
	return nc, nil
}

// saveOver saves c at version v. On a version conflict (someone wrote
// despite the claim) it re-reads and saves c's tokens and status over the
// newer version, since c carries the newest token.
func (m *Manager) saveOver(ctx context.Context, c *Connection, v int64) (int64, error) {
	for range 5 {
		sc, err := m.toStore(c, v, time.Time{})
		if err != nil {
			return v, err
		}
		err = m.st.SaveConnection(ctx, sc)
		if err == nil {
			return sc.Version, nil
		}
		if !errors.Is(err, store.ErrVersionConflict) {
			return v, err
		}
		cur, err := m.st.Connection(ctx, c.OrgID)
		if err != nil {
			return v, err
		}
		v = cur.Version
	}
	return v, store.ErrVersionConflict
}

// mint gets a new access token for c.
func (m *Manager) mint(ctx context.Context, c *Connection) (*Connection, error) {
	var tr *tokenResponse
	var err error
	switch jb := m.minter(c.OrgID); {
	case c.RefreshToken != "":
		tr, err = m.refreshGrant(ctx, c.LoginURL, c.RefreshToken)
		if err == nil {
			err = verifySignature(m.cfg.ClientSecret, tr, false)
		}
	case jb != nil:
		tr, err = m.jwtGrant(ctx, jb, c.LoginURL)
	default:
		return nil, fmt.Errorf("no refresh token and no jwt key: %w", ErrLoginRequired)
	}
	if err != nil {
		return nil, err
	}
	nc := *c
	nc.AccessToken = tr.AccessToken
	if tr.RefreshToken != "" { // rotation
		nc.RefreshToken = tr.RefreshToken
	}
	if tr.InstanceURL != "" && tr.InstanceURL != c.InstanceURL {
		if err := checkHost(tr.InstanceURL, c.LoginURL); err != nil {
			return nil, fmt.Errorf("new instance url: %w", err)
		}
		nc.InstanceURL = tr.InstanceURL
	}
	if s := tr.scopes(); len(s) > 0 {
		nc.Scopes = s
	}
	nc.IssuedAt = tr.issuedAt(m.o.now())
	nc.Status = store.StatusActive
	return &nc, nil
}

func isInvalidGrant(err error) bool {
	var te *TokenError
	return errors.As(err, &te) && te.Code == "invalid_grant"
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
