package metadata

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/salesforce-sync/rest"
)

const fixtures = "../testdata/fixtures/salesforce/describe/"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		file   string
		name   string
		fields int
	}{
		{"swiftly_account_describe_v53.json", "Account", 71},
		{"swiftly_contact_describe_v40.json", "Contact", 63},
		{"swiftly_task_describe_v37.json", "Task", 38},
		{"restforce_whizbang_describe.json", "Whizbang", 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			o, err := DecodeSObject(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if o.Name != tt.name || tt.fields > 0 && len(o.Fields) != tt.fields {
				t.Errorf("got %s with %d fields", o.Name, len(o.Fields))
			}
			// Every field maps, whatever its type.
			tab := Table(o)
			if tab.Columns[0].Name != "Id" {
				t.Errorf("first column %s", tab.Columns[0].Name)
			}
		})
	}
	g, err := DecodeGlobal(readFixture(t, "restforce_describe_global.json"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Encoding != "UTF-8" || g.MaxBatchSize != 200 || len(g.SObjects) != 1 || g.SObjects[0].Name != "Account" {
		t.Errorf("global = %+v", g)
	}
}

func TestDecodeAccountDetails(t *testing.T) {
	o, err := DecodeSObject(readFixture(t, "swiftly_account_describe_v53.json"))
	if err != nil {
		t.Fatal(err)
	}
	if o.KeyPrefix != "001" || !o.Queryable || !o.Retrieveable || !o.Replicateable || o.Custom {
		t.Errorf("object flags %+v", o)
	}
	city, ok := o.Field("billingcity")
	if !ok || city.CompoundFieldName != "BillingAddress" || city.Type != "string" {
		t.Errorf("BillingCity = %+v", city)
	}
	rev, _ := o.Field("AnnualRevenue")
	if rev.Type != "currency" || rev.Precision != 18 || rev.Scale != 0 {
		t.Errorf("AnnualRevenue = %+v", rev)
	}
	emp, _ := o.Field("NumberOfEmployees")
	if emp.Type != "int" || emp.Digits != 8 {
		t.Errorf("NumberOfEmployees = %+v", emp)
	}
	owner, _ := o.Field("OwnerId")
	if diff := cmp.Diff([]string{"User"}, owner.ReferenceTo); diff != "" || owner.RelationshipName != "Owner" {
		t.Errorf("OwnerId = %+v", owner)
	}
	typ, _ := o.Field("Type")
	if len(typ.PicklistValues) == 0 || typ.PicklistValues[0].Value == "" {
		t.Errorf("Type picklist = %+v", typ.PicklistValues)
	}
	for _, f := range RESTFields(o) {
		if f == "BillingAddress" || f == "ShippingAddress" {
			t.Errorf("REST selects compound %s", f)
		}
	}
}

func TestDecodeUnknownType(t *testing.T) {
	body := `{"name":"Future__c","fields":[{"name":"Id","type":"id"},{"name":"Vec__c","type":"vector","soapType":"urn:vector","someNewProperty":{"x":1}}]}`
	o, err := DecodeSObject([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c, ok := Column(o.Fields[1])
	if !ok || c.Type != "json" {
		t.Errorf("future type column = %+v %v", c, ok)
	}
}

func TestDecodeErrors(t *testing.T) {
	for name, body := range map[string]string{
		"not json":       `<html>`,
		"no name":        `{"fields":[]}`,
		"field no name":  `{"name":"A","fields":[{"type":"string"}]}`,
		"fields not arr": `{"name":"A","fields":{}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeSObject([]byte(body)); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

func FuzzDecodeSObject(f *testing.F) {
	files, _ := filepath.Glob(fixtures + "*.json")
	for _, file := range files {
		if strings.Contains(file, "global") {
			continue
		}
		b, _ := os.ReadFile(file)
		if len(b) < 50_000 {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"name":"A","fields":[{"name":"X","type":"weird"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := DecodeSObject(b)
		if err != nil {
			return
		}
		tab := Table(o)
		for _, f := range o.Fields {
			if c, ok := Column(f); ok {
				if _, found := tab.Column(c.Name); !found {
					t.Fatalf("column %s missing from table", c.Name)
				}
			}
		}
	})
}

// describeServer serves describe and describeGlobal with Last-Modified and
// answers If-Modified-Since with 304, counting full answers.
type describeServer struct {
	t        *testing.T
	mu       sync.Mutex
	body     []byte
	modified time.Time
	full     atomic.Int32
	notMod   atomic.Int32
}

func (d *describeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/services/data/v62.0/sobjects/Account/describe/" && r.URL.Path != "/services/data/v62.0/sobjects/" {
		d.t.Errorf("unexpected path %s", r.URL.Path)
		http.NotFound(w, r)
		return
	}
	d.mu.Lock()
	body, mod := d.body, d.modified
	d.mu.Unlock()
	if r.URL.Path == "/services/data/v62.0/sobjects/" {
		body = readFixture(d.t, "restforce_describe_global.json")
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !mod.After(t) {
			d.notMod.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	d.full.Add(1)
	w.Header().Set("Last-Modified", mod.UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func TestDescribeCache(t *testing.T) {
	ds := &describeServer{t: t, body: readFixture(t, "swiftly_account_describe_v53.json"),
		modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := httptest.NewServer(ds)
	defer srv.Close()
	c := &Client{REST: &rest.Client{InstanceURL: srv.URL}}
	ctx := context.Background()

	first, err := c.Describe(ctx, "Account")
	if err != nil {
		t.Fatal(err)
	}
	if !first.LastModified.Equal(ds.modified) {
		t.Errorf("LastModified = %v", first.LastModified)
	}
	second, err := c.Describe(ctx, "Account")
	if err != nil {
		t.Fatal(err)
	}
	if second != first {
		t.Error("304 decoded the describe again instead of reusing it")
	}
	if ds.full.Load() != 1 || ds.notMod.Load() != 1 {
		t.Errorf("full %d, 304 %d", ds.full.Load(), ds.notMod.Load())
	}

	// A change is seen.
	ds.mu.Lock()
	ds.body = []byte(`{"name":"Account","fields":[{"name":"Id","type":"id"},{"name":"New__c","type":"string"}]}`)
	ds.modified = ds.modified.Add(time.Hour)
	ds.mu.Unlock()
	third, err := c.Describe(ctx, "Account")
	if err != nil {
		t.Fatal(err)
	}
	ch := Compare(first, third)
	if len(ch.Added) != 1 || ch.Added[0].Name != "New__c" || len(ch.Removed) != 70 {
		t.Errorf("changes: %d added, %d removed", len(ch.Added), len(ch.Removed))
	}

	// A persistent cache survives a new Client: the first call after a
	// restart revalidates (304) and decodes the stored body once.
	shared := &MemoryCache{}
	c1 := &Client{REST: &rest.Client{InstanceURL: srv.URL}, Cache: shared}
	if _, err := c1.Describe(ctx, "Account"); err != nil {
		t.Fatal(err)
	}
	c2 := &Client{REST: &rest.Client{InstanceURL: srv.URL}, Cache: shared}
	before := ds.full.Load()
	o, err := c2.Describe(ctx, "Account")
	if err != nil {
		t.Fatal(err)
	}
	if ds.full.Load() != before || len(o.Fields) != 2 {
		t.Errorf("restart fetched in full (%d -> %d), fields %d", before, ds.full.Load(), len(o.Fields))
	}

	g, err := c.DescribeGlobal(ctx)
	if err != nil || len(g.SObjects) != 1 {
		t.Fatalf("global: %v %v", g, err)
	}
	if g2, err := c.DescribeGlobal(ctx); err != nil || g2 != g {
		t.Errorf("global not reused on 304: %v", err)
	}
}

func TestDescribeErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]`))
	}))
	defer srv.Close()
	c := &Client{REST: &rest.Client{InstanceURL: srv.URL}}
	if _, err := c.Describe(context.Background(), "Nope__c"); !errors.Is(err, rest.ErrNotFound) {
		t.Errorf("err = %v, want rest.ErrNotFound", err)
	}
	if _, err := c.Describe(context.Background(), "../x"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("err = %v, want ErrInvalidName", err)
	}
}

func TestDescribeCacheSharedByOrgs(t *testing.T) {
	mod := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &describeServer{t: t, modified: mod, body: []byte(`{"name":"Account","fields":[{"name":"Id","type":"id"},{"name":"A__c","type":"string"}]}`)}
	b := &describeServer{t: t, modified: mod, body: []byte(`{"name":"Account","fields":[{"name":"Id","type":"id"},{"name":"B__c","type":"string"}]}`)}
	srvA, srvB := httptest.NewServer(a), httptest.NewServer(b)
	defer srvA.Close()
	defer srvB.Close()
	shared := &MemoryCache{}
	ctx := context.Background()
	for _, tt := range []struct {
		url, field string
	}{{srvA.URL, "A__c"}, {srvB.URL, "B__c"}, {srvA.URL, "A__c"}} {
		o, err := (&Client{REST: &rest.Client{InstanceURL: tt.url}, Cache: shared}).Describe(ctx, "Account")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := o.Field(tt.field); !ok {
			t.Errorf("%s: describe of another org (fields %v)", tt.url, o.Fields)
		}
	}
	if a.full.Load() != 1 || a.notMod.Load() != 1 || b.full.Load() != 1 {
		t.Errorf("org A: %d full, %d 304; org B: %d full", a.full.Load(), a.notMod.Load(), b.full.Load())
	}
}
