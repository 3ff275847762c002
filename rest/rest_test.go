package rest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
)

const instance = "https://na1.salesforce.com"

// fastRetry keeps retry waits in tests to a millisecond.
var fastRetry = &RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}

func newClient(t *testing.T) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	return &Client{InstanceURL: instance, HTTPClient: &http.Client{Transport: mt}, Retry: fastRetry}, mt
}

func respond(status int, body string, hdr ...string) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		r := httpmock.NewStringResponse(status, body)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		r.Request = req
		return r, nil
	}
}

func TestCheckResponseFixtures(t *testing.T) {
	dir := "../testdata/fixtures/salesforce/rest"
	files, err := filepath.Glob(filepath.Join(dir, "*error*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	want := map[string]APIError{
		"nsc_error_malformed_query_400.json":      {ErrorCode: "MALFORMED_QUERY", Message: "unexpected token: 'invalid'"},
		"restforce_error_invalid_field.json":      {ErrorCode: "INVALID_FIELD", Message: "No such column 'foo' on sobject of type Bar"},
		"restforce_error_invalid_session_id.json": {ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid"},
		"restforce_error_malformed_search.json":   {ErrorCode: "MALFORMED_SEARCH", Message: "No search term found. The search term must be enclosed in braces."},
		"restforce_error_not_found.json":          {ErrorCode: "NOT_FOUND", Message: "The requested resource does not exist"},
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			w, ok := want[filepath.Base(f)]
			if !ok {
				t.Fatalf("fixture without expectation")
			}
			got := DecodeErrors(body)
			if diff := cmp.Diff([]APIError{w}, got); diff != "" {
				t.Errorf("DecodeErrors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckResponse(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		url    string
		is     []error
		isNot  []error
		want   []APIError
		inText []string
	}{
		{name: "ok", status: 200},
		{name: "not modified", status: 304},
		{name: "session", status: 401, body: `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`,
			is: []error{ErrSessionExpired}, isNot: []error{ErrNotFound, ErrRequestLimit},
			want: []APIError{{ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid"}}},
		{name: "limit", status: 403, body: `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`,
			is: []error{ErrRequestLimit}, isNot: []error{ErrSessionExpired}},
		{name: "429", status: 429, body: ``, is: []error{ErrRequestLimit}},
		{name: "not found", status: 404, body: `[{"message":"x","errorCode":"NOT_FOUND"}]`, is: []error{ErrNotFound}},
		{name: "locator", status: 400, body: `[{"message":"invalid query locator","errorCode":"INVALID_QUERY_LOCATOR"}]`,
			is: []error{ErrInvalidQueryLocator}, isNot: []error{ErrNotFound}},
		{name: "unavailable", status: 503, body: `<html>down</html>`, is: []error{ErrServerUnavailable},
			want: []APIError{{Message: "<html>down</html>"}}},
		{name: "several with fields", status: 400,
			body:   `[{"message":"bad email","errorCode":"INVALID_EMAIL_ADDRESS","fields":["Email"]},{"message":"m2","errorCode":"E2"}]`,
			want:   []APIError{{ErrorCode: "INVALID_EMAIL_ADDRESS", Message: "bad email", Fields: []string{"Email"}}, {ErrorCode: "E2", Message: "m2"}},
			inText: []string{"INVALID_EMAIL_ADDRESS bad email (fields Email)", "E2 m2"}},
		{name: "oauth style", status: 400, body: `{"error":"invalid_grant","error_description":"expired"}`,
			want: []APIError{{ErrorCode: "invalid_grant", Message: "expired"}}},
		{name: "secrets removed", status: 500, body: `oops`,
			url:    instance + "/x?access_token=SECRET1&sid=SECRET2&sig=SECRET3&q=ok",
			inText: []string{"q=ok", "access_token=REDACTED"}, is: []error{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.url
			if u == "" {
				u = instance + "/services/data/v62.0/query"
			}
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			resp := httpmock.NewStringResponse(tt.status, tt.body)
			resp.Request = req
			err := CheckResponse(resp)
			if tt.status < 300 || tt.status == 304 {
				if err != nil {
					t.Fatalf("CheckResponse: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not *Error: %v", err)
			}
			if e.StatusCode != tt.status || e.Method != "GET" {
				t.Errorf("status %d method %q", e.StatusCode, e.Method)
			}
			for _, s := range tt.is {
				if !errors.Is(err, s) {
					t.Errorf("errors.Is(%v) false", s)
				}
			}
			for _, s := range tt.isNot {
				if errors.Is(err, s) {
					t.Errorf("errors.Is(%v) true", s)
				}
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, e.Errors); diff != "" {
					t.Errorf("Errors (-want +got):\n%s", diff)
				}
			}
			for _, s := range tt.inText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q not in %q", s, err.Error())
				}
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("secret in error: %s", err)
			}
		})
	}
}

func TestCheckResponseCapsBody(t *testing.T) {
	var read atomic.Int64
	big := strings.Repeat("x", 10<<20)
	req, _ := http.NewRequest("GET", instance+"/x", nil)
	resp := &http.Response{StatusCode: 500, Header: http.Header{}, Request: req,
		Body: io.NopCloser(&countingReader{r: strings.NewReader(big), n: &read})}
	err := CheckResponse(resp)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	if n := read.Load(); n > 2*MaxErrorBody+64<<10 {
		t.Errorf("read %d bytes of the error body", n)
	}
	if l := len(e.Errors[0].Message); l > maxTextMessage+3 {
		t.Errorf("message of %d bytes", l)
	}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestParseLimitInfo(t *testing.T) {
	tests := []struct {
		in      string
		want    Limits
		wantErr bool
	}{
		{in: "api-usage=25/15000", want: Limits{Used: 25, Max: 15000}},
		{in: "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)", want: Limits{Used: 25, Max: 5000}},
		{in: "per-app-api-usage=17/250(appName=x); api-usage=110018/100000; api-bursts=1/750", want: Limits{Used: 110018, Max: 100000}},
		{in: "", wantErr: true},
		{in: "api-usage=abc/1", wantErr: true},
		{in: "api-usage=12", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLimitInfo(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestURL(t *testing.T) {
	c := &Client{InstanceURL: instance + "/", APIVersion: "v59.0"}
	tests := []struct{ path, want string }{
		{"query", instance + "/services/data/v59.0/query?q=SELECT+Id"},
		{"/services/data/v62.0/query/01g-2000", instance + "/services/data/v62.0/query/01g-2000?q=SELECT+Id"},
	}
	for _, tt := range tests {
		got, err := c.URL(tt.path, url.Values{"q": {"SELECT Id"}})
		if err != nil || got != tt.want {
			t.Errorf("URL(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
	if _, err := c.URL("https://evil.example/x", nil); err == nil {
		t.Error("absolute URL accepted")
	}
	if v := (&Client{}).Version(); v != DefaultAPIVersion {
		t.Errorf("default version %q", v)
	}
}

func TestGetJSONAndLimits(t *testing.T) {
	c, mt := newClient(t)
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/query", func(req *http.Request) (*http.Response, error) {
		if got := req.URL.Query().Get("q"); got != "SELECT Id FROM Account" {
			t.Errorf("q = %q", got)
		}
		if req.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding %q", req.Header.Get("Accept-Encoding"))
		}
		return respond(200, `{"totalSize":1,"done":true,"records":[{"Amount":12345678901234567890}]}`,
			"Sforce-Limit-Info", "api-usage=18/5000")(req)
	})
	var out struct {
		TotalSize int
		Records   []map[string]any
	}
	if err := c.GetJSON(context.Background(), "query", url.Values{"q": {"SELECT Id FROM Account"}}, &out); err != nil {
		t.Fatal(err)
	}
	if out.TotalSize != 1 || out.Records[0]["Amount"] != any(jsonNumber("12345678901234567890")) {
		t.Errorf("decoded %+v", out)
	}
	l := c.Limits()
	if l.Used != 18 || l.Max != 5000 || l.At.IsZero() {
		t.Errorf("limits %+v", l)
	}
}

func TestGzip(t *testing.T) {
	c, mt := newClient(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"ok":true}`))
	zw.Close()
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/limits", func(req *http.Request) (*http.Response, error) {
		r := httpmock.NewBytesResponse(200, buf.Bytes())
		r.Header.Set("Content-Encoding", "gzip")
		r.Request = req
		return r, nil
	})
	var out struct{ OK bool }
	if err := c.GetJSON(context.Background(), "limits", nil, &out); err != nil || !out.OK {
		t.Fatalf("GetJSON = %v, %+v", err, out)
	}
}

func TestLimitReserve(t *testing.T) {
	c, mt := newClient(t)
	c.LimitReserve = 0.9
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/limits", respond(200, `{}`, "Sforce-Limit-Info", "api-usage=9000/10000"))
	ctx := context.Background()
	if err := c.GetJSON(ctx, "limits", nil, nil); err != nil {
		t.Fatal(err)
	}
	err := c.GetJSON(ctx, "limits", nil, nil)
	if !errors.Is(err, ErrLimitReserve) || !strings.Contains(err.Error(), "9000 of 10000") {
		t.Fatalf("err = %v", err)
	}
	if n := mt.GetTotalCallCount(); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name      string
		method    string
		idem      bool
		responses []httpmock.Responder
		wantCalls int
		wantErr   error
		wantText  string
	}{
		{name: "5xx then ok", method: "GET", responses: []httpmock.Responder{respond(503, ""), respond(500, ""), respond(200, "{}")}, wantCalls: 3},
		{name: "429 retry-after", method: "GET", responses: []httpmock.Responder{respond(429, "", "Retry-After", "0"), respond(200, "{}")}, wantCalls: 2},
		{name: "501 not retried", method: "GET", responses: []httpmock.Responder{respond(501, "")}, wantCalls: 1, wantText: "501"},
		{name: "400 not retried", method: "GET", responses: []httpmock.Responder{respond(400, `[{"errorCode":"MALFORMED_QUERY","message":"m"}]`)}, wantCalls: 1},
		{name: "post not retried", method: "POST", responses: []httpmock.Responder{respond(503, "")}, wantCalls: 1, wantErr: ErrServerUnavailable},
		{name: "idempotent patch retried", method: "PATCH", idem: true, responses: []httpmock.Responder{respond(502, ""), respond(200, "{}")}, wantCalls: 2},
		{name: "exhausted", method: "GET", responses: []httpmock.Responder{respond(503, ""), respond(503, ""), respond(503, ""), respond(503, "")},
			wantCalls: 4, wantErr: ErrServerUnavailable, wantText: "after 4 attempts"},
		{name: "reset then ok", method: "GET", responses: []httpmock.Responder{httpmock.NewErrorResponder(syscall.ECONNRESET), respond(200, "{}")}, wantCalls: 2},
		{name: "reset exhausted", method: "DELETE", idem: true, responses: []httpmock.Responder{
			httpmock.NewErrorResponder(syscall.ECONNRESET), httpmock.NewErrorResponder(syscall.ECONNRESET),
			httpmock.NewErrorResponder(syscall.ECONNRESET), httpmock.NewErrorResponder(syscall.ECONNRESET)},
			wantCalls: 4, wantErr: syscall.ECONNRESET, wantText: "after 4 attempts"},
		{name: "reset on post", method: "POST", responses: []httpmock.Responder{httpmock.NewErrorResponder(syscall.ECONNRESET)}, wantCalls: 1, wantErr: syscall.ECONNRESET},
		{name: "long retry-after gives up", method: "GET", responses: []httpmock.Responder{respond(503, "", "Retry-After", "3600")}, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newClient(t)
			var n atomic.Int32
			mt.RegisterResponder(tt.method, instance+"/services/data/v62.0/x", func(req *http.Request) (*http.Response, error) {
				i := int(n.Add(1)) - 1
				if i >= len(tt.responses) {
					t.Fatalf("unexpected call %d", i+1)
				}
				if req.Body != nil {
					b, _ := io.ReadAll(req.Body)
					if tt.method != "GET" && tt.method != "DELETE" && string(b) != `{"a":1}` {
						t.Errorf("body %q on attempt %d", b, i+1)
					}
				}
				return tt.responses[i](req)
			})
			r := &Request{Method: tt.method, Path: "x", Idempotent: tt.idem}
			if tt.method != "GET" && tt.method != "DELETE" {
				r.Body = []byte(`{"a":1}`)
			}
			resp, err := c.Do(context.Background(), r)
			if resp != nil {
				resp.Body.Close()
			}
			if got := int(n.Load()); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantText != "" && (err == nil || !strings.Contains(err.Error(), tt.wantText)) {
				t.Errorf("err = %v, want text %q", err, tt.wantText)
			}
			last := tt.responses[len(tt.responses)-1]
			_ = last
			if tt.wantErr == nil && tt.wantText == "" && tt.name != "long retry-after gives up" && tt.name != "400 not retried" && err != nil {
				t.Errorf("err = %v", err)
			}
			var e *Error
			if errors.As(err, &e) && e.Attempts != tt.wantCalls {
				t.Errorf("Attempts = %d, want %d", e.Attempts, tt.wantCalls)
			}
		})
	}
}

func TestNoRetryAfterContextDone(t *testing.T) {
	c, mt := newClient(t)
	c.Retry = &RetryPolicy{MaxAttempts: 5, BaseDelay: time.Hour, MaxDelay: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/x", func(req *http.Request) (*http.Response, error) {
		n.Add(1)
		return respond(503, "")(req)
	})
	// The context ends once the 503 has arrived (cancelling inside the
	// responder would race with the answer: the transport may then report
	// the cancellation instead of the 503).
	c.HTTPClient = &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := mt.RoundTrip(req)
		cancel()
		return resp, err
	})}
	_, err := c.Do(ctx, &Request{Path: "x"})
	if !errors.Is(err, ErrServerUnavailable) || n.Load() != 1 {
		t.Fatalf("err = %v after %d calls", err, n.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func TestRetryAfterHonoured(t *testing.T) {
	c, mt := newClient(t)
	var times []time.Time
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/x", func(req *http.Request) (*http.Response, error) {
		times = append(times, time.Now())
		if len(times) == 1 {
			return respond(503, "", "Retry-After", "1")(req)
		}
		return respond(200, "{}")(req)
	})
	resp, err := c.Do(context.Background(), &Request{Path: "x"})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// fastRetry would wait 1ms; Retry-After asks for a second.
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Errorf("retried after %v, want about 1s", gap)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	p := &RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for n, nominal := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 9: time.Second} {
		for range 50 {
			d := p.delay(n)
			if d < nominal/2 || d > nominal {
				t.Fatalf("delay(%d) = %v, nominal %v", n, d, nominal)
			}
		}
	}
}

func TestLatestVersion(t *testing.T) {
	c, mt := newClient(t)
	body, err := os.ReadFile("../testdata/fixtures/salesforce/rest/restforce_versions.json")
	if err != nil {
		t.Fatal(err)
	}
	mt.RegisterResponder("GET", instance+"/services/data/", respond(200, string(body)))
	v, err := c.LatestVersion(context.Background())
	if err != nil || v != "100" {
		t.Fatalf("LatestVersion = %q, %v", v, err)
	}
	for _, tt := range []struct {
		a, b string
		want int
	}{{"62.0", "9.0", 1}, {"62.0", "62", 0}, {"v59.0", "62.0", -1}} {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d", tt.a, tt.b, got)
		}
	}
}

func TestPostPatchDelete(t *testing.T) {
	c, mt := newClient(t)
	mt.RegisterResponder("POST", instance+"/services/data/v62.0/sobjects/Account", func(req *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(req.Body)
		if string(b) != `{"Name":"Acme"}` || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("body %q type %q", b, req.Header.Get("Content-Type"))
		}
		return respond(201, `{"id":"001000000000001AAA","success":true}`)(req)
	})
	mt.RegisterResponder("PATCH", instance+"/services/data/v62.0/sobjects/Account/001", respond(204, ""))
	mt.RegisterResponder("DELETE", instance+"/services/data/v62.0/sobjects/Account/001", respond(404, `[{"errorCode":"NOT_FOUND","message":"gone"}]`))
	ctx := context.Background()
	var out struct{ ID string }
	if err := c.PostJSON(ctx, "sobjects/Account", map[string]string{"Name": "Acme"}, &out); err != nil || out.ID != "001000000000001AAA" {
		t.Fatalf("PostJSON = %v, %+v", err, out)
	}
	if err := c.PatchJSON(ctx, "sobjects/Account/001", map[string]string{"Name": "B"}, &out); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, "sobjects/Account/001"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete = %v", err)
	}
}

func TestTransportErrorHasNoSecret(t *testing.T) {
	c, mt := newClient(t)
	c.Retry = &RetryPolicy{}
	mt.RegisterNoResponder(httpmock.NewErrorResponder(errors.New("boom")))
	_, err := c.Do(context.Background(), &Request{Path: "x", Query: url.Values{"access_token": {"SECRET"}}})
	if err == nil || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParseLimitInfo(f *testing.F) {
	for _, s := range []string{"api-usage=25/15000", "api-usage=25/5000; per-app-api-usage=17/250(appName=a)", "api-usage=/", ";;=", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLimitInfo(s)
		if err == nil && (l.Used < 0 || l.Max < 0) {
			t.Fatalf("negative %+v", l)
		}
	})
}

func FuzzDecodeErrors(f *testing.F) {
	files, _ := filepath.Glob("../testdata/fixtures/salesforce/rest/*error*.json")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte(`{"error":"invalid_grant"}`))
	f.Add([]byte(`<html>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		errs := DecodeErrors(b)
		if len(bytes.TrimSpace(b)) > 0 && len(errs) == 0 {
			// Only a JSON array of empty objects (or null/[]) decodes to nothing.
			if b2 := bytes.TrimSpace(b); b2[0] != '[' && string(b2) != "null" {
				t.Fatalf("no error from %q", b)
			}
		}
		req, _ := http.NewRequest("GET", instance+"/x", nil)
		resp := httpmock.NewBytesResponse(400, b)
		resp.Request = req
		_ = CheckResponse(resp).Error()
	})
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"5", 5 * time.Second, true},
		{" 0 ", 0, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := retryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v", tt.in, got, ok)
		}
	}
}

func TestGzipErrorAndNotModified(t *testing.T) {
	c, mt := newClient(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`))
	zw.Close()
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/limited", func(req *http.Request) (*http.Response, error) {
		r := httpmock.NewBytesResponse(403, buf.Bytes())
		r.Header.Set("Content-Encoding", "gzip")
		r.Header.Set("Sforce-Limit-Info", "api-usage=15000/15000")
		r.Request = req
		return r, nil
	})
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/sobjects/Account/describe", respond(304, ""))
	ctx := context.Background()
	err := c.GetJSON(ctx, "limited", nil, nil)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrRequestLimit) || e.Limits.Used != 15000 ||
		!strings.Contains(err.Error(), "api usage 15000/15000") || e.Attempts != 1 {
		t.Fatalf("err = %v", err)
	}
	resp, err := c.Do(ctx, &Request{Path: "sobjects/Account/describe", Header: http.Header{"If-Modified-Since": {"Mon, 01 Jan 2026 00:00:00 GMT"}}})
	if err != nil || resp.StatusCode != 304 {
		t.Fatalf("304: %v", err)
	}
	resp.Body.Close()
}

func TestRetryConnectionDroppedRealServer(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0) // RST instead of FIN
				conn.Close()
			}
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	c := &Client{InstanceURL: srv.URL, HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}, Retry: fastRetry}
	var out struct{ OK bool }
	if err := c.GetJSON(context.Background(), "x", nil, &out); err != nil || !out.OK {
		t.Fatalf("GetJSON = %v after %d calls", err, n.Load())
	}
	if n.Load() != 2 {
		t.Errorf("%d calls", n.Load())
	}
}
