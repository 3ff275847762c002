package sftest

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func bulkCreate(t *testing.T, s *Server, tok, body string) resp {
	t.Helper()
	return do(t, s, tok, http.MethodPost, "/services/data/v62.0/jobs/query", map[string]string{"Content-Type": "application/json"}, strings.NewReader(body))
}

func TestBulkLifecycle(t *testing.T) {
	s, tok, ids := soqlOrg(t)
	r := bulkCreate(t, s, tok, `{"operation":"queryAll","query":"SELECT Id, Name, Parent.Name, AnnualRevenue, CreatedDate, IsDeleted, Description FROM Account ORDER BY Name"}`)
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	wantKeys := []string{"id", "operation", "object", "createdById", "createdDate", "systemModstamp", "state", "concurrencyMode", "contentType", "apiVersion", "lineEnding", "columnDelimiter"}
	if diff := cmp.Diff(wantKeys, keysInOrder(t, r.body)); diff != "" {
		t.Errorf("create keys:\n%s", diff)
	}
	if !strings.Contains(string(r.body), `"apiVersion":62.0`) {
		t.Errorf("apiVersion must be a number: %s", r.body)
	}
	var job struct{ ID, State, Object string }
	json.Unmarshal(r.body, &job)
	if job.State != "UploadComplete" || job.Object != "Account" || !strings.HasPrefix(job.ID, "750") {
		t.Fatalf("job %+v", job)
	}
	base := "/services/data/v62.0/jobs/query/" + job.ID
	if r := get(t, s, tok, base+"/results"); r.status != http.StatusPreconditionFailed {
		t.Errorf("results before completion: %d %s", r.status, r.body)
	}
	var states []string
	for range 3 {
		var info map[string]any
		r := get(t, s, tok, base)
		json.Unmarshal(r.body, &info)
		states = append(states, info["state"].(string))
		if info["jobType"] != "V2Query" {
			t.Errorf("jobType %v", info["jobType"])
		}
		if info["state"] == "JobComplete" && info["numberRecordsProcessed"] != 4.0 {
			t.Errorf("numberRecordsProcessed %v", info["numberRecordsProcessed"])
		}
	}
	if diff := cmp.Diff([]string{"InProgress", "JobComplete", "JobComplete"}, states); diff != "" {
		t.Errorf("states:\n%s", diff)
	}
	if r := get(t, s, tok, "/services/data/v61.0/jobs/query/"+job.ID+"/results"); r.status != http.StatusConflict {
		t.Errorf("other version: %d", r.status)
	}
	var all [][]string
	loc := ""
	for n := 0; ; n++ {
		path := base + "/results?maxRecords=3"
		if loc != "" {
			path += "&locator=" + loc
		}
		r := do(t, s, tok, "GET", path, map[string]string{"Accept": "text/csv"}, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "text/csv" {
			t.Fatalf("results: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
		if err != nil {
			t.Fatalf("csv: %v\n%s", err, r.body)
		}
		if got := r.header.Get("Sforce-NumberOfRecords"); got != map[int]string{0: "3", 1: "1"}[n] {
			t.Errorf("set %d: Sforce-NumberOfRecords %q", n, got)
		}
		if n == 0 && !strings.HasPrefix(string(r.body), `"Id","Name","Parent.Name","AnnualRevenue","CreatedDate","IsDeleted","Description"`+"\n") {
			t.Errorf("header row: %q", r.body[:80])
		}
		all = append(all, rows[1:]...)
		loc = r.header.Get("Sforce-Locator")
		if loc == "null" {
			break
		}
		if loc == "" || n > 3 {
			t.Fatalf("locator %q", loc)
		}
	}
	want := [][]string{
		{ids["acme"], "Acme", "", "100.0", "2026-01-01T00:00:00.000Z", "false", ""},
		{ids["gone"], "Gone", "", "", "2026-01-01T02:00:00.000Z", "true", ""},
		{ids["oreilly"], "O'Reilly & Sons", "", "50.5", "2026-01-01T01:00:00.000Z", "false", "multi\nline"},
		{ids["zeta"], `zeta\corp 100%`, "Acme", "", "2026-01-01T02:00:00.000Z", "false", ""},
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if r := do(t, s, tok, http.MethodPatch, base, nil, strings.NewReader(`{"state":"Aborted"}`)); r.status != 400 {
		t.Errorf("abort a completed job: %d", r.status)
	}
	if r := do(t, s, tok, http.MethodDelete, base, nil, nil); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := get(t, s, tok, base); r.status != 404 {
		t.Errorf("after delete: %d", r.status)
	}
	calls := s.Calls()
	for _, k := range []string{"bulk.create", "bulk.status", "bulk.results", "bulk.abort", "bulk.delete"} {
		if calls[k] == 0 {
			t.Errorf("no %s calls counted: %v", k, calls)
		}
	}
}

func TestBulkAbortAndOptions(t *testing.T) {
	s, tok, _ := soqlOrg(t)
	r := bulkCreate(t, s, tok, `{"operation":"query","query":"SELECT Id, Name FROM Account","columnDelimiter":"PIPE","lineEnding":"CRLF"}`)
	var job struct{ ID string }
	json.Unmarshal(r.body, &job)
	base := "/services/data/v62.0/jobs/query/" + job.ID
	r = do(t, s, tok, http.MethodPatch, base, nil, strings.NewReader(`{"state":"Aborted"}`))
	if r.status != 200 || !strings.Contains(string(r.body), `"state":"Aborted"`) {
		t.Fatalf("abort: %d %s", r.status, r.body)
	}
	if r := get(t, s, tok, base+"/results"); r.status != http.StatusPreconditionFailed {
		t.Errorf("results of aborted job: %d", r.status)
	}
	r = bulkCreate(t, s, tok, `{"operation":"query","query":"SELECT Id, Name FROM Account ORDER BY Name","columnDelimiter":"PIPE","lineEnding":"CRLF"}`)
	json.Unmarshal(r.body, &job)
	base = "/services/data/v62.0/jobs/query/" + job.ID
	get(t, s, tok, base)
	get(t, s, tok, base)
	r = get(t, s, tok, base+"/results")
	if !strings.HasPrefix(string(r.body), "\"Id\"|\"Name\"\r\n\"") || !strings.Contains(string(r.body), `|"O'Reilly & Sons"`+"\r\n") {
		t.Errorf("pipe/CRLF: %q", r.body)
	}
	if r.header.Get("Sforce-Locator") != "null" {
		t.Errorf("single set locator %q", r.header.Get("Sforce-Locator"))
	}
	list := get(t, s, tok, "/services/data/v62.0/jobs/query")
	if list.status != 200 || !strings.Contains(string(list.body), job.ID) {
		t.Errorf("list: %d %s", list.status, list.body)
	}
}

func TestBulkRejects(t *testing.T) {
	s, tok, _ := soqlOrg(t)
	for _, tc := range []struct{ body, code, msg string }{
		{`{"operation":"query","query":"SELECT Id, BillingAddress FROM Account"}`, "API_ERROR", "Selecting compound data not supported in Bulk Query"},
		{`{"operation":"query","query":"SELECT Location__c FROM Invoice__c"}`, "API_ERROR", "Selecting compound data not supported in Bulk Query"},
		{`{"operation":"query","query":"SELECT COUNT() FROM Account"}`, "API_ERROR", "Aggregate"},
		{`{"operation":"query","query":"SELECT MAX(Name) FROM Account"}`, "API_ERROR", "Aggregate"},
		{`{"operation":"query","query":"SELECT Id FROM Account LIMIT 5 OFFSET 1"}`, "API_ERROR", "OFFSET"},
		{`{"operation":"query","query":"SELECT Attachment__c FROM Invoice__c"}`, "API_ERROR", "Binary"},
		{`{"operation":"query","query":"SELECT Nope FROM Account"}`, "INVALID_FIELD", "No such column 'Nope'"},
		{`{"operation":"insert","query":"SELECT Id FROM Account"}`, "INVALIDJOB", "operation"},
		{`{"operation":"query","query":"SELECT Id FROM Account","contentType":"JSON"}`, "INVALIDJOB", "content type"},
		{`{"operation":"query","query":"SELECT Id FROM Account","columnDelimiter":"X"}`, "INVALIDJOB", "delimiter"},
		{`not json`, "JSON_PARSER_ERROR", ""},
	} {
		r := bulkCreate(t, s, tok, tc.body)
		if r.status != 400 || !strings.Contains(string(r.body), tc.code) || !strings.Contains(string(r.body), tc.msg) {
			t.Errorf("%s: %d %s", tc.body, r.status, r.body)
		}
	}
}
