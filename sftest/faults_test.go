package sftest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAuthRequired(t *testing.T) {
	s, tok := testServer(t, Options{SessionTimeout: time.Hour})
	q := "/services/data/v62.0/query?q=" + url.QueryEscape("SELECT Id FROM Account")
	if r := get(t, s, tok, q); r.status != 200 {
		t.Fatalf("live token: %d", r.status)
	}
	r := do(t, s, "", "GET", q, map[string]string{"Authorization": "OAuth " + tok}, nil)
	if r.status != 200 {
		t.Errorf("OAuth scheme: %d", r.status)
	}
	s.Org.Advance(time.Hour)
	if r := get(t, s, tok, q); r.status != 401 || !strings.Contains(string(r.body), "INVALID_SESSION_ID") {
		t.Errorf("after session timeout: %d %s", r.status, r.body)
	}
	tok2, refresh := s.NewSession()
	s.ExpireAccessTokens()
	if r := get(t, s, tok2, q); r.status != 401 {
		t.Errorf("ExpireAccessTokens: %d", r.status)
	}
	tok3, refresh3 := s.NewSession()
	s.RevokeRefreshToken(refresh3)
	if r := get(t, s, tok3, q); r.status != 401 {
		t.Errorf("revoked refresh token's access token: %d", r.status)
	}
	_ = refresh
	for _, path := range []string{"/services/data/v62.0/sobjects/", "/services/data/v62.0/sobjects/Account/describe", "/services/data/v62.0/jobs/query", "/services/data/v62.0/limits"} {
		if r := get(t, s, "nope", path); r.status != 401 {
			t.Errorf("%s without a session: %d", path, r.status)
		}
	}
}

func TestFailNextAndLimits(t *testing.T) {
	s, tok := testServer(t, Options{DailyAPILimit: 10})
	q := "/services/data/v62.0/query?q=" + url.QueryEscape("SELECT Id FROM Account")
	s.FailNext(2, 503, "SERVER_UNAVAILABLE")
	for i := range 2 {
		r := get(t, s, tok, q)
		if r.status != 503 || !strings.Contains(string(r.body), `"errorCode":"SERVER_UNAVAILABLE"`) {
			t.Errorf("failure %d: %d %s", i, r.status, r.body)
		}
	}
	r := get(t, s, tok, q)
	if r.status != 200 || r.header.Get("Sforce-Limit-Info") != "api-usage=1/10" {
		t.Errorf("after failures: %d %q", r.status, r.header.Get("Sforce-Limit-Info"))
	}
	s.FailNext(1, 500, "UNKNOWN_EXCEPTION")
	if r := get(t, s, tok, q); r.status != 500 || !strings.Contains(string(r.body), "UNKNOWN_EXCEPTION") {
		t.Errorf("500: %d %s", r.status, r.body)
	}
	s.SetAPIUsage(9)
	if r := get(t, s, tok, q); r.status != 200 || r.header.Get("Sforce-Limit-Info") != "api-usage=10/10" {
		t.Errorf("last call: %d %q", r.status, r.header.Get("Sforce-Limit-Info"))
	}
	r = get(t, s, tok, q)
	want := `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]`
	if r.status != 403 || string(r.body) != want {
		t.Errorf("over the limit: %d %s", r.status, r.body)
	}
	s.SetAPIUsage(0)
	s.ExhaustAPILimit()
	if r := get(t, s, tok, "/services/data/v62.0/sobjects/"); r.status != 403 {
		t.Errorf("ExhaustAPILimit: %d", r.status)
	}
	if got := s.APICalls(); got != 2 {
		t.Errorf("APICalls %d, want 2 (failed and refused calls do not count)", got)
	}
}

func TestRequestSizeLimit(t *testing.T) {
	s, tok := testServer(t, Options{})
	long := "SELECT Id, " + strings.Repeat("Name, ", 2800) + "Id FROM Account"
	r := query(t, s, tok, long)
	if r.status != http.StatusRequestURITooLong {
		t.Errorf("URI over 16,384 bytes: %d", r.status)
	}
	// A URI under the limit whose headers push the total over it.
	mid := "SELECT Id, " + strings.Repeat("Name, ", 2000) + "Id FROM Account"
	r = do(t, s, tok, "GET", "/services/data/v62.0/query?q="+url.QueryEscape(mid), map[string]string{"X-Pad": strings.Repeat("p", 6000)}, nil)
	if r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("URI plus headers over 16,384 bytes: %d", r.status)
	}
	ok := "SELECT " + strings.Repeat("Name, ", 10) + "Id FROM Account"
	if r := query(t, s, tok, ok); r.status != 400 { // duplicate fields: the request itself got through
		t.Errorf("short query: %d %s", r.status, r.body)
	}
}

func TestLatency(t *testing.T) {
	s, tok := testServer(t, Options{})
	s.SetLatency(20 * time.Millisecond)
	if r := get(t, s, tok, "/services/data/v62.0/limits"); r.status != 200 || !strings.Contains(string(r.body), "DailyApiRequests") {
		t.Errorf("with latency: %d %s", r.status, r.body)
	}
	s.SetLatency(0)
}

func TestCallCounters(t *testing.T) {
	s, tok := testServer(t, Options{RecordsPer: map[string]int{"Account": 3}})
	s.ResetCalls()
	get(t, s, "", "/services/data/")
	query(t, s, tok, "SELECT Id FROM Account")
	get(t, s, tok, "/services/data/v62.0/queryAll?q=SELECT+Id+FROM+Account")
	get(t, s, tok, "/services/data/v62.0/query/01g000000000000AAA-2000")
	get(t, s, tok, "/services/data/v62.0/sobjects/")
	get(t, s, tok, "/services/data/v62.0/sobjects/Account/describe/")
	get(t, s, tok, "/services/data/v62.0/sobjects/Account/"+s.Org.Records("Account", false)[0]["Id"].(string))
	get(t, s, tok, "/services/data/v62.0/sobjects/Account/updated/?start=2026-01-01T00:00:00Z&end=2026-01-01T00:00:00Z")
	get(t, s, tok, "/services/data/v62.0/sobjects/Account/deleted/?start=2026-01-01T00:00:00Z&end=2026-01-01T00:00:00Z")
	do(t, s, tok, "POST", "/services/oauth2/token", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, strings.NewReader("grant_type=refresh_token&refresh_token=x&client_id=y"))
	want := map[string]int{"versions": 1, "query": 1, "queryAll": 1, "queryMore": 1, "describeGlobal": 1, "describe": 1,
		"sobject": 1, "updated": 1, "deleted": 1, "token": 1}
	if diff := cmp.Diff(want, s.Calls()); diff != "" {
		t.Errorf("Calls (-want +got):\n%s", diff)
	}
	if got := s.APICalls(); got != 8 {
		t.Errorf("APICalls %d, want 8", got)
	}
	s.ResetCalls()
	if len(s.Calls()) != 0 || s.APICalls() != 0 {
		t.Error("ResetCalls")
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s, tok := testServer(t, Options{})
	r := do(t, s, tok, "POST", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account", nil, nil)
	if r.status != 405 || !strings.Contains(string(r.body), "METHOD_NOT_ALLOWED") {
		t.Errorf("%d %s", r.status, r.body)
	}
}

// TestDateHeaderIsOrgClock: the Date header is Salesforce's clock, which
// here is the org's fake clock, so that a client taking "now" from it
// agrees with the timestamps the org writes.
func TestDateHeaderIsOrgClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, tok := testServer(t, Options{Start: start})
	s.Org.Advance(90 * time.Minute)
	r := do(t, s, tok, "GET", "/services/data/", nil, nil)
	got, err := http.ParseTime(r.header.Get("Date"))
	if err != nil {
		t.Fatalf("Date header %q: %v", r.header.Get("Date"), err)
	}
	if want := start.Add(90 * time.Minute); !got.Equal(want) {
		t.Errorf("Date = %v, want the org's clock %v", got, want)
	}
}

// TestGeneratedNumbersFitPrecision: generated values never need more
// integer digits than the field's precision allows (999.6 must not round
// to 1000 in a field of precision 3).
func TestGeneratedNumbersFitPrecision(t *testing.T) {
	s, _ := testServer(t, Options{})
	// About one value in 2,000 lands in [999.5, 1000): 10,000 records
	// all but guarantee that a generator that rounds past the limit fails.
	if _, err := s.Org.Generate("Account", 10000); err != nil {
		t.Fatal(err)
	}
	for _, rec := range s.Org.Records("Account", true) {
		if v, ok := rec["NumberofLocations__c"].(float64); ok && v >= 1000 {
			t.Fatalf("NumberofLocations__c = %v does not fit precision 3, scale 0", v)
		}
	}
}
