package rest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// BenchmarkGetJSON measures one GetJSON over real HTTP (loopback), with
// Sforce-Limit-Info parsing and decoding of a small query page.
func BenchmarkGetJSON(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Sforce-Limit-Info", "api-usage=25/15000")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"totalSize":2,"done":true,"records":[{"attributes":{"type":"Account"},"Id":"001000000000001AAA","Name":"A"},{"attributes":{"type":"Account"},"Id":"001000000000002AAA","Name":"B"}]}`))
	}))
	defer srv.Close()
	c := &Client{InstanceURL: srv.URL, HTTPClient: srv.Client()}
	ctx := context.Background()
	q := url.Values{"q": {"SELECT Id, Name FROM Account"}}
	b.ReportAllocs()
	for b.Loop() {
		var out struct {
			TotalSize int
			Records   []map[string]any
		}
		if err := c.GetJSON(ctx, "query", q, &out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "api-calls/s")
}

// BenchmarkCheckResponse measures turning a failed response into *Error.
func BenchmarkCheckResponse(b *testing.B) {
	req, _ := http.NewRequest("GET", "https://na1.salesforce.com/services/data/v62.0/query?q=x&access_token=s", nil)
	body := `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`
	b.ReportAllocs()
	for b.Loop() {
		resp := &http.Response{StatusCode: 401, Header: http.Header{"Sforce-Limit-Info": {"api-usage=1/2"}}, Request: req,
			Body: http.NoBody}
		resp.Body = nopBody{body}
		_ = CheckResponse(resp)
	}
}

type nopBody struct{ s string }

func (n nopBody) Read(p []byte) (int, error) { return copy(p, n.s), errEOF }
func (n nopBody) Close() error               { return nil }
