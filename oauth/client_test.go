package oauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
	"golang.org/x/oauth2/jws"

	"github.com/sfsync/salesforce-sync/store"
)

func get(t *testing.T, c *http.Client, u string) (int, map[string]string, error) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]string
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	return resp.StatusCode, out, nil
}

func TestClientRefreshesOnInvalidSession(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, refresh := h.saveSession(t)
	c, err := h.m.Client(ctx, testOrg)
	if err != nil {
		t.Fatal(err)
	}
	if code, _, err := get(t, c, instHost+"/services/data/v62.0/x"); err != nil || code != 200 {
		t.Fatalf("first call: %d %v", code, err)
	}
	h.expireAll()
	// A POST whose body must be replayed.
	resp, err := c.Post(instHost+"/services/data/v62.0/x", "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]string
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || out["body"] != `{"a":1}` {
		t.Fatalf("after refresh: %d %v", resp.StatusCode, out)
	}
	if n := h.calls("refresh_token"); n != 1 {
		t.Errorf("%d refreshes", n)
	}
	stored, _ := h.m.Connection(ctx, testOrg)
	if !h.bearerOK(stored.AccessToken.Reveal()) || stored.RefreshToken.Reveal() != refresh {
		t.Error("new access token not persisted, or refresh token changed without rotation")
	}
}

func (f *fakeSF) bearerOK(tok string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.access[tok]
}

func TestClientNoRefresh(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"403 limit", 403, `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`},
		{"401 other", 401, `[{"message":"nope","errorCode":"INSUFFICIENT_ACCESS"}]`},
		{"500", 500, `[{"message":"x","errorCode":"UNKNOWN_EXCEPTION"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.saveSession(t)
			h.mt.RegisterResponder("GET", instHost+"/services/data/v62.0/y", httpmock.NewStringResponder(tt.status, tt.body))
			c, _ := h.m.Client(context.Background(), testOrg)
			resp, err := c.Get(instHost + "/services/data/v62.0/y")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || string(b) != tt.body {
				t.Errorf("got %d %q", resp.StatusCode, b)
			}
			if n := h.calls("refresh_token"); n != 0 {
				t.Errorf("%d refreshes", n)
			}
		})
	}
}

func TestClientBearerOnlyForOrgHosts(t *testing.T) {
	h := newHarness(t)
	access, _ := h.saveSession(t)
	var got []string
	h.mt.RegisterResponder("GET", "https://elsewhere.example.com/", func(req *http.Request) (*http.Response, error) {
		got = append(got, req.Header.Get("Authorization"))
		return httpmock.NewStringResponse(401, `[{"errorCode":"INVALID_SESSION_ID"}]`), nil
	})
	h.mt.RegisterResponder("GET", instHost+"/services/data/v62.0/z", func(req *http.Request) (*http.Response, error) {
		got = append(got, req.Header.Get("Authorization"))
		return httpmock.NewStringResponse(200, `{}`), nil
	})
	c, _ := h.m.Client(context.Background(), testOrg)
	get(t, c, "https://elsewhere.example.com/")
	get(t, c, instHost+"/services/data/v62.0/z")
	if diff := cmp.Diff([]string{"", "Bearer " + access}, got); diff != "" {
		t.Errorf("Authorization headers (-want +got):\n%s", diff)
	}
	if h.calls("refresh_token") != 0 {
		t.Error("refreshed for a foreign host")
	}
}

func TestClientBodyWithoutGetBody(t *testing.T) {
	h := newHarness(t)
	h.saveSession(t)
	h.expireAll()
	c, _ := h.m.Client(context.Background(), testOrg)
	req, _ := http.NewRequest("POST", instHost+"/services/data/v62.0/x", io.NopCloser(strings.NewReader("{}")))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || h.calls("refresh_token") != 0 {
		t.Errorf("status %d, %d refreshes", resp.StatusCode, h.calls("refresh_token"))
	}
}

func TestClientRotationAndInstanceMove(t *testing.T) {
	h := newHarness(t)
	h.rotate = true
	ctx := context.Background()
	_, oldRT := h.saveSession(t)
	c, _ := h.m.Client(ctx, testOrg)
	h.expireAll()
	h.instance = "https://moved.example.com"
	code, out, err := get(t, c, instHost+"/services/data/v62.0/x")
	if err != nil || code != 200 || out["host"] != "moved.example.com" {
		t.Fatalf("after move: %d %v %v", code, out, err)
	}
	stored, _ := h.m.Connection(ctx, testOrg)
	if stored.RefreshToken.Reveal() == oldRT || stored.InstanceURL != "https://moved.example.com" {
		t.Errorf("rotation or move not persisted: %s", stored.InstanceURL)
	}
	// The rotated token works for the next refresh.
	h.expireAll()
	if code, _, err := get(t, c, instHost+"/services/data/v62.0/x"); err != nil || code != 200 {
		t.Fatalf("second refresh: %d %v", code, err)
	}
	if n := h.calls("refresh_token"); n != 2 {
		t.Errorf("%d refreshes", n)
	}
}

func TestClientLoginRequired(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, rt := h.saveSession(t)
	c, _ := h.m.Client(ctx, testOrg)
	h.mu.Lock()
	delete(h.refresh, rt)
	h.mu.Unlock()
	h.expireAll()
	_, _, err := get(t, c, instHost+"/services/data/v62.0/x")
	if !errors.Is(err, ErrLoginRequired) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), rt) {
		t.Error("refresh token in error")
	}
	sc, _ := h.st.Connection(ctx, testOrg)
	if sc.Status != store.StatusLoginRequired {
		t.Errorf("status %q", sc.Status)
	}
	if _, err := h.m.Client(ctx, testOrg); !errors.Is(err, ErrLoginRequired) {
		t.Errorf("Client = %v", err)
	}
	if _, _, err := get(t, c, instHost+"/services/data/v62.0/x"); !errors.Is(err, ErrLoginRequired) {
		t.Errorf("second call = %v", err)
	}
	if n := h.calls("refresh_token"); n != 1 {
		t.Errorf("%d refreshes", n)
	}
	// A new login saved by another Manager (process) makes it usable
	// again, through the Client made before.
	m2 := NewManager(Config{ClientID: clientID, ClientSecret: secret, LoginURL: loginHost, HTTPClient: h.client()}, h.st, testSealer(t))
	access, refresh := h.session()
	if err := m2.Save(ctx, &Connection{OrgID: testOrg, InstanceURL: instHost, AccessToken: Secret(access), RefreshToken: Secret(refresh)}); err != nil {
		t.Fatal(err)
	}
	if code, _, err := get(t, c, instHost+"/services/data/v62.0/x"); err != nil || code != 200 {
		t.Errorf("after reconnect elsewhere: %d %v", code, err)
	}
	if _, err := h.m.Client(ctx, testOrg); err != nil {
		t.Errorf("after reconnect: %v", err)
	}
}

func TestClientSingleRefresh(t *testing.T) {
	h := newHarness(t)
	h.tokenDelay = 20 * time.Millisecond
	h.saveSession(t)
	h.expireAll()
	c, _ := h.m.Client(context.Background(), testOrg)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			code, _, err := get(t, c, instHost+"/services/data/v62.0/x")
			if err == nil && code != 200 {
				err = fmt.Errorf("status %d", code)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := h.calls("refresh_token"); n != 1 {
		t.Errorf("%d refreshes reached the server, want 1", n)
	}
}

func TestTwoManagersRotating(t *testing.T) {
	h := newHarness(t)
	h.rotate = true
	h.tokenDelay = 5 * time.Millisecond
	h.saveSession(t)
	cfg := Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirect, LoginURL: loginHost, HTTPClient: h.client()}
	m2 := NewManager(cfg, h.st, testSealer(t))
	ctx := context.Background()
	c1, _ := h.m.Client(ctx, testOrg)
	c2, err := m2.Client(ctx, testOrg)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		h.expireAll()
		var wg sync.WaitGroup
		for i := range 20 {
			c := c1
			if i%2 == 1 {
				c = c2
			}
			wg.Go(func() {
				code, _, err := get(t, c, instHost+"/services/data/v62.0/x")
				if err != nil || code != 200 {
					t.Errorf("round %d: %d %v", round, code, err)
				}
			})
		}
		wg.Wait()
	}
	sc, _ := h.st.Connection(ctx, testOrg)
	if sc.Status != store.StatusActive {
		t.Errorf("status %q", sc.Status)
	}
	if n := h.calls("refresh_token"); n > 10 {
		t.Errorf("%d refreshes for 10 expiries", n)
	}
}

func TestDisconnect(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, rt := h.saveSession(t)
	h.revokeFails = true
	if err := h.m.Disconnect(ctx, testOrg15); err == nil {
		t.Fatal("Disconnect succeeded while revoke failed")
	}
	if _, err := h.st.Connection(ctx, testOrg); err != nil {
		t.Fatal("connection deleted after a failed revoke")
	}
	h.revokeFails = false
	if err := h.m.Disconnect(ctx, testOrg15); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{rt}, h.revoked); diff != "" {
		t.Errorf("revoked (-want +got):\n%s", diff)
	}
	if _, err := h.m.Connection(ctx, testOrg); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Connection after Disconnect = %v", err)
	}
	if _, err := h.m.Client(ctx, testOrg); !errors.Is(err, ErrNotConnected) {
		t.Errorf("Client after Disconnect = %v", err)
	}
}

func TestJWTBearer(t *testing.T) {
	h := newHarness(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var claims []*jws.ClaimSet
	h.jwtVerify = func(a string) error {
		if err := jws.Verify(a, &key.PublicKey); err != nil {
			return err
		}
		cs, err := jws.Decode(a)
		if err != nil {
			return err
		}
		claims = append(claims, cs)
		if cs.Iss != clientID || cs.Sub != "bot@example.com" || cs.Aud != loginHost || cs.Exp <= time.Now().Unix() {
			return fmt.Errorf("claims %+v", cs)
		}
		return nil
	}
	ctx := context.Background()
	c, err := h.m.ConnectJWT(ctx, JWTBearer{Username: "bot@example.com", PrivateKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if c.OrgID != testOrg || c.RefreshToken != "" || c.AccessToken == "" {
		t.Errorf("connection %+v", c)
	}
	hc, _ := h.m.Client(ctx, testOrg)
	h.expireAll()
	if code, _, err := get(t, hc, instHost+"/services/data/v62.0/x"); err != nil || code != 200 {
		t.Fatalf("after expiry: %d %v", code, err)
	}
	if len(claims) != 2 || h.calls("refresh_token") != 0 {
		t.Errorf("%d jwt grants, %d refreshes", len(claims), h.calls("refresh_token"))
	}
	// Another Manager without the key cannot mint: login required, and
	// the stored connection stays usable for the one that has the key.
	m2 := NewManager(Config{ClientID: clientID, LoginURL: loginHost, HTTPClient: h.client()}, h.st, testSealer(t))
	h.expireAll()
	c2, _ := m2.Client(ctx, testOrg)
	if _, _, err := get(t, c2, instHost+"/services/data/v62.0/x"); !errors.Is(err, ErrLoginRequired) {
		t.Errorf("without key: %v", err)
	}
	if sc, _ := h.st.Connection(ctx, testOrg); sc.Status != store.StatusActive {
		t.Errorf("status %q", sc.Status)
	}
	// A refused assertion is invalid_grant: login required.
	h.jwtVerify = func(string) error { return errors.New("user hasn't approved this consumer") }
	if _, err := h.m.ConnectJWT(ctx, JWTBearer{Username: "bot@example.com", PrivateKey: key}); !errors.Is(err, ErrLoginRequired) {
		t.Errorf("refused assertion: %v", err)
	}
}

func TestSaveValidates(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, c := range []*Connection{
		{OrgID: "bad", InstanceURL: instHost, AccessToken: "x"},
		{OrgID: testOrg, AccessToken: "x"},
		{OrgID: testOrg, InstanceURL: instHost},
	} {
		if err := h.m.Save(ctx, c); err == nil {
			t.Errorf("Save(%+v) accepted", c)
		}
	}
}

func TestKeyRotationInStore(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	access, _ := h.saveSession(t)
	newKey, _ := GenerateKey("k2")
	oldKey, _ := ParseKey("k1", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	s2, err := NewSealer(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	m2 := NewManager(Config{ClientID: clientID, ClientSecret: secret, LoginURL: loginHost, HTTPClient: h.client()}, h.st, s2)
	c, err := m2.Connection(ctx, testOrg)
	if err != nil || c.AccessToken.Reveal() != access {
		t.Fatalf("old key does not open: %v", err)
	}
	if err := m2.Save(ctx, c); err != nil {
		t.Fatal(err)
	}
	sc, _ := h.st.Connection(ctx, testOrg)
	if id, _ := KeyID(sc.Sealed); id != "k2" {
		t.Errorf("re-saved with key %q", id)
	}
	if _, err := h.m.Connection(ctx, testOrg); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old-only sealer: %v", err)
	}
}

func TestRefreshClaimByCrashedProcess(t *testing.T) {
	h := newHarness(t, WithRefreshClaimTimeout(100*time.Millisecond))
	ctx := context.Background()
	h.saveSession(t)
	// Another process claimed the refresh and died before finishing.
	c, _, v, err := h.m.load(ctx, testOrg)
	if err != nil {
		t.Fatal(err)
	}
	sc, _ := h.m.toStore(c, v, time.Now())
	if err := h.st.SaveConnection(ctx, sc); err != nil {
		t.Fatal(err)
	}
	h.expireAll()
	hc, _ := h.m.Client(ctx, testOrg)
	start := time.Now()
	if code, _, err := get(t, hc, instHost+"/services/data/v62.0/x"); err != nil || code != 200 {
		t.Fatalf("after a stale claim: %d %v", code, err)
	}
	if time.Since(start) < 90*time.Millisecond {
		t.Error("did not wait for the claim to time out")
	}
	if n := h.calls("refresh_token"); n != 1 {
		t.Errorf("%d refreshes", n)
	}
}

func TestRefreshClaimFinishedElsewhere(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.saveSession(t)
	c, _, v, _ := h.m.load(ctx, testOrg)
	sc, _ := h.m.toStore(c, v, time.Now())
	h.st.SaveConnection(ctx, sc)
	h.expireAll()
	// The other process stores its new token 50ms later.
	go func() {
		time.Sleep(50 * time.Millisecond)
		access, _ := h.session()
		nc := *c
		nc.AccessToken = Secret(access)
		sc2, _ := h.m.toStore(&nc, sc.Version, time.Time{})
		if err := h.st.SaveConnection(ctx, sc2); err != nil {
			t.Error(err)
		}
	}()
	hc, _ := h.m.Client(ctx, testOrg)
	if code, _, err := get(t, hc, instHost+"/services/data/v62.0/x"); err != nil || code != 200 {
		t.Fatalf("%d %v", code, err)
	}
	if n := h.calls("refresh_token"); n != 0 {
		t.Errorf("%d refreshes; the other process's token should be used", n)
	}
}

func TestRefreshWaitHonoursContext(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.saveSession(t)
	c, _, v, _ := h.m.load(ctx, testOrg)
	sc, _ := h.m.toStore(c, v, time.Now()) // a claim that never finishes
	h.st.SaveConnection(ctx, sc)
	h.expireAll()
	hc, _ := h.m.Client(ctx, testOrg)
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, "GET", instHost+"/services/data/v62.0/x", nil)
	_, err := hc.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}
