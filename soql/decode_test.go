package soql

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

const fixtures = "../testdata/fixtures/salesforce/rest/"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// generic is what encoding/json makes of a page, with records turned into
// the shape our decoder's values take, for comparison.
func generic(t testing.TB, body []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// toGeneric turns decoded values back into encoding/json's generic form.
func toGeneric(v any) any {
	switch v := v.(type) {
	case *Record:
		m := map[string]any{}
		if v.typ != "" || v.url != "" {
			a := map[string]any{"type": v.typ}
			if v.url != "" {
				a["url"] = v.url
			}
			m["attributes"] = a
		}
		for _, f := range v.fields {
			m[f.Name] = toGeneric(f.Value)
		}
		return m
	case *Subquery:
		m := map[string]any{"totalSize": json.Number(itoa(v.TotalSize)), "done": v.Done}
		recs := []any{}
		for _, r := range v.Records {
			recs = append(recs, toGeneric(r))
		}
		m["records"] = recs
		if v.NextRecordsURL != "" {
			m["nextRecordsUrl"] = v.NextRecordsURL
		}
		return m
	case map[string]any:
		m := map[string]any{}
		for k, x := range v {
			m[k] = toGeneric(x)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = toGeneric(x)
		}
		return out
	}
	return v
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func pageGeneric(p *Page) map[string]any {
	m := map[string]any{"totalSize": json.Number(itoa(p.TotalSize)), "done": p.Done}
	if p.NextRecordsURL != "" {
		m["nextRecordsUrl"] = p.NextRecordsURL
	}
	recs := []any{}
	for _, r := range p.Records {
		recs = append(recs, toGeneric(r))
	}
	m["records"] = recs
	return m
}

func TestDecodeFixtures(t *testing.T) {
	files := queryFixtures(t)
	if len(files) < 8 {
		t.Fatalf("found only %d query fixtures", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			body := readFixture(t, name)
			p, err := DecodePage(body)
			if err != nil {
				t.Fatal(err)
			}
			want := generic(t, body).(map[string]any)
			if _, ok := want["records"]; !ok {
				want["records"] = []any{}
			}
			if diff := cmp.Diff(want, pageGeneric(p)); diff != "" {
				t.Errorf("decoded page differs from encoding/json (-want +got):\n%s", diff)
			}
			for _, r := range p.Records {
				if !json.Valid(r.Raw()) {
					t.Errorf("Raw of %s is not JSON", r.ID())
				}
			}
		})
	}
}

func TestDecodeShapes(t *testing.T) {
	p, err := DecodePage(readFixture(t, "sfcli_query_child_subquery_parent_chain.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := p.Records[0]
	if r.Type() != "Opportunity" || r.ID() != "0063F00000RdvMKQAZ" {
		t.Errorf("type %q id %q", r.Type(), r.ID())
	}
	if v, _ := r.Get("Amount"); v != json.Number("1300") {
		t.Errorf("Amount = %#v", v)
	}
	names := []string{}
	for _, f := range r.Fields() {
		names = append(names, f.Name)
	}
	if diff := cmp.Diff([]string{"Amount", "Id", "Name", "StageName", "CloseDate", "OpportunityLineItems"}, names); diff != "" {
		t.Errorf("field order (-want +got):\n%s", diff)
	}
	v, _ := r.Get("OpportunityLineItems")
	sq, ok := v.(*Subquery)
	if !ok || sq.TotalSize != 1 || !sq.Done || len(sq.Records) != 1 {
		t.Fatalf("subquery = %#v", v)
	}
	if fam, ok := sq.Records[0].Get("PricebookEntry.Product2.Family"); !ok || fam != "None" {
		t.Errorf("parent chain = %v %v", fam, ok)
	}

	acc, err := DecodePage(wrapRecord(readFixture(t, "swiftly_account_record_with_address.json")))
	if err != nil {
		t.Fatal(err)
	}
	a := acc.Records[0]
	addr, _ := a.Get("BillingAddress")
	m, ok := addr.(map[string]any)
	if !ok || m["city"] != "Anchorage" || m["latitude"] != json.Number("61.217061") {
		t.Errorf("BillingAddress = %#v", addr)
	}
	if v, ok := a.Get("ShippingAddress"); !ok || v != nil {
		t.Errorf("null compound = %v %v", v, ok)
	}
	if v, _ := a.Get("billinglongitude"); v != json.Number("-149.894342") {
		t.Errorf("case-insensitive get = %#v", v)
	}
	tm, ok, err := a.Time("CreatedDate")
	if err != nil || !ok || tm.Format("2006-01-02T15:04:05Z07:00") != "2021-04-08T18:39:16Z" {
		t.Errorf("Time = %v %v %v", tm, ok, err)
	}

	ch, err := DecodePage(readFixture(t, "sfcli_query_subquery_null_children.json"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := ch.Records[0].Get("Contacts"); !ok || v != nil {
		t.Errorf("null children = %v %v", v, ok)
	}
	agg, err := DecodePage(readFixture(t, "restforce_query_aggregate.json"))
	if err != nil {
		t.Fatal(err)
	}
	if agg.Records[0].Type() != "AggregateResult" || agg.Records[0].URL() != "" {
		t.Errorf("aggregate attributes: %q %q", agg.Records[0].Type(), agg.Records[0].URL())
	}
	if v, _ := agg.Records[0].Get("expr0"); v != json.Number("300.0") {
		t.Errorf("expr0 = %#v", v)
	}
}

// queryFixtures lists the recorded query responses (not the errors).
func queryFixtures(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(fixtures + "*query*.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if !strings.Contains(f, "error") {
			out = append(out, f)
		}
	}
	return out
}

func wrapRecord(rec []byte) []byte {
	return []byte(`{"totalSize":1,"done":true,"records":[` + string(rec) + `]}`)
}

func TestDecodeEscapes(t *testing.T) {
	body := `{"totalSize":1,"done":true,"records":[{"attributes":{"type":"A","url":"/x/001"},` +
		`"S":"a\"b\\c\/d\n\u00e9\ud83d\ude00","N":-1.5e3,"B":false,"Z":null,"L":[1,"x",{"k":true}]}]}`
	p, err := DecodePage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	r := p.Records[0]
	want := []Field{
		{"S", "a\"b\\c/d\né😀"}, {"N", json.Number("-1.5e3")}, {"B", false}, {"Z", nil},
		{"L", []any{json.Number("1"), "x", map[string]any{"k": true}}},
	}
	if diff := cmp.Diff(want, r.Fields()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if string(r.Raw()) != body[strings.Index(body, "[")+1:len(body)-2] {
		t.Errorf("Raw = %s", r.Raw())
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := map[string]string{
		"empty":             ``,
		"not object":        `[]`,
		"no done":           `{"totalSize":0,"records":[]}`,
		"not done, no next": `{"totalSize":3,"done":false,"records":[]}`,
		"bad record":        `{"done":true,"records":[{"a":}]}`,
		"record not object": `{"done":true,"records":[1]}`,
		"bad escape":        `{"done":true,"records":[{"a":"\q"}]}`,
		"bad unicode":       `{"done":true,"records":[{"a":"\u12"}]}`,
		"unterminated":      `{"done":true,"records":[{"a":"x`,
		"bad number":        `{"done":true,"records":[{"a":01}]}`,
		"trailing":          `{"done":true,"records":[]} x`,
		"bad literal":       `{"done":true,"records":[{"a":nul}]}`,
		"totalSize text":    `{"totalSize":"3","done":true,"records":[]}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodePage([]byte(body)); !errors.Is(err, ErrDecode) {
				t.Fatalf("err = %v, want ErrDecode", err)
			}
		})
	}
}

func FuzzDecodePage(f *testing.F) {
	for _, file := range queryFixtures(f) {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte(`{"done":true,"records":[{"a":"\ud800x","b":[{"attributes":{"type":"X"}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		if err != nil {
			return
		}
		// Whatever we accept must be JSON, and mean what encoding/json
		// reads (for valid UTF-8, where both agree on strings).
		if !json.Valid(body) && !hasControl(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if !utf8.Valid(body) || bytes.Contains(body, []byte(`\ud`)) || bytes.Contains(body, []byte(`\uD`)) {
			return
		}
		var want map[string]any
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if d.Decode(&want) != nil {
			return
		}
		for _, r := range p.Records {
			var g map[string]any
			d := json.NewDecoder(bytes.NewReader(r.Raw()))
			d.UseNumber()
			if err := d.Decode(&g); err != nil {
				t.Fatalf("Raw not JSON: %v", err)
			}
			// Scalars mean what encoding/json reads (last key wins in both).
			last := map[string]any{}
			for _, f := range r.Fields() {
				last[f.Name] = f.Value
			}
			for name, v := range last {
				switch v.(type) {
				case nil, string, json.Number, bool:
					if w, ok := g[name]; !ok || w != v {
						t.Fatalf("field %q = %#v, encoding/json reads %#v", name, v, w)
					}
				}
			}
		}
	})
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return true
		}
	}
	return false
}

func TestRecordMarshalJSON(t *testing.T) {
	p, err := DecodePage(readFixture(t, "sfcli_query_child_subquery_parent_chain.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := p.Records[0]
	b, err := json.Marshal(map[string]any{"rec": r})
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Rec map[string]any }
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal(r.Raw(), &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.Rec); diff != "" {
		t.Errorf("json.Marshal of a Record (-raw +got):\n%s", diff)
	}
	sq, _ := r.Get("OpportunityLineItems")
	if b, err := json.Marshal(sq); err != nil || !strings.Contains(string(b), `"totalSize":1,"done":true,"records":[{`) {
		t.Errorf("Subquery JSON %s, %v", b, err)
	}
}

func TestGetPath(t *testing.T) {
	parent := NewRecord("Account", []Field{{"Name", "Acme"}, {"Owner", NewRecord("User", []Field{{"Name", "Ann"}})}})
	tests := []struct {
		name string
		rec  *Record
		path string
		want any
		ok   bool
	}{
		{"REST parent", NewRecord("Contact", []Field{{"Account", parent}}), "Account.Owner.Name", "Ann", true},
		{"REST null parent", NewRecord("Contact", []Field{{"Account", nil}}), "Account.Name", nil, true},
		{"REST absent", NewRecord("Contact", []Field{{"Account", parent}}), "Account.Phone", nil, false},
		{"Bulk column", NewRecord("Contact", []Field{{"Account.Name", "Acme"}}), "account.name", "Acme", true},
		{"Bulk null column", NewRecord("Contact", []Field{{"Account.Name", nil}}), "Account.Name", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := tt.rec.Get(tt.path)
			if v != tt.want || ok != tt.ok {
				t.Errorf("Get(%s) = %v, %v; want %v, %v", tt.path, v, ok, tt.want, tt.ok)
			}
		})
	}
}
