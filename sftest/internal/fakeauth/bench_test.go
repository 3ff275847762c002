package fakeauth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkRefresh measures refresh-token grants served per second
// (in-process handler, no network).
func BenchmarkRefresh(b *testing.B) {
	a := New(Config{ClientID: testClient, ClientSecret: testSecret, OrgID: testOrg, UserID: testUserID})
	mux := http.NewServeMux()
	a.Register(mux)
	_, rt := a.NewSession()
	body := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {testClient}, "client_secret": {testSecret}}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/services/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Body.String())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "grants/s")
}

// BenchmarkValidate measures the access token check every fake API call
// makes.
func BenchmarkValidate(b *testing.B) {
	a := New(Config{ClientID: testClient, OrgID: testOrg, UserID: testUserID})
	at, _ := a.NewSession()
	b.ReportAllocs()
	for b.Loop() {
		if !a.Validate(at) {
			b.Fatal("invalid")
		}
	}
}
