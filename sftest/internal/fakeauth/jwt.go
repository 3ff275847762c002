package fakeauth

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxAssertionBytes bounds a JWT assertion.
const maxAssertionBytes = 16 << 10

// jwtClaims are the claims of a JWT bearer assertion (1.10). Aud may be a
// string or a list of strings.
type jwtClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud json.RawMessage `json:"aud"`
	Exp *json.Number    `json:"exp"`
}

// grantJWT is the JWT bearer flow (1.10): an RS256 assertion signed with
// the registered key. The response has no refresh token, and, as in the
// published samples, no signature or issued_at.
func (a *Server) grantJWT(form url.Values) (*tokenResponse, *oauthError) {
	claims, oerr := a.verifyAssertion(form.Get("assertion"))
	if oerr != nil {
		return nil, oerr
	}
	if claims.Iss != a.cfg.ClientID {
		return nil, errClientID
	}
	if claims.Sub != a.cfg.Username || claims.Sub == "" {
		return nil, errInvalidGrant("user hasn't approved this consumer")
	}
	if !a.audienceOK(claims.Aud) {
		return nil, errInvalidGrant("audience is invalid")
	}
	if claims.Exp == nil {
		return nil, errInvalidGrant("invalid assertion")
	}
	exp, err := claims.Exp.Float64()
	if err != nil {
		return nil, errInvalidGrant("invalid assertion")
	}
	if !a.cfg.Now().Before(time.Unix(int64(exp), 0)) {
		return nil, errInvalidGrant("expired authorization code")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	scopes := []string{"api", "id"}
	access := a.newAccessLocked("", scopes)
	return &tokenResponse{
		AccessToken: access,
		Scope:       strings.Join(scopes, " "),
		InstanceURL: a.cfg.BaseURL(),
		ID:          a.identityURL(),
		TokenType:   "Bearer",
	}, nil
}

// verifyAssertion checks the compact JWS form, the RS256 header and the
// signature, and decodes the claims.
func (a *Server) verifyAssertion(assertion string) (*jwtClaims, *oauthError) {
	bad := errInvalidGrant("invalid assertion")
	if assertion == "" {
		return nil, errInvalidRequest("assertion is missing")
	}
	parts := strings.Split(assertion, ".")
	if len(assertion) > maxAssertionBytes || len(parts) != 3 {
		return nil, bad
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if !decodeSegment(parts[0], &header) || header.Alg != "RS256" {
		return nil, bad
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, bad
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&a.JWTPrivateKey().PublicKey, crypto.SHA256, sum[:], sig) != nil {
		return nil, bad
	}
	var c jwtClaims
	if !decodeSegment(parts[1], &c) {
		return nil, bad
	}
	return &c, nil
}

func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return false
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	return d.Decode(v) == nil
}

// audienceOK accepts the login URL, as a string or inside a list.
func (a *Server) audienceOK(raw json.RawMessage) bool {
	want := strings.TrimSuffix(a.cfg.BaseURL(), "/")
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return strings.TrimSuffix(one, "/") == want
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		return false
	}
	for _, s := range many {
		if strings.TrimSuffix(s, "/") == want {
			return true
		}
	}
	return false
}

// SignJWT signs claims as an RS256 compact JWS with key. It is a helper
// for tests and tools that use the JWT bearer flow against the fake.
func SignJWT(key *rsa.PrivateKey, claims map[string]any) (string, error) {
	return signJWT(key, "", claims)
}

func signJWT(key *rsa.PrivateKey, kid string, claims map[string]any) (string, error) {
	header := map[string]string{"alg": "RS256", "typ": "JWT"}
	if kid != "" {
		header["kid"] = kid
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	h := base64.RawURLEncoding.EncodeToString(hb)
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := h + "." + base64.RawURLEncoding.EncodeToString(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// idSigningKey returns the org's id_token signing key, made at first use
// (generating an RSA key is slow, and most tests never ask for openid).
func (a *Server) idSigningKey() *rsa.PrivateKey {
	a.idKeyOnce.Do(func() { a.idKey = generateKey() })
	return a.idKey
}

// idTokenKeyID is the kid of the id_token signing key in /id/keys.
const idTokenKeyID = "sftest1"

// idToken is the OpenID Connect id_token of a code grant with the openid
// scope (1.4): RS256, verifiable with the key set at /id/keys.
func (a *Server) idToken(accessToken, nonce string) string {
	now := a.cfg.Now()
	sum := sha256.Sum256([]byte(accessToken))
	claims := map[string]any{
		"at_hash":            base64.RawURLEncoding.EncodeToString(sum[:16]),
		"sub":                a.identityURL(),
		"aud":                a.cfg.ClientID,
		"iss":                a.cfg.BaseURL(),
		"preferred_username": a.cfg.Username,
		"name":               a.cfg.FirstName + " " + a.cfg.LastName,
		"email":              a.cfg.Email,
		"iat":                now.Unix(),
		"exp":                now.Add(5 * time.Minute).Unix(),
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	tok, err := signJWT(a.idSigningKey(), idTokenKeyID, claims)
	if err != nil {
		panic("fakeauth: sign id_token: " + err.Error())
	}
	return tok
}

// serveKeys is GET /id/keys: the JWK set of the id_token signing key.
func (a *Server) serveKeys(w http.ResponseWriter, r *http.Request) {
	pub := a.idSigningKey().PublicKey
	writeJSON(w, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": idTokenKeyID,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}
