package sftest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOAuthWiring runs the web-server flow with PKCE against the Server
// and uses the token on the REST API: the OAuth server and the API share
// one session store, clock and URL.
func TestOAuthWiring(t *testing.T) {
	s, _ := testServer(t, Options{RotateRefreshTokens: true})
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	redirect := "http://127.0.0.1:9999/callback"
	auth := s.URL + "/services/oauth2/authorize?" + url.Values{"response_type": {"code"}, "client_id": {s.ClientID()},
		"redirect_uri": {redirect}, "state": {"st"}, "scope": {"api refresh_token"}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}}.Encode()
	cb, err := s.Authorize(auth)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(cb)
	if u.Query().Get("state") != "st" || u.Query().Get("code") == "" {
		t.Fatalf("callback %s", cb)
	}
	res, err := http.PostForm(s.URL+"/services/oauth2/token", url.Values{"grant_type": {"authorization_code"},
		"code": {u.Query().Get("code")}, "client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()},
		"redirect_uri": {redirect}, "code_verifier": {verifier}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok map[string]any
	json.NewDecoder(res.Body).Decode(&tok)
	if res.StatusCode != 200 || tok["instance_url"] != s.URL || tok["refresh_token"] == nil {
		t.Fatalf("token: %d %v", res.StatusCode, tok)
	}
	if !strings.HasSuffix(tok["id"].(string), "/id/"+s.Org.ID()+"/"+s.Org.UserID()) {
		t.Errorf("identity URL %v", tok["id"])
	}
	r := query(t, s, tok["access_token"].(string), "SELECT Id, Username FROM User")
	if r.status != 200 || !strings.Contains(string(r.body), s.Username()) {
		t.Errorf("API with the issued token: %d %s", r.status, r.body)
	}
	calls := s.Calls()
	if calls["token"] != 1 || calls["query"] != 1 {
		t.Errorf("calls %v", calls)
	}
}
