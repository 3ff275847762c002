package sftest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const fixtures = "../testdata/fixtures/salesforce/"

func fixture(t testing.TB, name string) any {
	t.Helper()
	b, err := os.ReadFile(fixtures + name)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// keysInOrder returns the keys of the JSON object raw in document order.
func keysInOrder(t testing.TB, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %.80s", raw)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// shape reduces a JSON value to its structure: object keys (sorted) with
// their shapes, the first element of arrays, and the kind of scalars.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = shape(e)
		}
		return m
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{shape(x[0])}
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

func sortedKeys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

var (
	reDateTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`)
	reNextURL  = regexp.MustCompile(`^/services/data/v62\.0/query/01g[0-9A-Za-z]{15}-\d+$`)
)

func TestVersions(t *testing.T) {
	s, _ := testServer(t, Options{})
	r := get(t, s, "", "/services/data/")
	if r.status != 200 || r.header.Get("Sforce-Limit-Info") != "" {
		t.Fatalf("status %d, limit info %q", r.status, r.header.Get("Sforce-Limit-Info"))
	}
	want := shape(fixture(t, "rest/restforce_versions.json"))
	got := r.json(t).([]any)
	if diff := cmp.Diff(want, shape(got)); diff != "" {
		t.Errorf("shape (-fixture +fake):\n%s", diff)
	}
	first := got[0].(map[string]any)
	if first["label"] != "Winter '11" || first["version"] != "20.0" || first["url"] != "/services/data/v20.0" {
		t.Errorf("first version %v", first)
	}
	found := false
	for _, v := range got {
		found = found || v.(map[string]any)["version"] == "62.0"
	}
	if !found {
		t.Error("62.0 not listed")
	}
}

func TestQueryPagination(t *testing.T) {
	s, tok := testServer(t, Options{RecordsPer: map[string]int{"Contact": 450}})
	ids := s.Org.Records("Contact", false)
	if err := s.Org.Delete("Contact", ids[10]["Id"].(string)); err != nil {
		t.Fatal(err)
	}
	hdr := map[string]string{"Sforce-Query-Options": "batchSize=200"}
	page := func(path string) (map[string]any, resp) {
		r := do(t, s, tok, "GET", path, hdr, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		return r.json(t).(map[string]any), r
	}
	for _, tc := range []struct {
		endpoint string
		total    int
	}{{"query", 449}, {"queryAll", 450}} {
		t.Run(tc.endpoint, func(t *testing.T) {
			m, r := page("/services/data/v62.0/" + tc.endpoint + "?q=" + url.QueryEscape("SELECT Id, Name, IsDeleted FROM Contact"))
			want := sortedKeys(fixture(t, "rest/sfcli_query_page1_nextRecordsUrl.json").(map[string]any))
			if diff := cmp.Diff(want, sortedKeys(m)); diff != "" {
				t.Errorf("page 1 keys (-fixture +fake):\n%s", diff)
			}
			if got := keysInOrder(t, r.body); !slices.Equal(got, []string{"totalSize", "done", "nextRecordsUrl", "records"}) {
				t.Errorf("key order %v", got)
			}
			var seen []string
			deleted := 0
			for {
				if int(m["totalSize"].(float64)) != tc.total {
					t.Fatalf("totalSize %v, want %d", m["totalSize"], tc.total)
				}
				for _, rec := range m["records"].([]any) {
					rm := rec.(map[string]any)
					seen = append(seen, rm["Id"].(string))
					if rm["IsDeleted"] == true {
						deleted++
					}
				}
				if m["done"] == true {
					if _, ok := m["nextRecordsUrl"]; ok {
						t.Error("nextRecordsUrl on the last page")
					}
					break
				}
				next := m["nextRecordsUrl"].(string)
				if !reNextURL.MatchString(next) {
					t.Fatalf("nextRecordsUrl %q: queryAll continues under /query/ too", next)
				}
				if n := len(m["records"].([]any)); n != 200 {
					t.Fatalf("page of %d, want 200", n)
				}
				m, _ = page(next)
			}
			if len(seen) != tc.total || !slices.IsSorted(seen) {
				t.Errorf("%d records, sorted %v", len(seen), slices.IsSorted(seen))
			}
			if want := tc.total - 449; deleted != want {
				t.Errorf("%d deleted rows, want %d", deleted, want)
			}
		})
	}
	t.Run("refetch and expiry", func(t *testing.T) {
		m, _ := page("/services/data/v62.0/query?q=" + url.QueryEscape("SELECT Id FROM Contact"))
		next := m["nextRecordsUrl"].(string)
		a, _ := page(next)
		b, _ := page(next) // a retry of the same locator gives the same page
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("refetch differs:\n%s", diff)
		}
		s.Org.Advance(16 * time.Minute)
		tok2, _ := s.NewSession()
		r := do(t, s, tok2, "GET", next, hdr, nil)
		if r.status != 400 || !strings.Contains(string(r.body), "INVALID_QUERY_LOCATOR") {
			t.Errorf("expired locator: %d %s", r.status, r.body)
		}
		m, _ = do(t, s, tok2, "GET", "/services/data/v62.0/query?q="+url.QueryEscape("SELECT Id FROM Contact"), hdr, nil).json(t).(map[string]any), resp{}
		s.ExpireLocators()
		r = do(t, s, tok2, "GET", m["nextRecordsUrl"].(string), hdr, nil)
		if r.status != 400 || !strings.Contains(string(r.body), "INVALID_QUERY_LOCATOR") {
			t.Errorf("ExpireLocators: %d %s", r.status, r.body)
		}
		r = do(t, s, tok2, "GET", "/services/data/v62.0/query/01gXXXXXXXXXXXXXXX-2000", nil, nil)
		if r.status != 400 || !strings.Contains(string(r.body), "INVALID_QUERY_LOCATOR") {
			t.Errorf("unknown locator: %d %s", r.status, r.body)
		}
	})
	t.Run("default batch 2000 and limit", func(t *testing.T) {
		r := query(t, s, tok, "SELECT Id FROM Contact LIMIT 300")
		m := r.json(t).(map[string]any)
		if m["done"] != true || len(m["records"].([]any)) != 300 {
			t.Errorf("done %v, %d records", m["done"], len(m["records"].([]any)))
		}
	})
}

func TestQueryRecordShape(t *testing.T) {
	s, tok, ids := soqlOrg(t)
	r := query(t, s, tok, "SELECT Id, Name, Parent.Name, Owner.Name, BillingAddress, ShippingAddress, CreatedDate, AnnualRevenue, NumberOfEmployees, Account_Age_Days__c FROM Account ORDER BY Name")
	m := r.json(t).(map[string]any)
	recs := m["records"].([]any)
	raw := json.RawMessage{}
	var env struct{ Records []json.RawMessage }
	json.Unmarshal(r.body, &env)
	raw = env.Records[0]
	want := []string{"attributes", "Id", "Name", "Parent", "Owner", "BillingAddress", "ShippingAddress", "CreatedDate", "AnnualRevenue", "NumberOfEmployees", "Account_Age_Days__c"}
	if diff := cmp.Diff(want, keysInOrder(t, raw)); diff != "" {
		t.Errorf("key order (-want +got):\n%s", diff)
	}
	acme := recs[0].(map[string]any)
	attrs := acme["attributes"].(map[string]any)
	if attrs["type"] != "Account" || attrs["url"] != "/services/data/v62.0/sobjects/Account/"+ids["acme"] {
		t.Errorf("attributes %v", attrs)
	}
	if acme["Parent"] != nil {
		t.Errorf("null parent: %v", acme["Parent"])
	}
	owner := acme["Owner"].(map[string]any)
	fixRel := fixture(t, "rest/restforce_query_relationships.json").(map[string]any)["records"].([]any)[0].(map[string]any)["ParentWhizbang__r"].(map[string]any)
	if diff := cmp.Diff(shape(fixRel["attributes"]), shape(owner["attributes"])); diff != "" {
		t.Errorf("related attributes (-fixture +fake):\n%s", diff)
	}
	if owner["Name"] != "Ada Admin" {
		t.Errorf("Owner.Name %v", owner["Name"])
	}
	fixAddr := fixture(t, "rest/swiftly_account_record_with_address.json").(map[string]any)
	addr, ok := acme["BillingAddress"].(map[string]any)
	if !ok {
		t.Fatalf("BillingAddress %v", acme["BillingAddress"])
	}
	if diff := cmp.Diff(sortedKeys(fixAddr["BillingAddress"].(map[string]any)), sortedKeys(addr)); diff != "" {
		t.Errorf("address keys (-fixture +fake):\n%s", diff)
	}
	if addr["city"] != "Paris" || acme["ShippingAddress"] != nil {
		t.Errorf("address %v, shipping %v", addr, acme["ShippingAddress"])
	}
	if !reDateTime.MatchString(acme["CreatedDate"].(string)) {
		t.Errorf("CreatedDate %q", acme["CreatedDate"])
	}
	if !bytes.Contains(raw, []byte(`"AnnualRevenue":100.0,"NumberOfEmployees":10,`)) {
		t.Errorf("number forms: %s", raw)
	}
	zeta := recs[2].(map[string]any)
	if zeta["Parent"].(map[string]any)["Name"] != "Acme" {
		t.Errorf("Parent.Name %v", zeta["Parent"])
	}
}

func TestFormulaChangesWithoutModstamp(t *testing.T) {
	s, tok, ids := soqlOrg(t)
	read := func() (float64, string) {
		r := query(t, s, tok, "SELECT Account_Age_Days__c, SystemModstamp FROM Account WHERE Id = '"+ids["acme"]+"'")
		rec := r.json(t).(map[string]any)["records"].([]any)[0].(map[string]any)
		return rec["Account_Age_Days__c"].(float64), rec["SystemModstamp"].(string)
	}
	d1, m1 := read()
	s.Org.Advance(3 * 24 * time.Hour)
	tok, _ = s.NewSession()
	d2, m2 := read()
	if d2 != d1+3 || m1 != m2 {
		t.Errorf("formula %v -> %v, modstamp %s -> %s", d1, d2, m1, m2)
	}
}

func TestAggregateAndCount(t *testing.T) {
	s, tok, _ := soqlOrg(t)
	r := query(t, s, tok, "SELECT COUNT() FROM Account")
	if diff := cmp.Diff(`{"totalSize":3,"done":true,"records":[]}`, string(r.body)); diff != "" {
		t.Error(diff)
	}
	r = query(t, s, tok, "SELECT COUNT(Id), MAX(AnnualRevenue) top, MIN(Name), SUM(NumberOfEmployees), COUNT_DISTINCT(Industry) FROM Account")
	m := r.json(t).(map[string]any)
	rec := m["records"].([]any)[0].(map[string]any)
	fix := fixture(t, "rest/restforce_query_aggregate.json").(map[string]any)["records"].([]any)[0].(map[string]any)
	if diff := cmp.Diff(fix["attributes"], rec["attributes"]); diff != "" {
		t.Errorf("aggregate attributes (-fixture +fake):\n%s", diff)
	}
	want := map[string]any{"attributes": rec["attributes"], "expr0": 3.0, "top": 100.0, "expr1": "Acme", "expr2": 13.0, "expr3": 2.0}
	if diff := cmp.Diff(want, rec); diff != "" {
		t.Errorf("aggregate (-want +got):\n%s", diff)
	}
	r = query(t, s, tok, "SELECT Id FROM Account WHERE Name = 'nobody'")
	if diff := cmp.Diff(shape(fixture(t, "rest/restforce_query_empty.json")), shape(r.json(t))); diff != "" {
		t.Errorf("empty result (-fixture +fake):\n%s", diff)
	}
}

func TestErrorShapes(t *testing.T) {
	s, tok, _ := soqlOrg(t)
	for _, tc := range []struct {
		name, fixture, path, token string
		status                     int
	}{
		{"invalid session", "rest/restforce_error_invalid_session_id.json", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account", "bogus", 401},
		{"no session", "rest/restforce_error_invalid_session_id.json", "/services/data/v62.0/sobjects/", "", 401},
		{"malformed", "rest/nsc_error_malformed_query_400.json", "/services/data/v62.0/query?q=SELECT+Id+FROM+Account+WHERE+invalid", tok, 400},
		{"invalid field", "rest/restforce_error_invalid_field.json", "/services/data/v62.0/query?q=SELECT+foo+FROM+Account", tok, 400},
		{"not found", "rest/restforce_error_not_found.json", "/services/data/v62.0/sobjects/Account/001000000000000AAA", tok, 404},
		{"unknown resource", "rest/restforce_error_not_found.json", "/services/data/v62.0/nope", tok, 404},
		{"unknown version", "rest/restforce_error_not_found.json", "/services/data/v99.0/sobjects/", tok, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, s, tc.token, tc.path)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json;charset=UTF-8" {
				t.Errorf("content type %q", ct)
			}
			if diff := cmp.Diff(shape(fixture(t, tc.fixture)), shape(r.json(t))); diff != "" {
				t.Errorf("shape (-fixture +fake):\n%s", diff)
			}
		})
	}
	r := get(t, s, "bogus", "/services/data/v62.0/query?q=x")
	if diff := cmp.Diff(fixture(t, "rest/restforce_error_invalid_session_id.json"), r.json(t)); diff != "" {
		t.Errorf("401 body (-fixture +fake):\n%s", diff)
	}
}

func TestSObjectRecord(t *testing.T) {
	s, tok, ids := soqlOrg(t)
	r := get(t, s, tok, "/services/data/v62.0/sobjects/Account/"+ids["acme"])
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var want []string
	for _, k := range keysInOrder(t, mustRead(t, fixtures+"rest/swiftly_account_record_with_address.json")) {
		if !strings.Contains(k, "__") && k != "RecordTypeId" {
			want = append(want, k)
		}
	}
	var got []string
	for _, k := range keysInOrder(t, r.body) {
		if !strings.Contains(k, "__") {
			got = append(got, k)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("standard Account fields (-fixture +fake):\n%s", diff)
	}
	m := r.json(t).(map[string]any)
	if m["Id"] != ids["acme"] || m["IsDeleted"] != false || m["Tier__c"] != "Gold" {
		t.Errorf("record %v", m)
	}
	r = get(t, s, tok, "/services/data/v62.0/sobjects/Account/"+ids["acme"]+"?fields=Name,Tier__c")
	if diff := cmp.Diff([]string{"attributes", "Name", "Tier__c"}, keysInOrder(t, r.body)); diff != "" {
		t.Error(diff)
	}
	if r := get(t, s, tok, "/services/data/v62.0/sobjects/Account/"+ids["gone"]); r.status != 404 {
		t.Errorf("deleted record: %d", r.status)
	}
	inv := get(t, s, tok, "/services/data/v62.0/sobjects/Invoice__c/"+ids["inv"]).json(t).(map[string]any)
	if inv["Tags__c"] != "Urgent;Export" || inv["Sent_At__c"] != "2025-12-31T23:00:00.000+0000" || inv["Paid__c"] != true {
		t.Errorf("invoice %v", inv)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDescribe(t *testing.T) {
	s, tok := testServer(t, Options{})
	r := get(t, s, tok, "/services/data/v62.0/sobjects/Account/describe/")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	fix := fixture(t, "describe/swiftly_account_describe_v53.json").(map[string]any)
	got := r.json(t).(map[string]any)
	if diff := cmp.Diff(sortedKeys(fix), sortedKeys(got)); diff != "" {
		t.Errorf("describe keys (-fixture +fake):\n%s", diff)
	}
	fixField := fix["fields"].([]any)[0].(map[string]any)
	fields := got["fields"].([]any)
	if diff := cmp.Diff(sortedKeys(fixField), sortedKeys(fields[0].(map[string]any))); diff != "" {
		t.Errorf("field keys (-fixture +fake):\n%s", diff)
	}
	byName := map[string]map[string]any{}
	for _, f := range fields {
		m := f.(map[string]any)
		byName[m["name"].(string)] = m
	}
	fixBy := map[string]map[string]any{}
	for _, f := range fix["fields"].([]any) {
		m := f.(map[string]any)
		fixBy[m["name"].(string)] = m
	}
	// Standard fields agree with the real describe on the properties a
	// sync tool reads.
	for _, name := range []string{"Id", "BillingCity", "BillingLatitude", "BillingAddress", "AnnualRevenue", "NumberOfEmployees", "OwnerId", "CreatedDate", "SystemModstamp", "IsDeleted", "Description", "Type"} {
		for _, p := range []string{"type", "soapType", "compoundFieldName", "referenceTo", "relationshipName", "filterable", "sortable", "precision", "scale", "calculated"} {
			if diff := cmp.Diff(fixBy[name][p], byName[name][p]); diff != "" {
				t.Errorf("%s.%s (-real +fake):\n%s", name, p, diff)
			}
		}
	}
	if byName["Account_Age_Days__c"]["calculated"] != true || byName["Tier__c"]["custom"] != true {
		t.Error("formula or custom flags")
	}
	if len(byName["Tier__c"]["picklistValues"].([]any)) != 4 {
		t.Error("Tier__c picklist")
	}
	last := r.header.Get("Last-Modified")
	if _, err := http.ParseTime(last); err != nil {
		t.Fatalf("Last-Modified %q: %v", last, err)
	}
	r304 := do(t, s, tok, "GET", "/services/data/v62.0/sobjects/Account/describe/", map[string]string{"If-Modified-Since": last}, nil)
	if r304.status != 304 || len(r304.body) != 0 {
		t.Errorf("If-Modified-Since: %d %q", r304.status, r304.body)
	}
	oneDigit := do(t, s, tok, "GET", "/services/data/v62.0/sobjects/Account/describe/", map[string]string{"If-Modified-Since": "Thu, 1 Jan 2026 00:00:00 GMT"}, nil)
	if oneDigit.status != 304 {
		t.Errorf("one-digit day If-Modified-Since: %d", oneDigit.status)
	}
	s.Org.Advance(time.Minute)
	if err := s.Org.AddField("Account", Field{Name: "Region__c", Type: "picklist", PicklistValues: []string{"EMEA", "AMER"}}); err != nil {
		t.Fatal(err)
	}
	tok, _ = s.NewSession()
	r2 := do(t, s, tok, "GET", "/services/data/v62.0/sobjects/Account/describe/", map[string]string{"If-Modified-Since": last}, nil)
	if r2.status != 200 || r2.header.Get("Last-Modified") == last || !bytes.Contains(r2.body, []byte(`"name":"Region__c"`)) {
		t.Errorf("after AddField: %d, Last-Modified %q", r2.status, r2.header.Get("Last-Modified"))
	}
	if r := query(t, s, tok, "SELECT Region__c FROM Account"); r.status != 200 {
		t.Errorf("query new field: %d %s", r.status, r.body)
	}

	g := get(t, s, tok, "/services/data/v62.0/sobjects/")
	gfix := fixture(t, "describe/restforce_describe_global.json").(map[string]any)
	gm := g.json(t).(map[string]any)
	if diff := cmp.Diff(sortedKeys(gfix), sortedKeys(gm)); diff != "" {
		t.Errorf("describeGlobal keys:\n%s", diff)
	}
	var objs []string
	for _, o := range gm["sobjects"].([]any) {
		om := o.(map[string]any)
		objs = append(objs, om["name"].(string))
		// The v23 fixture predates mruEnabled: every key it has must be here.
		for _, k := range sortedKeys(gfix["sobjects"].([]any)[0].(map[string]any)) {
			if _, ok := om[k]; !ok {
				t.Fatalf("sobject entry lacks %q", k)
			}
		}
	}
	for _, want := range []string{"Account", "Contact", "Opportunity", "Lead", "Case", "User", "Task", "Invoice__c", "acme__Shipment__c"} {
		if !slices.Contains(objs, want) {
			t.Errorf("describeGlobal lacks %s", want)
		}
	}
}

func TestInvoiceHasEveryFieldType(t *testing.T) {
	s, tok := testServer(t, Options{})
	d := get(t, s, tok, "/services/data/v62.0/sobjects/Invoice__c/describe").json(t).(map[string]any)
	types := map[string]bool{}
	for _, f := range d["fields"].([]any) {
		m := f.(map[string]any)
		types[m["type"].(string)] = true
		if m["name"] == "Account__c" && (m["relationshipName"] != "Account__r" || m["referenceTo"].([]any)[0] != "Account") {
			t.Errorf("Account__c %v", m)
		}
	}
	for _, want := range []string{"id", "string", "picklist", "multipicklist", "textarea", "boolean", "currency", "int", "double", "percent", "phone", "date", "datetime", "time", "url", "email", "encryptedstring", "reference", "base64", "location"} {
		if !types[want] {
			t.Errorf("Invoice__c has no %s field", want)
		}
	}
	sh := get(t, s, tok, "/services/data/v62.0/sobjects/acme__Shipment__c/describe").json(t).(map[string]any)
	if sh["keyPrefix"] != "a02" || sh["custom"] != true || !bytes.Contains(mustJSON(sh), []byte(`"acme__Location__Latitude__s"`)) {
		t.Errorf("acme__Shipment__c describe")
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestUpdatedDeleted(t *testing.T) {
	s, _ := testServer(t, Options{})
	o := s.Org
	o.SetNow(time.Date(2026, 3, 1, 10, 0, 30, 0, time.UTC))
	a, _ := o.Create("Account", map[string]any{"Name": "a"})
	o.Advance(time.Minute)
	b, _ := o.Create("Account", map[string]any{"Name": "b"})
	o.Advance(time.Minute)
	o.Delete("Account", a)
	o.Advance(5 * time.Minute)
	tok, _ := s.NewSession()
	q := "?start=" + url.QueryEscape("2026-03-01T10:00:00+00:00") + "&end=" + url.QueryEscape("2026-03-01T10:02:00+00:00")
	r := get(t, s, tok, "/services/data/v62.0/sobjects/Account/updated/"+q)
	if diff := cmp.Diff(shape(fixture(t, "rest/restforce_get_updated.json")), shape(r.json(t))); diff != "" {
		t.Errorf("updated shape:\n%s", diff)
	}
	want := map[string]any{"ids": []any{b}, "latestDateCovered": "2026-03-01T10:02:00.000+0000"}
	if diff := cmp.Diff(want, r.json(t)); diff != "" {
		t.Errorf("updated (-want +got):\n%s", diff)
	}
	r = get(t, s, tok, "/services/data/v62.0/sobjects/Account/deleted/?start=2026-03-01T10:00:00Z&end=2026-03-01T11:00:00Z")
	if diff := cmp.Diff(shape(fixture(t, "rest/restforce_get_deleted.json")), shape(r.json(t))); diff != "" {
		t.Errorf("deleted shape:\n%s", diff)
	}
	m := r.json(t).(map[string]any)
	dels := m["deletedRecords"].([]any)
	if len(dels) != 1 || dels[0].(map[string]any)["id"] != a || dels[0].(map[string]any)["deletedDate"] != "2026-03-01T10:02:30.000+0000" {
		t.Errorf("deleted %v", m)
	}
	if m["latestDateCovered"] != "2026-03-01T10:07:00.000+0000" {
		t.Errorf("latestDateCovered clamps to now: %v", m["latestDateCovered"])
	}
	for _, tc := range []struct{ path, code string }{
		{"/services/data/v62.0/sobjects/Account/updated/?start=2026-01-01T00:00:00Z&end=2026-03-01T00:00:00Z", "INVALID_REPLICATION_DATE"},
		{"/services/data/v62.0/sobjects/Account/deleted/?start=2026-02-01T00:00:00Z&end=2026-03-01T00:00:00Z", "INVALID_REPLICATION_DATE"},
		{"/services/data/v62.0/sobjects/Account/updated/?start=bad&end=2026-03-01T00:00:00Z", "MALFORMED_QUERY"},
	} {
		if r := get(t, s, tok, tc.path); r.status != 400 || !strings.Contains(string(r.body), tc.code) {
			t.Errorf("%s: %d %s", tc.path, r.status, r.body)
		}
	}
	o.PurgeRecycleBin()
	r = get(t, s, tok, "/services/data/v62.0/sobjects/Account/deleted/?start=2026-03-01T10:00:00Z&end=2026-03-01T11:00:00Z")
	if r.status != 400 {
		t.Errorf("after purge, start before earliestDateAvailable: %d %s", r.status, r.body)
	}
}
