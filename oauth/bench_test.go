package oauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkSessionClient measures a call through the session-keeping
// client over real HTTP (loopback): cache lookup, bearer, 200 answer.
func BenchmarkSessionClient(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(401)
		}
	}))
	defer srv.Close()
	k, _ := GenerateKey("k")
	s, _ := NewSealer(k)
	m := NewManager(Config{ClientID: "c", HTTPClient: srv.Client()}, newMemStore(), s)
	ctx := context.Background()
	if err := m.Save(ctx, &Connection{OrgID: testOrg, InstanceURL: srv.URL, AccessToken: "tok"}); err != nil {
		b.Fatal(err)
	}
	hc, err := m.Client(ctx, testOrg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := hc.Get(srv.URL + "/services/data/v62.0/x")
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "api-calls/s")
}

// BenchmarkSealOpen measures sealing and opening one token pair.
func BenchmarkSealOpen(b *testing.B) {
	k, _ := GenerateKey("k")
	s, _ := NewSealer(k)
	pt := []byte(`{"a":"00Dx0000000BV7z!AR8AQAxo9UfVkh8AlV0Gomt9Czx9LjHnSSpwBMmbRcgKFmxOtvxjTrKW19ye6PE3Ds1eQz3z8jr3W7","r":"5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJrTVs3c0anK"}`)
	aad := []byte("org")
	b.ReportAllocs()
	for b.Loop() {
		sealed, err := s.Seal(pt, aad)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Open(sealed, aad); err != nil {
			b.Fatal(err)
		}
	}
}
