package sftest

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// soqlOrg is a small hand-made org for the SOQL tables.
func soqlOrg(t testing.TB) (*Server, string, map[string]string) {
	t.Helper()
	s, tok := testServer(t, Options{})
	o := s.Org
	ids := map[string]string{}
	mk := func(key, object string, f map[string]any) {
		t.Helper()
		id, err := o.Create(object, f)
		if err != nil {
			t.Fatal(err)
		}
		ids[key] = id
	}
	mk("acme", "Account", map[string]any{"Name": "Acme", "Industry": "Banking", "AnnualRevenue": 100.0,
		"NumberOfEmployees": 10, "Tier__c": "Gold", "Customer_Since__c": "2020-01-15", "BillingCity": "Paris"})
	o.Advance(time.Hour)
	mk("oreilly", "Account", map[string]any{"Name": "O'Reilly & Sons", "AnnualRevenue": 50.5, "Tier__c": "Platinum",
		"Description": "multi\nline"})
	o.Advance(time.Hour)
	mk("zeta", "Account", map[string]any{"Name": `zeta\corp 100%`, "Industry": "Retail", "NumberOfEmployees": 3,
		"Tier__c": "Bronze", "ParentId": ids["acme"]})
	mk("gone", "Account", map[string]any{"Name": "Gone", "Tier__c": "Silver"})
	if err := o.Delete("Account", ids["gone"]); err != nil {
		t.Fatal(err)
	}
	mk("smith", "Contact", map[string]any{"LastName": "Smith", "FirstName": "Ann", "AccountId": ids["acme"], "Email": "a@x.com"})
	mk("muller", "Contact", map[string]any{"LastName": "Müller"})
	mk("inv", "Invoice__c", map[string]any{"Name": "INV-1", "Account__c": ids["zeta"], "Tags__c": "Urgent;Export",
		"Sent_At__c": time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC), "Paid__c": true})
	mk("inv2", "Invoice__c", map[string]any{"Name": "INV-2", "Tags__c": "Export"})
	tok, _ = s.NewSession() // the clock moved past the first session's timeout
	return s, tok, ids
}

func names(t testing.TB, r resp) []string {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var out []string
	for _, rec := range r.json(t).(map[string]any)["records"].([]any) {
		m := rec.(map[string]any)
		n, _ := m["Name"].(string)
		if n == "" {
			n, _ = m["LastName"].(string)
		}
		out = append(out, n)
	}
	return out
}

func TestSOQLEvaluation(t *testing.T) {
	s, tok, ids := soqlOrg(t)
	accounts := func(where string) string { return "SELECT Name FROM Account " + where }
	for _, tc := range []struct {
		name, q string
		all     bool
		want    []string
	}{
		{"all by id", accounts(""), false, []string{"Acme", "O'Reilly & Sons", `zeta\corp 100%`}},
		{"queryAll sees recycle bin", accounts(""), true, []string{"Acme", "O'Reilly & Sons", `zeta\corp 100%`, "Gone"}},
		{"isDeleted in queryAll", accounts("WHERE IsDeleted = true"), true, []string{"Gone"}},
		{"isDeleted in query", accounts("WHERE IsDeleted = true"), false, nil},
		{"case-insensitive =", accounts("WHERE Name = 'ACME'"), false, []string{"Acme"}},
		{"escaped quote", accounts(`WHERE Name = 'O\'Reilly & Sons'`), false, []string{"O'Reilly & Sons"}},
		{"escaped backslash", accounts(`WHERE Name = 'zeta\\corp 100%'`), false, []string{`zeta\corp 100%`}},
		{"like", accounts("WHERE Name LIKE 'o%'"), false, []string{"O'Reilly & Sons"}},
		{"like underscore", accounts("WHERE Name LIKE 'Ac_e'"), false, []string{"Acme"}},
		{"like escaped percent", accounts(`WHERE Name LIKE '%100\%'`), false, []string{`zeta\corp 100%`}},
		{"!= null", accounts("WHERE Industry != null"), false, []string{"Acme", `zeta\corp 100%`}},
		{"= null", accounts("WHERE Industry = null"), false, []string{"O'Reilly & Sons"}},
		{"number >", accounts("WHERE AnnualRevenue > 60"), false, []string{"Acme"}},
		{"number <= decimal", accounts("WHERE AnnualRevenue <= 50.5"), false, []string{"O'Reilly & Sons"}},
		{"null not < ", accounts("WHERE NumberOfEmployees < 100"), false, []string{"Acme", `zeta\corp 100%`}},
		{"in", accounts("WHERE Tier__c IN ('Gold', 'Bronze')"), false, []string{"Acme", `zeta\corp 100%`}},
		{"not in", accounts("WHERE Tier__c NOT IN ('Gold')"), false, []string{"O'Reilly & Sons", `zeta\corp 100%`}},
		{"and", accounts("WHERE Tier__c != 'Gold' AND NumberOfEmployees = 3"), false, []string{`zeta\corp 100%`}},
		{"or", accounts("WHERE Tier__c = 'Gold' OR Tier__c = 'Platinum'"), false, []string{"Acme", "O'Reilly & Sons"}},
		{"nested", accounts("WHERE Industry != null AND (Tier__c = 'Gold' OR (NumberOfEmployees > 1 AND NumberOfEmployees < 5))"), false, []string{"Acme", `zeta\corp 100%`}},
		{"not first", accounts("WHERE NOT Tier__c = 'Gold'"), false, []string{"O'Reilly & Sons", `zeta\corp 100%`}},
		{"not in parens", accounts("WHERE Industry != null AND (NOT Tier__c = 'Gold')"), false, []string{`zeta\corp 100%`}},
		{"date", accounts("WHERE Customer_Since__c >= 2020-01-15"), false, []string{"Acme"}},
		{"datetime", accounts("WHERE CreatedDate > 2026-01-01T00:30:00Z"), false, []string{"O'Reilly & Sons", `zeta\corp 100%`}},
		{"datetime offset", accounts("WHERE CreatedDate = 2026-01-01T02:00:00.000+01:00"), false, []string{"O'Reilly & Sons"}},
		{"date literal", accounts("WHERE CreatedDate = TODAY"), false, []string{"Acme", "O'Reilly & Sons", `zeta\corp 100%`}},
		{"date literal n", accounts("WHERE CreatedDate < LAST_N_DAYS:3"), false, nil},
		{"id equals 15", accounts("WHERE Id = '" + ids["acme"][:15] + "'"), false, []string{"Acme"}},
		{"id greater", accounts("WHERE Id > '" + ids["acme"] + "'"), false, []string{"O'Reilly & Sons", `zeta\corp 100%`}},
		{"parent field", accounts("WHERE Parent.Name = 'Acme'"), false, []string{`zeta\corp 100%`}},
		{"parent null", accounts("WHERE Parent.Name = null"), false, []string{"Acme", "O'Reilly & Sons"}},
		{"order desc", accounts("ORDER BY Name DESC"), false, []string{`zeta\corp 100%`, "O'Reilly & Sons", "Acme"}},
		{"order nulls first default", accounts("ORDER BY Industry"), false, []string{"O'Reilly & Sons", "Acme", `zeta\corp 100%`}},
		{"order desc nulls last default", accounts("ORDER BY Industry DESC"), false, []string{`zeta\corp 100%`, "Acme", "O'Reilly & Sons"}},
		{"order nulls last", accounts("ORDER BY Industry ASC NULLS LAST"), false, []string{"Acme", `zeta\corp 100%`, "O'Reilly & Sons"}},
		{"order picklist by definition", accounts("ORDER BY Tier__c"), false, []string{"O'Reilly & Sons", "Acme", `zeta\corp 100%`}},
		{"order multi", accounts("ORDER BY Industry DESC NULLS FIRST, Name DESC"), false, []string{"O'Reilly & Sons", `zeta\corp 100%`, "Acme"}},
		{"limit", accounts("ORDER BY Name LIMIT 2"), false, []string{"Acme", "O'Reilly & Sons"}},
		{"offset", accounts("ORDER BY Name LIMIT 2 OFFSET 1"), false, []string{"O'Reilly & Sons", `zeta\corp 100%`}},
		{"object prefix", "SELECT Account.Name FROM Account WHERE Account.Name = 'Acme'", false, []string{"Acme"}},
		{"object alias", "SELECT a.Name FROM Account a WHERE a.Tier__c = 'Gold'", false, []string{"Acme"}},
		{"keywords any case", "select name from account where name = 'acme' order by name asc nulls first limit 1", false, []string{"Acme"}},
		{"multipicklist includes", "SELECT Name FROM Invoice__c WHERE Tags__c INCLUDES ('Urgent;Export')", false, []string{"INV-1"}},
		{"multipicklist includes or", "SELECT Name FROM Invoice__c WHERE Tags__c INCLUDES ('Urgent', 'Export')", false, []string{"INV-1", "INV-2"}},
		{"multipicklist excludes", "SELECT Name FROM Invoice__c WHERE Tags__c EXCLUDES ('Urgent')", false, []string{"INV-2"}},
		{"multipicklist = set", "SELECT Name FROM Invoice__c WHERE Tags__c = 'Export;Urgent'", false, []string{"INV-1"}},
		{"custom relationship", "SELECT Name FROM Invoice__c WHERE Account__r.Tier__c = 'Bronze'", false, []string{"INV-1"}},
		{"boolean", "SELECT Name FROM Invoice__c WHERE Paid__c = false", false, []string{"INV-2"}},
		{"boolean null is false", "SELECT Name FROM Invoice__c WHERE Paid__c = null", false, []string{"INV-2"}},
		{"contact person name", "SELECT Name FROM Contact WHERE Name = 'Ann Smith'", false, []string{"Ann Smith"}},
		{"unicode like", "SELECT LastName FROM Contact WHERE LastName LIKE 'mü%'", false, []string{"Müller"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/services/data/v62.0/query?q="
			if tc.all {
				path = "/services/data/v62.0/queryAll?q="
			}
			got := names(t, get(t, s, tok, path+url.QueryEscape(tc.q)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: (-want +got)\n%s", tc.q, diff)
			}
		})
	}
}

func TestSOQLRejects(t *testing.T) {
	s, tok, _ := soqlOrg(t)
	for _, tc := range []struct{ q, code, detail string }{
		{"SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'", "MALFORMED_QUERY", "unexpected token: 'OR'"},
		{"SELECT Id FROM Account WHERE Name = 'a' OR Name = 'b' AND Name = 'c'", "MALFORMED_QUERY", "unexpected token: 'AND'"},
		{"SELECT Id FROM Account WHERE Name = 'a' AND NOT Name = 'b'", "MALFORMED_QUERY", "unexpected token: 'NOT'"},
		{"SELECT Id FROM Account WHERE NOT NOT Name = 'b'", "MALFORMED_QUERY", "unexpected token: 'NOT'"},
		{"SELECT Id FROM Account WHERE Name NOT LIKE 'b'", "MALFORMED_QUERY", "unexpected token: 'LIKE'"},
		{`SELECT Id FROM Account WHERE Name = "x"`, "MALFORMED_QUERY", `no viable alternative at character '"'`},
		{`SELECT Id FROM Account WHERE Name = 'Anne\-Marie'`, "MALFORMED_QUERY", `Invalid string literal 'Anne\-Marie'. Illegal character sequence '\-' in string literal.`},
		{`SELECT Id FROM Account WHERE Name = 'a\%'`, "MALFORMED_QUERY", `Illegal character sequence '\%'`},
		{`SELECT Id FROM Account WHERE Name = '\u00g9'`, "MALFORMED_QUERY", "Illegal unicode sequence"},
		{`SELECT Id FROM Account WHERE Name = 'abc\'`, "MALFORMED_QUERY", "mismatched character '<EOF>'"},
		{"SELECT Id FROM Account WHERE Name = 'O''Brien'", "MALFORMED_QUERY", "unexpected token: ''Brien''"},
		{"SELECT Id FROM Account -- comment", "MALFORMED_QUERY", "no viable alternative at character '-'"},
		{"SELECT Id FROM Account;", "MALFORMED_QUERY", "no viable alternative at character ';'"},
		{"SELECT Id FROM Account WHERE Name = $x", "MALFORMED_QUERY", "no viable alternative at character '$'"},
		{"SELECT Id FROM Account WHERE AnnualRevenue > 1e5", "MALFORMED_QUERY", "unexpected token: 'e5'"},
		{"SELECT Id FROM Account WHERE AnnualRevenue > 5.", "MALFORMED_QUERY", "unexpected token: '.'"},
		{"SELECT Id FROM Account LIMIT -1", "MALFORMED_QUERY", "unexpected token: '-1'"},
		{"SELECT Id FROM Account LIMIT 1.5", "MALFORMED_QUERY", "unexpected token: '1.5'"},
		{"SELECT Id FROM Account OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000"},
		{"SELECT Id FROM Account OFFSET 1 LIMIT 2", "MALFORMED_QUERY", "unexpected token: 'LIMIT'"},
		{"SELECT Id FROM Account LIMIT 1 LIMIT 2", "MALFORMED_QUERY", "unexpected token: 'LIMIT'"},
		{"SELECT Id FROM Account WHERE CreatedDate > 2020-01-01T10:00:00", "MALFORMED_QUERY", "Invalid datetime: 2020-01-01T10:00:00"},
		{"SELECT Id FROM Account WHERE CreatedDate > 2020-52-12T12:12:00-05:00", "MALFORMED_QUERY", "Invalid datetime: 2020-52-12T12:12:00-05:00"},
		{"SELECT Id FROM Account WHERE Customer_Since__c = '2020-01-01'", "INVALID_QUERY_FILTER_OPERATOR", "value of filter criterion for field 'Customer_Since__c' must be of type date and should not be enclosed in quotes"},
		{"SELECT Id FROM Account WHERE Customer_Since__c = 2020-01-01T00:00:00Z", "INVALID_QUERY_FILTER_OPERATOR", "must be of type date"},
		{"SELECT Id FROM Account WHERE CreatedDate = 2020-01-01", "INVALID_QUERY_FILTER_OPERATOR", "must be of type dateTime"},
		{"SELECT Id FROM Account WHERE CreatedDate = NEXT_DECADE", "MALFORMED_QUERY", "unexpected token: 'NEXT_DECADE'"},
		{"SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS", "MALFORMED_QUERY", "unexpected token: '<EOF>'"},
		{"SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:-1", "MALFORMED_QUERY", "unexpected token: '-1'"},
		{"SELECT Id FROM Account WHERE Name = Industry", "MALFORMED_QUERY", "unexpected token: 'Industry'"},
		{"SELECT Id FROM Account WHERE 'x' = Name", "MALFORMED_QUERY", "unexpected token: ''x''"},
		{"SELECT Id FROM Account WHERE Name IN ()", "MALFORMED_QUERY", "unexpected token: ')'"},
		{"SELECT Id FROM Account WHERE Name IN ('a',)", "MALFORMED_QUERY", "unexpected token: ')'"},
		{"SELECT Id FROM Account WHERE Name IN 'a'", "MALFORMED_QUERY", "unexpected token: ''a''"},
		{"SELECT Id, FROM Account", "MALFORMED_QUERY", "unexpected token: 'FROM'"},
		{"SELECT FROM Account", "MALFORMED_QUERY", "unexpected token: 'FROM'"},
		{"SELECT * FROM Account", "MALFORMED_QUERY", "no viable alternative at character '*'"},
		{"SELECT Id FROM Acount", "INVALID_TYPE", "sObject type 'Acount' is not supported."},
		{"SELECT Id, Foo FROM Account", "INVALID_FIELD", "No such column 'Foo' on entity 'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name."},
		{"SELECT Id, Tier FROM Account", "INVALID_FIELD", "No such column 'Tier' on entity 'Account'"},
		{"SELECT Id, Foo.Name FROM Account", "INVALID_FIELD", "Didn't understand relationship 'Foo' in field path."},
		{"SELECT Account__c.Name FROM Invoice__c", "INVALID_FIELD", "Didn't understand relationship 'Account__c' in field path."},
		{"SELECT Account__r.Nope__c FROM Invoice__c", "INVALID_FIELD", "No such column 'Nope__c' on entity 'Account'"},
		{"SELECT Id, Name, id FROM Account", "INVALID_FIELD", "duplicate field selected: Id"},
		{"SELECT Id FROM Account WHERE Description = 'x'", "INVALID_FIELD", "field 'Description' can not be filtered in a query call"},
		{"SELECT Id FROM Invoice__c WHERE Tax_ID__c = 'x'", "INVALID_FIELD", "field 'Tax_ID__c' can not be filtered in a query call"},
		{"SELECT Id FROM Account ORDER BY BillingAddress", "INVALID_FIELD", "field 'BillingAddress' can not be sorted in a query call"},
		{"SELECT Id FROM Invoice__c ORDER BY Tags__c", "INVALID_FIELD", "field 'Tags__c' can not be sorted in a query call"},
		{"SELECT Id FROM Account WHERE AnnualRevenue LIKE '1%'", "INVALID_FIELD", "LIKE works on string fields only"},
		{"SELECT Id FROM Account WHERE Name INCLUDES ('a')", "INVALID_FIELD", "INCLUDES and EXCLUDES work on multi-select picklists only"},
		{"SELECT Id FROM Account WHERE Name LIKE null", "MALFORMED_QUERY", "unexpected token: 'null'"},
		{"SELECT Id FROM Account WHERE AnnualRevenue > null", "MALFORMED_QUERY", "unexpected token: 'null'"},
		{"SELECT Id FROM Account WHERE AnnualRevenue > '5'", "INVALID_QUERY_FILTER_OPERATOR", "must be of type double"},
		{"SELECT Id FROM Account WHERE Id = 'ZZZ'", "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: ZZZ"},
		{"SELECT Id FROM Invoice__c WHERE Paid__c = 'true'", "INVALID_QUERY_FILTER_OPERATOR", "must be of type boolean"},
		{"SELECT Id FROM Account WHERE Name = :name", "MALFORMED_QUERY", "unexpected token: ':'"},
		{"SELECT Id FROM Account ALL ROWS", "MALFORMED_QUERY", "ALL ROWS not allowed in this context"},
		{"SELECT Id FROM Account WITH SECURITY_ENFORCED", "MALFORMED_QUERY", "SECURITY_ENFORCED not allowed in this context"},
		{"SELECT Id FROM Account FOR UPDATE", "MALFORMED_QUERY", "FOR UPDATE not allowed in this context"},
		{"SELECT Industry, COUNT(Id) FROM Account", "MALFORMED_QUERY", "Field must be grouped or aggregated: Industry"},
		{"SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry HAVING COUNT(Id) > 1", "MALFORMED_QUERY", "unexpected token: 'HAVING'"},
		{"SELECT Name, COUNT(Id) FROM Account GROUP BY Industry", "MALFORMED_QUERY", "Field must be grouped or aggregated: Name"},
		{"SELECT Industry FROM Account GROUP BY Description", "INVALID_FIELD", "field 'Description' can not be grouped in a query call"},
		{"SELECT Industry FROM Account GROUP BY ROLLUP(Industry)", "MALFORMED_QUERY", "ROLLUP and CUBE are not supported"},
		{"SELECT Name n FROM Account", "MALFORMED_QUERY", "unexpected token: 'n'"},
		{"SELECT Industry, COUNT(Id) FROM Account GROUP BY Industry ORDER BY Name", "MALFORMED_QUERY", "Ordered field must be grouped or aggregated: Name"},
		{"SELECT Id, (SELECT Id FROM Contacts) FROM Account", "MALFORMED_QUERY", "subqueries are not supported"},
		{"SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact)", "MALFORMED_QUERY", "semi-joins are not supported"},
		{"SELECT FIELDS(ALL) FROM Account LIMIT 200", "MALFORMED_QUERY", "unexpected token: 'FIELDS'"},
		{"SELECT TYPEOF What WHEN Account THEN Name END FROM Task", "MALFORMED_QUERY", "unexpected token: 'TYPEOF'"},
		{"SELECT COUNT(), Id FROM Account", "MALFORMED_QUERY", "COUNT() must be the only element"},
		{"SELECT MAX(CreatedDate) FROM Account LIMIT 1", "MALFORMED_QUERY", "Aggregate query does not support"},
		{"SELECT SUM(Name) FROM Account", "MALFORMED_QUERY", "does not support aggregate operator SUM"},
		{"SELECT Id FROM Account WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"},
		{"SELECT Id FROM Account WHERE Name = '" + strings.Repeat("x", 4001) + "'", "MALFORMED_QUERY", "longer than 4000 characters"},
		{"SELECT Id FROM Account WHERE Name = 'a' " + strings.Repeat("OR Name = 'a' ", 8000), "MALFORMED_QUERY", "SOQL statements can not be longer than 100000 characters"},
		{"SELECT Id FROM Group", "INVALID_TYPE", "sObject type 'Group' is not supported"},
	} {
		t.Run(tc.q[:min(len(tc.q), 70)], func(t *testing.T) {
			var r resp
			if len(tc.q) > 8000 { // beyond the URI limit: ask the compiler directly
				s.Org.mu.RLock()
				_, qerr := s.Org.compile(tc.q)
				s.Org.mu.RUnlock()
				if qerr == nil || qerr.code != tc.code || !strings.Contains(qerr.msg, tc.detail) {
					t.Fatalf("got %v, want %s %q", qerr, tc.code, tc.detail)
				}
				return
			}
			r = query(t, s, tok, tc.q)
			if r.status != 400 {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			errs := r.json(t).([]any)
			e := errs[0].(map[string]any)
			if e["errorCode"] != tc.code || !strings.Contains(e["message"].(string), tc.detail) {
				t.Errorf("got %s %q\nwant %s containing %q", e["errorCode"], e["message"], tc.code, tc.detail)
			}
		})
	}
}

func TestSOQLErrorPosition(t *testing.T) {
	q := "SELECT Id\nFROM Maycur_Form__c"
	_, err := parseAndCompile(t, q)
	want := "\nFROM Maycur_Form__c\n     ^\nERROR at Row:2:Column:6\nsObject type 'Maycur_Form__c' is not supported."
	if err == nil || !strings.HasPrefix(err.msg, want) {
		t.Fatalf("got %q\nwant prefix %q", err, want)
	}
}

func parseAndCompile(t testing.TB, q string) (*compiledQuery, *queryError) {
	t.Helper()
	o := newOrg(1, DefaultStart)
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.compile(q)
}

// escapeSOQL is the builder's escaping of SOQL.md 2.4, for the round trip.
func escapeSOQL(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "\b", `\b`, "\f", `\f`, `"`, `\"`)
	return r.Replace(s)
}

func FuzzParseSOQL(f *testing.F) {
	for _, seed := range []string{
		"SELECT Id FROM Account",
		"SELECT Id, Name, Owner.Name FROM Account WHERE Name = 'O\\'Brien' AND (AnnualRevenue > 1.5 OR Industry IN ('a','b')) ORDER BY Name DESC NULLS LAST LIMIT 10 OFFSET 5",
		"SELECT COUNT() FROM Contact WHERE CreatedDate > 2020-01-01T00:00:00Z",
		"SELECT Id FROM Account WHERE NOT Name LIKE '%\\_x'",
		"SELECT Id FROM Invoice__c WHERE Tags__c INCLUDES ('a;b') AND Due_Date__c = LAST_N_DAYS:5",
		"select max(CreatedDate) m from account",
		"SELECT Industry i, COUNT(Id) FROM Account GROUP BY Industry ORDER BY Industry LIMIT 3",
		"SELECT Id FROM Account WHERE Name = '\\u00e9'",
	} {
		f.Add(seed)
	}
	o := newOrg(1, DefaultStart)
	f.Fuzz(func(t *testing.T, q string) {
		o.mu.RLock()
		cq, err := o.compile(q)
		if err == nil {
			o.execute(cq, true)
		}
		o.mu.RUnlock()
		if err != nil && (err.code == "" || err.msg == "") {
			t.Fatalf("empty error for %q", q)
		}
	})
}

// FuzzLiteralRoundTrip checks SOQL.md "What a builder must guarantee" 13:
// any string, escaped as a builder must, decodes back to itself and adds
// no token.
func FuzzLiteralRoundTrip(f *testing.F) {
	for _, s := range []string{"", "O'Brien", `back\`, "' OR Name != '", "a%b_c", "line\nbreak\r\t", "ü中🚀", `\'`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utfOK(s) {
			t.Skip()
		}
		toks, err := lex("SELECT Id FROM Account WHERE Name = '" + escapeSOQL(s) + "'")
		if err != nil {
			t.Fatalf("lex %q: %v", s, err)
		}
		if len(toks) != 9 || toks[7].kind != tString || toks[7].str != s {
			t.Fatalf("round trip of %q: %d tokens, got %q", s, len(toks), toks[7].str)
		}
	})
}

// utfOK excludes what a builder must refuse: invalid UTF-8, other C0
// controls and U+FFFF.
func utfOK(s string) bool {
	if s != strings.ToValidUTF8(s, "") {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' && r != '\b' && r != '\f' || r == 0xFFFF || r == 0xFFFD {
			return false
		}
	}
	return true
}

func TestPolymorphicRelationships(t *testing.T) {
	s, tok, ids := soqlOrg(t)
	cs, err := s.Org.Create("Case", map[string]any{"Subject": "Broken", "Type": "Electrical"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []map[string]any{
		{"Subject": "Call", "Status": "Not Started", "Priority": "High", "WhoId": ids["smith"], "WhatId": cs},
		{"Subject": "Send Quote", "Status": "Completed", "Priority": "Low", "WhatId": ids["acme"]},
	} {
		if _, err := s.Org.Create("Task", f); err != nil {
			t.Fatal(err)
		}
	}
	r := query(t, s, tok, "SELECT Subject, Who.Name, What.Name, What.Type FROM Task WHERE What.Type IN ('Case', 'Account') ORDER BY Subject")
	var got []string
	for _, rec := range r.json(t).(map[string]any)["records"].([]any) {
		m := rec.(map[string]any)
		who := "null"
		if w, ok := m["Who"].(map[string]any); ok {
			who = w["attributes"].(map[string]any)["type"].(string) + ":" + w["Name"].(string)
		}
		what := m["What"].(map[string]any)
		got = append(got, m["Subject"].(string)+"|"+who+"|"+what["Type"].(string)+":"+what["Name"].(string))
	}
	caseNumber, _ := s.Org.Get("Case", cs)
	want := []string{"Call|Contact:Ann Smith|Case:" + caseNumber["CaseNumber"].(string), "Send Quote|null|Account:Acme"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if r := query(t, s, tok, "SELECT What.Owner.Name FROM Task"); r.status != 400 {
		t.Errorf("path through a polymorphic relationship: %d", r.status)
	}
}

func TestWideObject(t *testing.T) {
	s, tok := testServer(t, Options{})
	var names []string
	for i := range 300 {
		name := fmt.Sprintf("Extra_%03d__c", i)
		if err := s.Org.AddField("Invoice__c", Field{Name: name, Type: "string", Length: 40, Nillable: true}); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if _, err := s.Org.Generate("Invoice__c", 5); err != nil {
		t.Fatal(err)
	}
	r := query(t, s, tok, "SELECT Id, "+strings.Join(names, ", ")+" FROM Invoice__c")
	if r.status != 200 || len(r.json(t).(map[string]any)["records"].([]any)) != 5 {
		t.Fatalf("%d %.300s", r.status, r.body)
	}
}

func TestGroupBy(t *testing.T) {
	s, tok, _ := soqlOrg(t)
	r := query(t, s, tok, "SELECT Industry ind, COUNT(Id), MAX(AnnualRevenue) FROM Account GROUP BY Industry ORDER BY Industry NULLS LAST")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	want := `{"totalSize":3,"done":true,"records":[` +
		`{"attributes":{"type":"AggregateResult"},"ind":"Banking","expr0":1,"expr1":100.0},` +
		`{"attributes":{"type":"AggregateResult"},"ind":"Retail","expr0":1,"expr1":null},` +
		`{"attributes":{"type":"AggregateResult"},"ind":null,"expr0":1,"expr1":50.5}]}`
	if diff := cmp.Diff(want, string(r.body)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	fix := fixture(t, "rest/swiftly_query_aggregate_groupby.json").(map[string]any)
	got := r.json(t).(map[string]any)
	if diff := cmp.Diff(sortedKeys(fix), sortedKeys(got)); diff != "" {
		t.Errorf("envelope keys (-fixture +fake):\n%s", diff)
	}
	r = query(t, s, tok, "SELECT Tier__c, COUNT(Id) c FROM Account GROUP BY Tier__c LIMIT 2")
	if n := len(r.json(t).(map[string]any)["records"].([]any)); n != 2 {
		t.Errorf("LIMIT on groups: %d", n)
	}
}
