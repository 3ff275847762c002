package sftest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain ascii text that is long enough", `q"uote`, `back\slash`, "new\nline\r\t",
		"\x00\x01\x1f\x7f", "ünïcødé 日本語 🚀", strings.Repeat("abcdefg\"", 9), "1234567\\", "\u2028\u2029", "end\""} {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != s {
			t.Errorf("appendString(%q) = %s (%v)", s, got, err)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"b\\c\nd")
	f.Fuzz(func(t *testing.T, s string) {
		if s != strings.ToValidUTF8(s, "") {
			t.Skip() // stored text is valid UTF-8 (normalize checks)
		}
		var back string
		if err := json.Unmarshal(appendString(nil, s), &back); err != nil || back != s {
			t.Fatalf("%q: %v %q", s, err, back)
		}
	})
}

// TestSealedJSON checks that the JSON rendered when a record is written
// (record.seal) is byte for byte what rendering its values at request
// time gives, for every field of every object (compounds, formulas,
// base64 and relationships included), after an update and after
// AddField; and that a change of the record is served.
func TestSealedJSON(t *testing.T) {
	s, tok := testServer(t, Options{Records: 15})
	o := s.Org
	check := func(stage string) {
		t.Helper()
		o.mu.RLock()
		defer o.mu.RUnlock()
		jw := &jsonWriter{ec: &evalCtx{o: o, now: o.now}, version: "62.0"}
		for _, od := range o.objects {
			var nodes []*selNode
			for _, f := range od.Fields {
				nodes = append(nodes, &selNode{key: f.Name, head: nodeHead(f.Name), leaf: f, leafName: f.Name})
			}
			for _, ref := range od.Fields {
				if ref.Type == "reference" && len(ref.ReferenceTo) == 1 {
					po := o.byName[strings.ToLower(ref.ReferenceTo[0])]
					var kids []*selNode
					for _, f := range po.Fields {
						kids = append(kids, &selNode{key: f.Name, head: nodeHead(f.Name), leaf: f, leafName: f.Name})
					}
					nodes = append(nodes, &selNode{key: ref.RelationshipName, head: nodeHead(ref.RelationshipName), ref: ref, kids: kids})
				}
			}
			for _, r := range od.records {
				if r.json.Load() == nil {
					t.Fatalf("%s: %s %s was published unsealed", stage, od.Name, r.id)
				}
				sealed := jw.record(nil, od, r, nodes)
				bare := &record{id: r.id, vals: r.vals, deleted: r.deleted, deletedAt: r.deletedAt}
				direct := jw.record(nil, od, bare, nodes)
				if string(sealed) != string(direct) {
					t.Fatalf("%s: %s %s: sealed JSON differs:\n%s\n%s", stage, od.Name, r.id, sealed, direct)
				}
				var v map[string]any
				if err := json.Unmarshal(sealed, &v); err != nil {
					t.Fatalf("%s: invalid JSON %s: %v", stage, sealed, err)
				}
			}
		}
	}
	check("generated")
	id := o.Records("Account", false)[0]["Id"].(string)
	if err := o.Update("Account", id, map[string]any{"Name": "Renamed \"x\"", "BillingCity": nil, "BillingStreet": nil,
		"BillingState": nil, "BillingPostalCode": nil, "BillingCountry": nil, "BillingLatitude": nil,
		"BillingLongitude": nil, "BillingGeocodeAccuracy": nil}); err != nil {
		t.Fatal(err)
	}
	inv := o.Records("Invoice__c", false)[1]["Id"].(string)
	if err := o.Delete("Invoice__c", inv); err != nil {
		t.Fatal(err)
	}
	for _, f := range []Field{{Name: "Flag__c", Type: "boolean"}, {Name: "Code__c", Type: "string", Length: 10}} {
		if err := o.AddField("Account", f); err != nil {
			t.Fatal(err)
		}
	}
	check("changed")
	r := query(t, s, tok, "SELECT Name, BillingAddress, Flag__c, Code__c FROM Account WHERE Id = '"+id+"'")
	if want := `"Name":"Renamed \"x\"","BillingAddress":null,"Flag__c":false,"Code__c":null}`; !strings.Contains(string(r.body), want) {
		t.Errorf("update not seen: got %s, want %s", r.body, want)
	}
}

func TestAppendDateTimeAndDouble(t *testing.T) {
	for _, tm := range []time.Time{time.Unix(0, 0), time.Date(1969, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(2000, 2, 29, 12, 0, 0, 5e6, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1900, 3, 1, 1, 2, 3, 0, time.UTC), time.Date(2400, 12, 31, 23, 0, 0, 123e6, time.FixedZone("x", 3600))} {
		want := tm.UTC().Format("2006-01-02T15:04:05.000") + "+0000"
		if got := string(appendDateTime(nil, tm, false)); got != want {
			t.Errorf("appendDateTime(%v) = %s, want %s", tm, got, want)
		}
	}
	for i := int64(-1e6); i < 5e7; i += 99991 {
		tm := time.Unix(i*397, i%1000*1e6).UTC()
		if got, want := string(appendDateTime(nil, tm, true)), tm.Format("2006-01-02T15:04:05.000Z"); got != want {
			t.Fatalf("appendDateTime(%v) = %s, want %s", tm, got, want)
		}
	}
	for _, tc := range []struct {
		x    float64
		want string
	}{{0, "0.0"}, {23, "23.0"}, {-149.894342, "-149.894342"}, {61.217062, "61.217062"}, {1e15, "1000000000000000.0"}, {0.5, "0.5"}, {-7, "-7.0"}} {
		if got := string(appendDouble(nil, tc.x)); got != tc.want {
			t.Errorf("appendDouble(%v) = %s, want %s", tc.x, got, tc.want)
		}
	}
}
