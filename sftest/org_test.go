package sftest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOrgMutations(t *testing.T) {
	srv, _ := testServer(t, Options{})
	o := srv.Org
	t0 := o.Now()
	id, err := o.Create("Account", map[string]any{"Name": "Acme", "BillingCity": "Köln", "NumberOfEmployees": 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 18 || !strings.HasPrefix(id, "001") {
		t.Fatalf("id %q", id)
	}
	rec, _ := o.Get("Account", id)
	if rec["CreatedDate"] != t0 || rec["SystemModstamp"] != t0 || rec["OwnerId"] != o.UserID() || rec["IsDeleted"] != false {
		t.Errorf("audit fields %v %v %v", rec["CreatedDate"], rec["OwnerId"], rec["IsDeleted"])
	}
	if addr := rec["BillingAddress"].(map[string]any); addr["city"] != "Köln" || addr["street"] != nil {
		t.Errorf("compound %v", addr)
	}
	if rec["ShippingAddress"] != nil || rec["NumberOfEmployees"] != int64(5) {
		t.Errorf("ShippingAddress %v, employees %#v", rec["ShippingAddress"], rec["NumberOfEmployees"])
	}
	o.Advance(time.Minute)
	if err := o.Update("Account", id[:15], map[string]any{"Name": "Acme 2"}); err != nil {
		t.Fatal(err)
	}
	rec, _ = o.Get("Account", id)
	if rec["Name"] != "Acme 2" || rec["CreatedDate"] != t0 || rec["SystemModstamp"] != t0.Add(time.Minute) {
		t.Errorf("after update %v %v", rec["Name"], rec["SystemModstamp"])
	}
	o.Advance(time.Minute)
	if err := o.Delete("Account", id); err != nil {
		t.Fatal(err)
	}
	if o.Count("Account", false) != 0 || o.Count("Account", true) != 1 {
		t.Error("delete goes to the recycle bin")
	}
	if err := o.Update("Account", id, map[string]any{"Name": "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("update a deleted record: %v", err)
	}
	rec, _ = o.Get("Account", id)
	if rec["IsDeleted"] != true || rec["SystemModstamp"] != t0.Add(2*time.Minute) {
		t.Errorf("deleted %v %v", rec["IsDeleted"], rec["SystemModstamp"])
	}
	if err := o.Undelete("Account", id); err != nil || o.Count("Account", false) != 1 {
		t.Errorf("undelete: %v", err)
	}
	if err := o.HardDelete("Account", id); err != nil || o.Count("Account", true) != 0 {
		t.Errorf("hard delete: %v", err)
	}
	if _, ok := o.Get("Account", id); ok {
		t.Error("hard-deleted record still readable")
	}
	if err := o.Delete("User", o.UserID()); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("delete a user: %v", err)
	}
}

func TestOrgValidation(t *testing.T) {
	srv, _ := testServer(t, Options{})
	o := srv.Org
	for _, tc := range []struct {
		object string
		fields map[string]any
		want   error
	}{
		{"Nope", nil, ErrUnknownObject},
		{"Account", map[string]any{"Name": "a", "Nope__c": 1}, ErrUnknownField},
		{"Account", map[string]any{}, ErrInvalidValue}, // Name is required
		{"Account", map[string]any{"Name": "a", "NumberOfEmployees": "many"}, ErrInvalidValue},
		{"Account", map[string]any{"Name": "a", "Customer_Since__c": "2020-13-01"}, ErrInvalidValue},
		{"Account", map[string]any{"Name": "a", "SystemModstamp": time.Now()}, ErrInvalidValue},
		{"Account", map[string]any{"Name": "a", "ParentId": "003000000000000AAA"}, ErrInvalidValue},
		{"Account", map[string]any{"Name": strings.Repeat("x", 256)}, ErrInvalidValue},
		{"Account", map[string]any{"Name": "bad \xff utf8"}, ErrInvalidValue},
		{"Account", map[string]any{"Name": "a", "BillingAddress": map[string]any{}}, ErrInvalidValue},
		{"Account", map[string]any{"Name": "a", "Account_Age_Days__c": 1.0}, ErrInvalidValue},
	} {
		if _, err := o.Create(tc.object, tc.fields); !errors.Is(err, tc.want) {
			t.Errorf("Create(%s, %v) = %v, want %v", tc.object, tc.fields, err, tc.want)
		}
	}
}

func TestAddField(t *testing.T) {
	srv, _ := testServer(t, Options{RecordsPer: map[string]int{"Account": 2}})
	o := srv.Org
	o.Advance(time.Hour)
	for _, f := range []Field{
		{Name: "Score__c", Type: "double", Precision: 5, Scale: 1},
		{Name: "Active2__c", Type: "boolean"},
		{Name: "Partner__c", Type: "reference", ReferenceTo: []string{"Account"}},
	} {
		if err := o.AddField("Account", f); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []Field{{Name: "Score__c", Type: "double"}, {Name: "NoSuffix", Type: "string"}, {Name: "Bad__c", Type: "address"}, {Name: "R__c", Type: "reference"}} {
		if err := o.AddField("Account", bad); err == nil {
			t.Errorf("AddField(%+v) succeeded", bad)
		}
	}
	rec := o.Records("Account", false)[0]
	if v, ok := rec["Score__c"]; !ok || v != nil || rec["Active2__c"] != false {
		t.Errorf("new fields on existing records: %v %v", rec["Score__c"], rec["Active2__c"])
	}
	o.mu.RLock()
	lm := o.byName["account"].lastModified
	o.mu.RUnlock()
	if lm != o.Now() {
		t.Errorf("lastModified %v, now %v", lm, o.Now())
	}
	if err := o.Update("Account", rec["Id"].(string), map[string]any{"Score__c": 4.5, "Partner__c": rec["Id"]}); err != nil {
		t.Fatal(err)
	}
}

func TestGenerate(t *testing.T) {
	srvA, _ := testServer(t, Options{Seed: 7, Records: 40})
	srvB, _ := testServer(t, Options{Seed: 7, Records: 40})
	a, b := srvA.Org, srvB.Org
	for _, obj := range a.Objects() {
		ra, rb := a.Records(obj, true), b.Records(obj, true)
		if !reflect.DeepEqual(ra, rb) {
			t.Fatalf("%s differs between two orgs with the same seed", obj)
		}
	}
	srvC, _ := testServer(t, Options{Seed: 8, RecordsPer: map[string]int{"Account": 40}})
	c := srvC.Org
	if reflect.DeepEqual(a.Records("Account", false), c.Records("Account", false)) {
		t.Error("different seeds give the same data")
	}
	// Every picklist value appears, some nillable fields are null, and the
	// nasty characters show up.
	a.mu.RLock()
	od := a.byName["account"]
	a.mu.RUnlock()
	recs := a.Records("Account", false)
	var text strings.Builder
	nulls := 0
	for _, f := range od.Fields {
		if f.Type == "picklist" {
			seen := map[any]bool{}
			for _, r := range recs {
				seen[r[f.Name]] = true
			}
			for _, v := range f.Picklist {
				if !seen[v] {
					t.Errorf("%s value %q never generated", f.Name, v)
				}
			}
		}
		for _, r := range recs {
			if s, ok := r[f.Name].(string); ok {
				text.WriteString(s)
			}
			if r[f.Name] == nil {
				nulls++
			}
		}
	}
	for _, want := range []string{"'", `\`, "\n", `"`, "ü", "🚀", "%", "_"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("no %q in generated text", want)
		}
	}
	if nulls == 0 {
		t.Error("no nulls generated")
	}
	if diff := cmp.Diff(40, a.Count("Task", false)); diff != "" {
		t.Error(diff)
	}
	task := a.Records("Task", false)[0]
	if who, _ := task["WhoId"].(string); who != "" && !strings.HasPrefix(who, "003") && !strings.HasPrefix(who, "00Q") {
		t.Errorf("WhoId %q", who)
	}
}
