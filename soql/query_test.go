package soql

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"
	"github.com/sfsync/salesforce-sync/rest"
)

const instance = "https://na1.salesforce.com"

func newMock(t *testing.T) (*Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	rc := &rest.Client{InstanceURL: instance, HTTPClient: &http.Client{Transport: mt},
		Retry: &rest.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}}
	return &Client{REST: rc}, mt
}

func fixtureResponder(t *testing.T, name string, check func(*http.Request)) httpmock.Responder {
	body := readFixture(t, name)
	return func(r *http.Request) (*http.Response, error) {
		if check != nil {
			check(r)
		}
		resp := httpmock.NewBytesResponse(http.StatusOK, body)
		resp.Header.Set("Content-Type", "application/json;charset=UTF-8")
		return resp, nil
	}
}

func errorResponder(status int, code, msg string) httpmock.Responder {
	return httpmock.NewStringResponder(status, `[{"message":"`+msg+`","errorCode":"`+code+`"}]`)
}

func TestQueryPaginates(t *testing.T) {
	c, mt := newMock(t)
	c.BatchSize = 500
	checkHeader := func(r *http.Request) {
		if got := r.Header.Get("Sforce-Query-Options"); got != "batchSize=500" {
			t.Errorf("Sforce-Query-Options = %q", got)
		}
	}
	mt.RegisterResponderWithQuery("GET", instance+"/services/data/v62.0/query",
		map[string]string{"q": "SELECT Id, Name FROM Contact"},
		fixtureResponder(t, "sfcli_query_page1_nextRecordsUrl.json", checkHeader))
	mt.RegisterResponder("GET", instance+"/services/data/v51.0/query/01gB000003KL1aaIAD-1",
		fixtureResponder(t, "sfcli_query_page2_done.json", checkHeader))

	cu := c.Query(context.Background(), "SELECT Id, Name FROM Contact")
	if cu.TotalSize() != -1 {
		t.Errorf("TotalSize before = %d", cu.TotalSize())
	}
	var names []string
	for r, err := range cu.Records() {
		if err != nil {
			t.Fatal(err)
		}
		if cu.TotalSize() != 2 {
			t.Errorf("TotalSize = %d", cu.TotalSize())
		}
		n, _ := r.String("Name")
		names = append(names, r.ID()+" "+n)
	}
	if diff := cmp.Diff([]string{"00390000001TdgeAAC Caroline Roth", "003B0000001U8uaIAC Dalil Djidel"}, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if cu.Pages() != 2 {
		t.Errorf("pages = %d", cu.Pages())
	}
	for _, err := range cu.Records() {
		if !errors.Is(err, ErrCursorUsed) {
			t.Errorf("second range err = %v", err)
		}
	}
}

func TestQueryAllUsesQueryAllThenQueryLocator(t *testing.T) {
	c, mt := newMock(t)
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/queryAll",
		fixtureResponder(t, "restforce_query_page1_nextRecordsUrl.json", nil))
	// queryAll continues under /query/ (SALESFORCE.md 7.5); it must be
	// fetched as given, not rewritten.
	mt.RegisterResponder("GET", instance+"/services/data/v26.0/query/01gD",
		fixtureResponder(t, "restforce_query_page2_last.json", nil))
	recs, err := Collect(c.QueryAll(context.Background(), "SELECT Text_Label FROM Whizbang").Records())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	if v, _ := recs[1].String("Text_Label"); v != "Last Page" {
		t.Errorf("second = %q", v)
	}
}

func TestQueryErrors(t *testing.T) {
	tests := []struct {
		name  string
		page2 httpmock.Responder
		want  error
	}{
		{"invalid locator", errorResponder(400, "INVALID_QUERY_LOCATOR", "invalid query locator"), rest.ErrInvalidQueryLocator},
		{"session", errorResponder(401, "INVALID_SESSION_ID", "Session expired or invalid"), rest.ErrSessionExpired},
		{"malformed page", httpmock.NewStringResponder(200, `{"done":true,"records":[{]}`), ErrDecode},
		{"html", httpmock.NewStringResponder(200, `<html>`), ErrDecode},
		{"unavailable after retries", errorResponder(503, "SERVER_UNAVAILABLE", "down"), rest.ErrServerUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			mt.RegisterResponder("GET", instance+"/services/data/v62.0/query",
				fixtureResponder(t, "sfcli_query_page1_nextRecordsUrl.json", nil))
			mt.RegisterResponder("GET", instance+"/services/data/v51.0/query/01gB000003KL1aaIAD-1", tt.page2)
			n, errs := 0, 0
			for _, err := range c.Query(context.Background(), "SELECT Id FROM Contact").Records() {
				if err != nil {
					errs++
					if !errors.Is(err, tt.want) {
						t.Errorf("err = %v, want %v", err, tt.want)
					}
					continue
				}
				n++
			}
			if n != 1 || errs != 1 {
				t.Errorf("records %d, errors %d", n, errs)
			}
		})
	}
}

func TestQueryRetries503Burst(t *testing.T) {
	c, mt := newMock(t)
	fails := 2
	ok := fixtureResponder(t, "sfcli_query_page2_done.json", nil)
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/query", func(r *http.Request) (*http.Response, error) {
		if fails > 0 {
			fails--
			return errorResponder(503, "SERVER_UNAVAILABLE", "busy")(r)
		}
		return ok(r)
	})
	recs, err := Collect(c.Query(context.Background(), "SELECT Id FROM Contact").Records())
	if err != nil || len(recs) != 1 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
}

func TestQueryStopsWhenLoopBreaks(t *testing.T) {
	c, mt := newMock(t)
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/query",
		fixtureResponder(t, "sfcli_query_page1_nextRecordsUrl.json", nil))
	for range c.Query(context.Background(), "SELECT Id FROM Contact").Records() {
		break
	}
	if n := mt.GetTotalCallCount(); n != 1 {
		t.Errorf("calls = %d, want 1 (no second page after break)", n)
	}
}

func TestQueryCanceled(t *testing.T) {
	c, mt := newMock(t)
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/query",
		fixtureResponder(t, "sfcli_query_page1_nextRecordsUrl.json", nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last error
	for _, err := range c.Query(ctx, "SELECT Id FROM Contact").Records() {
		cancel()
		last = err
	}
	if !errors.Is(last, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", last)
	}
	if n := mt.GetTotalCallCount(); n != 1 {
		t.Errorf("calls = %d", n)
	}
}

func TestCount(t *testing.T) {
	c, mt := newMock(t)
	mt.RegisterResponderWithQuery("GET", instance+"/services/data/v62.0/queryAll",
		map[string]string{"q": "SELECT COUNT() FROM Account WHERE IsDeleted = true"},
		httpmock.NewStringResponder(200, `{"totalSize":1234,"done":true,"records":[]}`))
	n, err := c.Count(context.Background(), "Account", Cmp("IsDeleted", Eq, Bool(true)), true)
	if err != nil || n != 1234 {
		t.Fatalf("Count = %d, %v", n, err)
	}
	if _, err := c.Count(context.Background(), "Bad Name", nil, false); !errors.Is(err, ErrInvalidIdentifier) {
		t.Errorf("err = %v", err)
	}
}

func TestBatchSizeClamped(t *testing.T) {
	for in, want := range map[int]int{0: 2000, 5: 200, 200: 200, 1000: 1000, 5000: 2000} {
		if got := (&Client{BatchSize: in}).batchSize(); got != want {
			t.Errorf("batchSize(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestQueryEncodesSOQL(t *testing.T) {
	c, mt := newMock(t)
	q, err := Select{Fields: []string{"Id"}, From: "Account", Where: And(
		Like("Name", Contains("50% & #1+")), Cmp("CreatedDate", Gt, DateTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600)))))}.Build()
	if err != nil {
		t.Fatal(err)
	}
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/query", func(r *http.Request) (*http.Response, error) {
		if got := r.URL.Query().Get("q"); got != q {
			t.Errorf("server got q=%q, want %q", got, q)
		}
		if strings.ContainsAny(r.URL.RawQuery, " #&'") && strings.Count(r.URL.RawQuery, "&") > 0 {
			t.Errorf("raw query not encoded: %s", r.URL.RawQuery)
		}
		return httpmock.NewStringResponder(200, `{"totalSize":0,"done":true,"records":[]}`)(r)
	})
	if _, err := Collect(c.Query(context.Background(), q).Records()); err != nil {
		t.Fatal(err)
	}
}
