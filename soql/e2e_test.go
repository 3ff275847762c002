package soql_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/salesforce-sync/metadata"
	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/rest"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/soql"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/memory"
)

// bearer adds a fixed access token.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

func fastRetry() *rest.RetryPolicy {
	return &rest.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
}

// newOrg starts a fake org and clients with a session for it.
func newOrg(t testing.TB, opts sftest.Options) (*sftest.Server, *soql.Client, *metadata.Client) {
	t.Helper()
	s := sftest.NewServer(opts)
	t.Cleanup(s.Close)
	at, _ := s.NewSession()
	rc := &rest.Client{InstanceURL: s.URL, HTTPClient: &http.Client{Transport: bearer{at, http.DefaultTransport}}, Retry: fastRetry()}
	c := &soql.Client{REST: rc, Bulk: soql.BulkOptions{PollInterval: time.Millisecond, MaxPollInterval: 5 * time.Millisecond}}
	return s, c, &metadata.Client{REST: rc}
}

// typed converts a record's values into store values by the describe.
func typed(t *testing.T, tab store.Table, r *soql.Record, fields []string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, f := range fields {
		col, ok := tab.Column(f)
		if !ok {
			t.Fatalf("no column %s", f)
		}
		raw, present := r.Get(f)
		if !present {
			t.Fatalf("%s %s: field %s missing", r.Type(), r.ID(), f)
		}
		v, err := metadata.Value(col, raw)
		if err != nil {
			t.Fatalf("%s %s: %v", r.Type(), r.ID(), err)
		}
		out[f] = v
	}
	return out
}

// decimalEqual compares store.Decimal values numerically: REST and Bulk
// may print 23 and 23.0 for the same number.
var decimalEqual = cmp.Comparer(func(a, b store.Decimal) bool {
	x, ok1 := new(big.Rat).SetString(string(a))
	y, ok2 := new(big.Rat).SetString(string(b))
	return ok1 && ok2 && x.Cmp(y) == 0
})

func TestEveryObjectRESTAndBulkAgree(t *testing.T) {
	s, c, mc := newOrg(t, sftest.Options{Records: 250})
	ctx := context.Background()
	g, err := mc.DescribeGlobal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	objects := s.Org.Objects()
	if len(objects) < 9 {
		t.Fatalf("fake org has %d objects", len(objects))
	}
	selected := (metadata.Selection{Names: objects}).Select(g)
	if diff := cmp.Diff(objects, selected); diff != "" {
		t.Errorf("selection of the org's objects (-want +got):\n%s", diff)
	}
	for _, obj := range objects {
		t.Run(obj, func(t *testing.T) {
			d, err := mc.Describe(ctx, obj)
			if err != nil {
				t.Fatal(err)
			}
			tab := metadata.Table(d)
			restFields, bulkFields := metadata.RESTFields(d), metadata.BulkFields(d)
			want := s.Org.Records(obj, false)

			restRecs, err := soql.Collect(c.Extract(ctx, soql.Extract{Object: obj, Fields: restFields}))
			if err != nil {
				t.Fatal(err)
			}
			bulkRecs, err := soql.Collect(c.BulkExtract(ctx, soql.Extract{Object: obj, Fields: bulkFields}))
			if err != nil {
				t.Fatal(err)
			}
			if len(restRecs) != len(want) || len(bulkRecs) != len(want) {
				t.Fatalf("org %d, REST %d, Bulk %d records", len(want), len(restRecs), len(bulkRecs))
			}
			for i, w := range want {
				id := w["Id"].(string)
				if restRecs[i].ID() != id || bulkRecs[i].ID() != id {
					t.Fatalf("record %d: org %s, REST %s, Bulk %s", i, id, restRecs[i].ID(), bulkRecs[i].ID())
				}
				rv := typed(t, tab, restRecs[i], bulkFields)
				bv := typed(t, tab, bulkRecs[i], bulkFields)
				if diff := cmp.Diff(rv, bv, decimalEqual); diff != "" {
					t.Fatalf("record %s: REST and Bulk differ (-rest +bulk):\n%s", id, diff)
				}
				for f, v := range typed(t, tab, restRecs[i], restFields) {
					col, _ := tab.Column(f)
					if !sameAsOrg(col.Type, v, w[f]) {
						t.Fatalf("record %s %s: extracted %#v, org has %#v", id, f, v, w[f])
					}
				}
			}
		})
	}
}

// sameAsOrg compares an extracted, typed value with the fake org's own
// value (see sftest's Org doc for its types).
func sameAsOrg(typ store.ColumnType, got, org any) bool {
	if got == nil || org == nil {
		return got == nil && (org == nil || org == "")
	}
	switch typ {
	case store.Numeric:
		f, err := strconv.ParseFloat(string(got.(store.Decimal)), 64)
		switch o := org.(type) {
		case float64:
			return err == nil && f == o
		case int64:
			return err == nil && f == float64(o)
		}
	case store.Integer:
		switch o := org.(type) {
		case int64:
			return got == o
		case float64:
			return float64(got.(int64)) == o
		}
	case store.Date:
		return got.(time.Time).Format("2006-01-02") == org
	case store.DateTime:
		o, ok := org.(time.Time)
		return ok && got.(time.Time).Equal(o.Truncate(time.Millisecond))
	}
	return got == org
}

func TestExtractAcrossExpiredLocator(t *testing.T) {
	s, c, _ := newOrg(t, sftest.Options{RecordsPer: map[string]int{"Contact": 700}})
	c.BatchSize = 200
	ctx := context.Background()
	n := 0
	var last error
	for _, err := range c.Extract(ctx, soql.Extract{Object: "Contact", Fields: []string{"LastName"}}) {
		if err != nil {
			last = err
			break
		}
		n++
		if n == 250 {
			s.ExpireLocators()
		}
	}
	if !errors.Is(last, rest.ErrInvalidQueryLocator) {
		t.Fatalf("err = %v, want rest.ErrInvalidQueryLocator", last)
	}
	if n != 400 {
		t.Errorf("read %d records before the expired locator, want 400", n)
	}
}

func TestSessionExpiresMidPagination(t *testing.T) {
	s := sftest.NewServer(sftest.Options{RecordsPer: map[string]int{"Account": 900}})
	defer s.Close()
	ctx := context.Background()
	at, rt := s.NewSession()
	key, err := oauth.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := oauth.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	m := oauth.NewManager(oauth.Config{ClientID: s.ClientID(), ClientSecret: s.ClientSecret(), LoginURL: s.URL},
		memory.New(), sealer)
	err = m.Save(ctx, &oauth.Connection{OrgID: s.Org.ID(), UserID: s.Org.UserID(), InstanceURL: s.URL, LoginURL: s.URL,
		AccessToken: oauth.Secret(at), RefreshToken: oauth.Secret(rt), Status: store.StatusActive, IssuedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	hc, err := m.Client(ctx, s.Org.ID())
	if err != nil {
		t.Fatal(err)
	}
	c := &soql.Client{REST: &rest.Client{InstanceURL: s.URL, HTTPClient: hc, Retry: fastRetry()}, BatchSize: 200}
	n := 0
	for _, err := range c.Extract(ctx, soql.Extract{Object: "Account", Fields: []string{"Name"}}) {
		if err != nil {
			t.Fatalf("after %d records: %v", n, err)
		}
		n++
		if n == 300 {
			s.ExpireAccessTokens()
		}
	}
	if n != 900 {
		t.Errorf("got %d records, want 900", n)
	}
	calls := s.Calls()
	// 5 pages; the page after the expiry is fetched twice (401, then again
	// with the new token) from the same nextRecordsUrl, and the query is
	// not restarted.
	if calls["query"] != 1 || calls["queryMore"] != 5 || calls["token"] != 1 {
		t.Errorf("calls = %v", calls)
	}
}

func TestServerUnavailableBurstsRetried(t *testing.T) {
	s, c, _ := newOrg(t, sftest.Options{RecordsPer: map[string]int{"Lead": 450}})
	c.BatchSize = 200
	ctx := context.Background()
	n := 0
	for _, err := range c.Extract(ctx, soql.Extract{Object: "Lead", Fields: []string{"LastName"}}) {
		if err != nil {
			t.Fatalf("after %d: %v", n, err)
		}
		n++
		if n == 1 || n == 300 {
			s.FailNext(3, http.StatusServiceUnavailable, "SERVER_UNAVAILABLE")
		}
	}
	if n != 450 {
		t.Errorf("got %d records", n)
	}
	// A burst longer than the retry policy surfaces as a typed error.
	s.FailNext(10, http.StatusServiceUnavailable, "SERVER_UNAVAILABLE")
	_, err := soql.Collect(c.Extract(ctx, soql.Extract{Object: "Lead", Fields: []string{"LastName"}}))
	if !errors.Is(err, rest.ErrServerUnavailable) {
		t.Errorf("err = %v", err)
	}
}

func TestWideObjectOnFakeOrg(t *testing.T) {
	s, c, mc := newOrg(t, sftest.Options{RecordsPer: map[string]int{"Invoice__c": 0}})
	ctx := context.Background()
	for i := 0; i < 800; i++ {
		f := sftest.Field{Name: fmt.Sprintf("Extra_Field_Number_%04d__c", i), Label: "Extra", Type: "string", Length: 40, Nillable: true}
		if err := s.Org.AddField("Invoice__c", f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Org.Generate("Invoice__c", 120); err != nil {
		t.Fatal(err)
	}
	d, err := mc.Describe(ctx, "Invoice__c")
	if err != nil {
		t.Fatal(err)
	}
	fields := metadata.RESTFields(d)
	if len(fields) < 800 {
		t.Fatalf("describe has %d fields", len(fields))
	}
	s.ResetCalls()
	recs, err := soql.Collect(c.Extract(ctx, soql.Extract{Object: "Invoice__c", Fields: fields}))
	if err != nil {
		t.Fatal(err)
	}
	want := s.Org.Records("Invoice__c", false)
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	tab := metadata.Table(d)
	for i, r := range recs {
		if r.Len() != len(fields) || r.ID() != want[i]["Id"] {
			t.Fatalf("record %d: %s with %d fields", i, r.ID(), r.Len())
		}
		name := fmt.Sprintf("Extra_Field_Number_%04d__c", 799)
		got := typed(t, tab, r, []string{name})[name]
		if wv := want[i][name]; wv != got && !(wv == nil && got == nil) {
			t.Fatalf("record %s %s = %v, want %v", r.ID(), name, got, wv)
		}
	}
	if q := s.Calls()["query"]; q < 2 {
		t.Errorf("%d queries: the field list was not split", q)
	}
	t.Logf("calls %v", s.Calls())
}

func TestChooseAndFallback(t *testing.T) {
	s, c, _ := newOrg(t, sftest.Options{RecordsPer: map[string]int{"Case": 120, "Account": 5}})
	ctx := context.Background()
	e := soql.Extract{Object: "Case", Fields: []string{"Subject"}}
	for _, tt := range []struct {
		threshold int
		want      soql.Method
	}{{0, soql.REST}, {100, soql.Bulk}, {121, soql.REST}, {-1, soql.REST}} {
		m, n, err := c.Choose(ctx, e, tt.threshold)
		if err != nil || n != 120 || m != tt.want {
			t.Errorf("Choose(%d) = %v, %d, %v; want %v", tt.threshold, m, n, err, tt.want)
		}
	}
	var used soql.Method = -1
	recs, err := soql.Collect(c.ExtractAuto(ctx, e, 50, func(m soql.Method) { used = m }))
	if err != nil || len(recs) != 120 || used != soql.Bulk {
		t.Errorf("auto: %d records, %v, used %v", len(recs), err, used)
	}
	// Bulk refuses compound fields: the extract falls back to REST.
	s.ResetCalls()
	used = -1
	ea := soql.Extract{Object: "Account", Fields: []string{"Name", "BillingAddress"}}
	if _, err := soql.Collect(c.ExtractAuto(ctx, ea, 1, func(m soql.Method) { used = m })); err != nil {
		t.Fatal(err)
	}
	if used != soql.REST || s.Calls()["bulk.create"] != 1 {
		t.Errorf("used %v, calls %v", used, s.Calls())
	}
}

// BenchmarkExtractAPICalls extracts 100,000 Accounts from the fake org
// and reports the API calls one extract costs (sftest's counters).
func BenchmarkExtractAPICalls(b *testing.B) {
	const n = 100_000
	s, c, mc := newOrg(b, sftest.Options{RecordsPer: map[string]int{"Account": n}})
	ctx := context.Background()
	d, err := mc.Describe(ctx, "Account")
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, extract func() func(func(*soql.Record, error) bool)) {
		b.ReportAllocs()
		calls := 0
		for b.Loop() {
			s.ResetCalls()
			got := 0
			for _, err := range extract() {
				if err != nil {
					b.Fatal(err)
				}
				got++
			}
			if got != n {
				b.Fatalf("got %d records", got)
			}
			calls = s.APICalls()
		}
		b.ReportMetric(float64(calls), "api-calls")
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	}
	b.Run("REST", func(b *testing.B) {
		run(b, func() func(func(*soql.Record, error) bool) {
			return c.Extract(ctx, soql.Extract{Object: "Account", Fields: metadata.RESTFields(d)})
		})
	})
	b.Run("Bulk", func(b *testing.B) {
		run(b, func() func(func(*soql.Record, error) bool) {
			return c.BulkExtract(ctx, soql.Extract{Object: "Account", Fields: metadata.BulkFields(d)})
		})
	})
}
