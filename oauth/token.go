package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Errors of the token endpoint and of stored connections.
var (
	// ErrLoginRequired: the connection cannot get a new access token
	// (invalid_grant on refresh: revoked, expired, user deactivated; or no
	// refresh token and no JWT key). A user must connect the org again.
	ErrLoginRequired = errors.New("oauth: login required")
	// ErrBadSignature: the token response signature did not match.
	ErrBadSignature = errors.New("oauth: token response signature mismatch")
	// ErrNotConnected: no connection is stored for the org.
	ErrNotConnected = errors.New("oauth: org not connected")
)

// TokenError is an error answer of the token endpoint (SALESFORCE.md 1.7).
// Its text holds the code and description, never the request.
type TokenError struct {
	Grant       string // "authorization_code", "refresh_token", "jwt-bearer"
	StatusCode  int
	Code        string // such as "invalid_grant"
	Description string
}

// Error gives the grant, the status and Salesforce's error code and
// description; it never holds a token, the client secret or the request.
func (e *TokenError) Error() string {
	s := fmt.Sprintf("%s grant refused: %d", e.Grant, e.StatusCode)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// Is makes errors.Is(err, ErrLoginRequired) true for invalid_grant on the
// refresh and JWT grants.
func (e *TokenError) Is(target error) bool {
	return target == ErrLoginRequired && e.Code == "invalid_grant" && e.Grant != "authorization_code"
}

// tokenResponse is what the token endpoint returned (SALESFORCE.md 1.4).
type tokenResponse struct {
	AccessToken  Secret
	RefreshToken Secret
	InstanceURL  string
	ID           string
	IssuedAt     string
	Signature    string
	Scope        string
}

func fromOAuth2(t *oauth2.Token) *tokenResponse {
	str := func(k string) string {
		switch v := t.Extra(k).(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		case json.Number:
			return v.String()
		}
		return ""
	}
	return &tokenResponse{
		AccessToken:  Secret(t.AccessToken),
		RefreshToken: Secret(t.RefreshToken),
		InstanceURL:  strings.TrimRight(str("instance_url"), "/"),
		ID:           str("id"),
		IssuedAt:     str("issued_at"),
		Signature:    str("signature"),
		Scope:        str("scope"),
	}
}

func (t *tokenResponse) issuedAt(now time.Time) time.Time {
	ms, err := strconv.ParseInt(t.IssuedAt, 10, 64)
	if err != nil || ms <= 0 {
		return now
	}
	return time.UnixMilli(ms).UTC()
}

func (t *tokenResponse) scopes() []string { return strings.Fields(t.Scope) }

// verifySignature checks signature = base64(HMAC-SHA256(secret, id +
// issued_at)) in constant time (SALESFORCE.md 1.5). With required, a
// missing signature fails too.
func verifySignature(secret string, t *tokenResponse, required bool) error {
	if secret == "" {
		return nil
	}
	if t.Signature == "" {
		if required {
			return fmt.Errorf("%w: response has no signature", ErrBadSignature)
		}
		return nil
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t.ID + t.IssuedAt))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if subtle.ConstantTimeCompare([]byte(want), []byte(t.Signature)) != 1 {
		return ErrBadSignature
	}
	return nil
}

// tokenErr converts an x/oauth2 failure into a *TokenError without the
// response body.
func tokenErr(grant string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &TokenError{Grant: grant, Code: re.ErrorCode, Description: re.ErrorDescription}
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		if te.Code == "" {
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if json.Unmarshal(re.Body, &body) == nil {
				te.Code, te.Description = body.Error, body.Description
			}
		}
		return te
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s grant: %w", grant, ue.Err)
	}
	return fmt.Errorf("%s grant: %w", grant, err)
}

// exchange redeems an authorization code with its PKCE verifier.
func (m *Manager) exchange(ctx context.Context, loginURL, code, verifier string) (*tokenResponse, error) {
	t, err := m.cfg.oauth2Config(loginURL).Exchange(m.cfg.ctx(ctx), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, tokenErr("authorization_code", err)
	}
	return fromOAuth2(t), nil
}

// refreshGrant spends a refresh token at loginURL.
func (m *Manager) refreshGrant(ctx context.Context, loginURL string, refresh Secret) (*tokenResponse, error) {
	src := m.cfg.oauth2Config(loginURL).TokenSource(m.cfg.ctx(ctx), &oauth2.Token{RefreshToken: refresh.Reveal()})
	t, err := src.Token()
	if err != nil {
		return nil, tokenErr("refresh_token", err)
	}
	tr := fromOAuth2(t)
	if tr.RefreshToken == refresh {
		tr.RefreshToken = "" // x/oauth2 copies the old one when none came back
	}
	return tr, nil
}

// identity is the part of the identity URL's answer sfsync keeps
// (SALESFORCE.md 1.9).
type identity struct {
	OrgID    string `json:"organization_id"`
	UserID   string `json:"user_id"`
	Username string `json:"username"`
}

// readIdentity GETs the identity URL with the access token.
func (m *Manager) readIdentity(ctx context.Context, idURL string, access Secret) (*identity, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, idURL, nil)
	if err != nil {
		return nil, fmt.Errorf("read identity: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+access.Reveal())
	req.Header.Set("Accept", "application/json")
	resp, err := m.cfg.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("read identity: %w", unwrapURL(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read identity: status %d", resp.StatusCode)
	}
	var id identity
	if err := json.Unmarshal(body, &id); err != nil {
		return nil, fmt.Errorf("read identity: %w", err)
	}
	if id.OrgID == "" || id.UserID == "" {
		return nil, errors.New("read identity: no organization_id or user_id")
	}
	return &id, nil
}

// revoke revokes a token at loginURL (SALESFORCE.md 1.8). A 400 answer
// means the token is already invalid, which is what revoking wants.
func (m *Manager) revoke(ctx context.Context, loginURL string, token Secret) error {
	form := url.Values{"token": {token.Reveal()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, loginURL+"/services/oauth2/revoke", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := m.cfg.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("revoke: %w", unwrapURL(err))
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest {
		return fmt.Errorf("revoke: status %d", resp.StatusCode)
	}
	return nil
}

// unwrapURL drops the *url.Error around a transport error: its URL may
// carry a token.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// checkHost requires an absolute https URL, or one on the login host
// itself (so that a local test server over http works).
func checkHost(raw, loginURL string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("bad url %q", raw)
	}
	if u.Scheme == "https" {
		return nil
	}
	l, err := url.Parse(loginURL)
	if err == nil && u.Scheme == l.Scheme && u.Host == l.Host {
		return nil
	}
	return fmt.Errorf("url %q is not https", raw)
}
