package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2/jws"
)

// ConnectJWT logs in with the JWT bearer flow (SALESFORCE.md 1.10), reads
// the identity, and saves the connection. Such a connection has no refresh
// token: this Manager signs a new assertion whenever the session expires,
// so call ConnectJWT again after a restart (another Manager sharing the
// Store without the key reports ErrLoginRequired once the token expires).
// OnConnect hooks are not called. See [OAuth 2.0 JWT Bearer Flow].
//
// [OAuth 2.0 JWT Bearer Flow]: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm&type=5
func (m *Manager) ConnectJWT(ctx context.Context, jb JWTBearer) (*Connection, error) {
	if jb.PrivateKey == nil || jb.Username == "" || m.cfg.ClientID == "" {
		return nil, errors.New("connect jwt: client id, username and private key are required")
	}
	login := trimSlash(jb.LoginURL)
	if login == "" {
		login = m.cfg.loginURL()
	}
	tr, err := m.jwtGrant(ctx, &jb, login)
	if err != nil {
		return nil, fmt.Errorf("connect jwt: %w", err)
	}
	c, err := m.connectionFrom(ctx, tr, login)
	if err != nil {
		return nil, fmt.Errorf("connect jwt: %w", err)
	}
	c.RefreshToken = ""
	if err := m.Save(ctx, c); err != nil {
		return nil, fmt.Errorf("connect jwt: %w", err)
	}
	m.mu.Lock()
	jbc := jb
	jbc.LoginURL = login
	m.jwt[c.OrgID] = &jbc
	m.mu.Unlock()
	return c, nil
}

// jwtGrant signs an assertion and exchanges it for an access token.
func (m *Manager) jwtGrant(ctx context.Context, jb *JWTBearer, loginURL string) (*tokenResponse, error) {
	if jb.LoginURL != "" {
		loginURL = trimSlash(jb.LoginURL)
	}
	aud := jb.Audience
	if aud == "" {
		aud = loginURL
	}
	life := jb.Lifetime
	if life <= 0 {
		life = 3 * time.Minute
	}
	now := m.o.now()
	assertion, err := jws.Encode(&jws.Header{Algorithm: "RS256", Typ: "JWT"},
		&jws.ClaimSet{Iss: m.cfg.ClientID, Sub: jb.Username, Aud: aud, Iat: now.Unix(), Exp: now.Add(life).Unix()},
		jb.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("sign jwt: %w", err)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, loginURL+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("jwt-bearer grant: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := m.cfg.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwt-bearer grant: %w", unwrapURL(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var raw struct {
		AccessToken string          `json:"access_token"`
		InstanceURL string          `json:"instance_url"`
		ID          string          `json:"id"`
		Scope       string          `json:"scope"`
		IssuedAt    json.RawMessage `json:"issued_at"`
		Signature   string          `json:"signature"`
		Error       string          `json:"error"`
		Description string          `json:"error_description"`
	}
	jerr := json.Unmarshal(body, &raw)
	if resp.StatusCode != http.StatusOK || raw.Error != "" || jerr != nil || raw.AccessToken == "" {
		return nil, &TokenError{Grant: "jwt-bearer", StatusCode: resp.StatusCode, Code: raw.Error, Description: raw.Description}
	}
	return &tokenResponse{
		AccessToken: Secret(raw.AccessToken), InstanceURL: trimSlash(raw.InstanceURL), ID: raw.ID,
		Scope: raw.Scope, IssuedAt: strings.Trim(string(raw.IssuedAt), `"`), Signature: raw.Signature,
	}, nil
}
