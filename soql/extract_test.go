package soql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/salesforce-sync/rest"
)

// wideOrg is a tiny query server for one object with many fields: it
// answers SELECT <fields> FROM Wide__c [WHERE Id > '...'] ORDER BY Id in
// pages, and records the longest request URI it saw.
type wideOrg struct {
	t        *testing.T
	fields   []string
	mu       sync.Mutex
	ids      []string
	maxURI   int
	queries  int
	pages    map[string][]string // locator -> remaining ids
	fieldsOf map[string][]string
	onQuery  func(n int) // called before answering the n-th query
}

func newWideOrg(t *testing.T, nFields, nRecords int) *wideOrg {
	o := &wideOrg{t: t, pages: map[string][]string{}, fieldsOf: map[string][]string{}}
	o.fields = []string{"Id"}
	for i := 1; i < nFields; i++ {
		o.fields = append(o.fields, fmt.Sprintf("Custom_Field_Number_%04d__c", i))
	}
	for i := 0; i < nRecords; i++ {
		o.ids = append(o.ids, fmt.Sprintf("a00%012dAAA", i*7))
	}
	return o
}

func (o *wideOrg) value(id, field string) any {
	if field == "Id" {
		return id
	}
	if strings.HasSuffix(field, "0__c") {
		return nil
	}
	return id[9:15] + "-" + field[20:24]
}

func (o *wideOrg) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if n := len(r.URL.RequestURI()); n > o.maxURI {
		o.maxURI = n
	}
	if n := len(r.URL.RequestURI()); n > 16384-1024 {
		http.Error(w, "uri too long", http.StatusRequestURITooLong)
		return
	}
	var ids, fields []string
	loc := ""
	switch {
	case r.URL.Path == "/services/data/v62.0/query":
		o.queries++
		if o.onQuery != nil {
			o.onQuery(o.queries)
		}
		q := r.URL.Query().Get("q")
		sel, rest, ok := strings.Cut(strings.TrimPrefix(q, "SELECT "), " FROM Wide__c")
		if !ok || !strings.HasSuffix(rest, " ORDER BY Id") {
			o.t.Errorf("unexpected query %q", q)
			http.Error(w, "bad", 400)
			return
		}
		fields = strings.Split(sel, ",")
		after := ""
		if w, ok := strings.CutPrefix(strings.TrimSuffix(rest, " ORDER BY Id"), " WHERE Id > '"); ok {
			after = strings.TrimSuffix(w, "'")
		}
		for _, id := range o.ids {
			if id > after {
				ids = append(ids, id)
			}
		}
		loc = "01g" + strconv.Itoa(o.queries)
		o.fieldsOf[loc] = fields
	case strings.HasPrefix(r.URL.Path, "/services/data/v62.0/query/"):
		key := strings.TrimPrefix(r.URL.Path, "/services/data/v62.0/query/")
		loc = key
		ids = o.pages[key]
		fields = o.fieldsOf[strings.Split(key, "-")[0]]
	default:
		http.NotFound(w, r)
		return
	}
	const batch = 200
	page := ids
	if len(page) > batch {
		page = ids[:batch]
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"totalSize":%d,"done":%v,`, len(ids), len(ids) <= batch)
	if len(ids) > batch {
		next := strings.Split(loc, "-")[0] + "-" + page[len(page)-1]
		o.pages[next] = ids[batch:]
		fmt.Fprintf(&b, `"nextRecordsUrl":"/services/data/v62.0/query/%s",`, next)
	}
	b.WriteString(`"records":[`)
	for i, id := range page {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"attributes":{"type":"Wide__c","url":"/services/data/v62.0/sobjects/Wide__c/%s"}`, id)
		for _, f := range fields {
			// Names and values are plain ASCII: no escaping needed.
			if v := o.value(id, f); v == nil {
				b.WriteString(`,"` + f + `":null`)
			} else {
				b.WriteString(`,"` + f + `":"` + v.(string) + `"`)
			}
		}
		b.WriteString("}")
	}
	b.WriteString("]}")
	w.Write([]byte(b.String()))
}

func TestExtractSplitsWideObject(t *testing.T) {
	org := newWideOrg(t, 800, 210)
	srv := httptest.NewServer(org)
	defer srv.Close()
	c := &Client{REST: &rest.Client{InstanceURL: srv.URL}}
	e := Extract{Object: "Wide__c", Fields: org.fields[1:]} // Id is added

	qs, err := c.queries(e)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 2 {
		t.Fatalf("800 fields fit one query of %d bytes?", len(qs[0]))
	}
	var got []string
	n := 0
	for r, err := range c.Extract(context.Background(), e) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Len() != 800 {
			t.Fatalf("record %s has %d fields", r.ID(), r.Len())
		}
		for i, f := range r.Fields() {
			if f.Name != org.fields[i] || f.Value != org.value(r.ID(), f.Name) {
				t.Fatalf("record %s field %d = %s:%v", r.ID(), i, f.Name, f.Value)
			}
		}
		if !json.Valid(r.Raw()) {
			t.Fatal("merged Raw is not JSON")
		}
		got = append(got, r.ID())
		n++
	}
	if diff := cmp.Diff(org.ids, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if org.maxURI > DefaultMaxURILength {
		t.Errorf("longest URI %d > %d", org.maxURI, DefaultMaxURILength)
	}
	t.Logf("%d queries of %d fields; longest URI %d bytes", len(qs), 800, org.maxURI)

	// Resume after a checkpoint.
	after := org.ids[149]
	e.AfterID = after
	recs, err := Collect(c.Extract(context.Background(), e))
	if err != nil || len(recs) != 60 || recs[0].ID() != org.ids[150] {
		t.Fatalf("resume: %d records, %v", len(recs), err)
	}
}

func TestExtractSplitSkipsRecordsNotInEveryPart(t *testing.T) {
	org := newWideOrg(t, 800, 50)
	removed := org.ids[10]
	org.onQuery = func(n int) {
		if n == 2 { // deleted between the first and the second part
			org.ids = slices.DeleteFunc(org.ids, func(id string) bool { return id == removed })
		}
	}
	srv := httptest.NewServer(org)
	defer srv.Close()
	c := &Client{REST: &rest.Client{InstanceURL: srv.URL}}
	recs, err := Collect(c.Extract(context.Background(), Extract{Object: "Wide__c", Fields: org.fields}))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 49 {
		t.Errorf("got %d records, want 49", len(recs))
	}
	for _, r := range recs {
		if r.ID() == removed {
			t.Error("a partial record was yielded")
		}
	}
}

func TestExtractQueries(t *testing.T) {
	c := &Client{REST: &rest.Client{InstanceURL: instance}}
	e := Extract{Object: "Account", Fields: []string{"Name", "id", "Name", "Industry", "Owner.Name"},
		Where: Cmp("IsDeleted", Eq, Bool(true)), All: true, AfterID: "001000000000001AAA"}
	qs, err := c.queries(e)
	if err != nil {
		t.Fatal(err)
	}
	one := "SELECT Id,Name,Industry,Owner.Name FROM Account WHERE (IsDeleted = true AND Id > '001000000000001AAA') ORDER BY Id"
	if diff := cmp.Diff([]string{one}, qs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	uri := func(q string) int { return len("/services/data/v62.0/queryAll?q=" + url.QueryEscape(q)) }
	c.MaxURILength = uri(one) - 1
	if qs, err = c.queries(e); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"SELECT Id,Name,Industry FROM Account WHERE (IsDeleted = true AND Id > '001000000000001AAA') ORDER BY Id",
		"SELECT Id,Owner.Name FROM Account WHERE (IsDeleted = true AND Id > '001000000000001AAA') ORDER BY Id",
	}
	if diff := cmp.Diff(want, qs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, q := range qs {
		if uri(q) > c.MaxURILength {
			t.Errorf("%d > %d: %s", uri(q), c.MaxURILength, q)
		}
	}
	c.MaxURILength = 100
	if _, err := c.queries(Extract{Object: "Account", Fields: []string{"A_Really_Long_Field_Name_That_Cannot_Fit__c"}}); !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("err = %v", err)
	}
	if _, err := c.queries(Extract{Object: "Account", Fields: []string{"Name; DROP"}}); !errors.Is(err, ErrInvalidIdentifier) {
		t.Errorf("err = %v", err)
	}
}
