package soql

import (
	"context"
	"encoding/json"
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

func TestQueryFetchesChildBatches(t *testing.T) {
	const page1 = `{"totalSize":2,"done":true,"records":[` +
		`{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001000000000001AAA"},"Id":"001000000000001AAA",` +
		`"Contacts":{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gC-1","records":[` +
		`{"attributes":{"type":"Contact","url":"/c/1"},"LastName":"One"}]}},` +
		`{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/001000000000002AAA"},"Id":"001000000000002AAA","Contacts":null}]}`
	const child2 = `{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gC-2","records":[` +
		`{"attributes":{"type":"Contact","url":"/c/2"},"LastName":"Two"}]}`
	const child3 = `{"totalSize":3,"done":true,"records":[{"attributes":{"type":"Contact","url":"/c/3"},"LastName":"Three"}]}`

	tests := []struct {
		name    string
		child2  httpmock.Responder
		want    []string // last names of the first account's contacts
		wantErr error
	}{
		{name: "all batches", child2: httpmock.NewStringResponder(200, child2), want: []string{"One", "Two", "Three"}},
		{name: "expired child locator", child2: errorResponder(400, "INVALID_QUERY_LOCATOR", "invalid query locator"),
			wantErr: rest.ErrInvalidQueryLocator},
		{name: "not done without next", child2: httpmock.NewStringResponder(200, `{"totalSize":3,"done":false,"records":[]}`),
			wantErr: ErrDecode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mt := newMock(t)
			mt.RegisterResponder("GET", instance+"/services/data/v62.0/query", httpmock.NewStringResponder(200, page1))
			mt.RegisterResponder("GET", instance+"/services/data/v62.0/query/01gC-1", tt.child2)
			mt.RegisterResponder("GET", instance+"/services/data/v62.0/query/01gC-2", httpmock.NewStringResponder(200, child3))
			recs, err := Collect(c.Query(context.Background(), "SELECT Id, (SELECT LastName FROM Contacts) FROM Account").Records())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || len(recs) != 0 {
					t.Fatalf("%d records, err = %v; want %v and no record (a partial record is never yielded)", len(recs), err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 {
				t.Fatalf("got %d records", len(recs))
			}
			v, _ := recs[0].Get("Contacts")
			sq, ok := v.(*Subquery)
			if !ok {
				t.Fatalf("Contacts = %#v", v)
			}
			var names []string
			for _, r := range sq.Records {
				n, _ := r.String("LastName")
				names = append(names, n)
			}
			if diff := cmp.Diff(tt.want, names); diff != "" {
				t.Errorf("children (-want +got):\n%s", diff)
			}
			if !sq.Done || sq.NextRecordsURL != "" || sq.TotalSize != 3 {
				t.Errorf("subquery done %v next %q total %d", sq.Done, sq.NextRecordsURL, sq.TotalSize)
			}
			// Raw agrees with the completed children.
			var raw struct {
				Contacts struct {
					Done    bool
					Records []struct{ LastName string }
				}
			}
			if err := json.Unmarshal(recs[0].Raw(), &raw); err != nil {
				t.Fatalf("Raw %s: %v", recs[0].Raw(), err)
			}
			if len(raw.Contacts.Records) != 3 || !raw.Contacts.Done {
				t.Errorf("Raw = %s", recs[0].Raw())
			}
			if v, ok := recs[1].Get("Contacts"); !ok || v != nil {
				t.Errorf("null children = %v %v", v, ok)
			}
		})
	}
}

func TestQueryCanceledMidPage(t *testing.T) {
	c, mt := newMock(t)
	mt.RegisterResponder("GET", instance+"/services/data/v62.0/query", httpmock.NewStringResponder(200,
		`{"totalSize":3,"done":true,"records":[{"Id":"001000000000001AAA"},{"Id":"001000000000002AAA"},{"Id":"001000000000003AAA"}]}`))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range c.Query(ctx, "SELECT Id FROM Account").Records() {
		if err != nil {
			last = err
			continue
		}
		n++
		cancel()
	}
	if n != 1 || !errors.Is(last, context.Canceled) {
		t.Errorf("%d records after cancel, err %v; want 1 and context.Canceled", n, last)
	}
}
