package sftest

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestScanShortcuts checks that the Id range and ORDER BY Id shortcuts of
// execute (binary search, no sort, early stop at LIMIT) return exactly
// the rows of a full scan, filter and sort.
func TestScanShortcuts(t *testing.T) {
	s, _ := testServer(t, Options{RecordsPer: map[string]int{"User": 3, "Account": 300}})
	o := s.Org
	recs := o.Records("Account", true)
	for _, i := range []int{3, 50, 77} {
		if err := o.Delete("Account", recs[i]["Id"].(string)); err != nil {
			t.Fatal(err)
		}
	}
	id := func(i int) string { return recs[i]["Id"].(string) }
	queries := []string{
		"SELECT Id FROM Account ORDER BY Id",
		"SELECT Id FROM Account ORDER BY Id ASC NULLS LAST LIMIT 7",
		"SELECT Id FROM Account ORDER BY Id DESC LIMIT 9",
		"SELECT Id FROM Account WHERE Id > '" + id(100) + "' ORDER BY Id LIMIT 20",
		"SELECT Id FROM Account WHERE Id >= '" + id(100)[:15] + "' ORDER BY Id LIMIT 20 OFFSET 5",
		"SELECT Id FROM Account WHERE Id > '" + id(2) + "' AND Id <= '" + id(60) + "' ORDER BY Id",
		"SELECT Id FROM Account WHERE Id < '" + id(60) + "' AND (Name != null AND Id > '" + id(10) + "') ORDER BY Id DESC",
		"SELECT Id FROM Account WHERE Id = '" + id(42) + "'",
		"SELECT Id FROM Account WHERE Id > '" + id(42) + "' AND Id < '" + id(42) + "'",
		"SELECT Id FROM Account WHERE Id > '" + id(20) + "' OR Id < '" + id(5) + "' ORDER BY Id LIMIT 30",
		"SELECT Id FROM Account WHERE NOT Id > '" + id(20) + "' ORDER BY Id",
		"SELECT Id FROM Account WHERE Id > '" + id(290) + "' LIMIT 50",
		"SELECT Id FROM Account WHERE Industry = 'Energy' AND Id > '" + id(30) + "' ORDER BY Id LIMIT 3",
		"SELECT Id FROM Account ORDER BY Name, Id LIMIT 10",
		"SELECT Id FROM Account WHERE Id > '" + id(299) + "' ORDER BY Id",
		"SELECT COUNT() FROM Account WHERE Id > '" + id(150) + "'",
		"SELECT Id FROM Account WHERE Id > '001000000000000' ORDER BY Id OFFSET 290",
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, q := range queries {
		for _, all := range []bool{false, true} {
			cq, err := o.compile(q)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			got := o.execute(cq, all)
			slow := *cq
			slow.idLo, slow.idHi, slow.orderByID = "", "", 0
			if len(slow.order) == 0 && cq.orderByID != 0 {
				t.Fatal("orderByID without ORDER BY")
			}
			want := o.execute(&slow, all)
			ids := func(rs []*record) []string {
				var out []string
				for _, r := range rs {
					out = append(out, r.id)
				}
				return out
			}
			if !slices.Equal(ids(got), ids(want)) {
				t.Errorf("%s (all=%v):\n got %v\nwant %v", q, all, ids(got), ids(want))
			}
		}
	}
	// The shortcuts are taken where they apply.
	cq, _ := o.compile("SELECT Id FROM Account WHERE Name != null AND Id > '" + id(10) + "' ORDER BY Id")
	if cq.idLo != id(10)[:15] || cq.idLoIncl || cq.orderByID != 1 {
		t.Errorf("shortcut not taken: %+v", cq)
	}
}

// TestBatchSize checks Sforce-Query-Options: batchSize is clamped to
// 200..2,000 (default 2,000), and two long text fields cap a page at 200
// (SALESFORCE.md 2.1).
func TestBatchSize(t *testing.T) {
	s, tok := testServer(t, Options{RecordsPer: map[string]int{"User": 3, "Account": 2100, "Invoice__c": 250}})
	for _, tc := range []struct {
		header, soql string
		want         int
	}{
		{"", "SELECT Id FROM Account", 2000},
		{"batchSize=100", "SELECT Id FROM Account", 200},
		{"batchSize=250", "SELECT Id FROM Account", 250},
		{" batchsize = 5000 ", "SELECT Id FROM Account", 2000},
		{"batchSize=x", "SELECT Id FROM Account", 2000},
		{"", "SELECT Id, Notes__c, Rich_Notes__c FROM Invoice__c", 200},
		{"", "SELECT Id, Notes__c FROM Invoice__c", 250},
	} {
		hdr := map[string]string{}
		if tc.header != "" {
			hdr["Sforce-Query-Options"] = tc.header
		}
		r := do(t, s, tok, "GET", "/services/data/v62.0/query?q="+url.QueryEscape(tc.soql), hdr, nil)
		m := r.json(t).(map[string]any)
		if n := len(m["records"].([]any)); n != tc.want {
			t.Errorf("%q %s: page of %d, want %d", tc.header, tc.soql, n, tc.want)
		}
	}
}

// TestCanonicalKeys checks that JSON keys and attributes use the API
// names' canonical case whatever case the query was written in
// (SALESFORCE.md 2.2).
func TestCanonicalKeys(t *testing.T) {
	s, tok := testServer(t, Options{RecordsPer: map[string]int{"User": 2, "Account": 2, "Invoice__c": 2}})
	acct, err := s.Org.Create("Account", map[string]any{"Name": "A", "Tier__c": "Gold"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := s.Org.Create("Invoice__c", map[string]any{"Name": "I", "Account__c": acct})
	if err != nil {
		t.Fatal(err)
	}
	r := query(t, s, tok, "select id, NAME, owner.NAME, account__R.tier__C from invoice__C where ID = '"+inv+"'")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	body := string(r.body)
	for _, want := range []string{`{"attributes":{"type":"Invoice__c","url":"/services/data/v62.0/sobjects/Invoice__c/`,
		`,"Id":"`, `,"Name":"`, `,"Owner":{"attributes":{"type":"User","url":"/services/data/v62.0/sobjects/User/`,
		`,"Account__r":{"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/` + acct + `"},"Tier__c":"Gold"}}`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s:\n%s", want, body)
		}
	}
}
