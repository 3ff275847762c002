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

// TestRenderCache checks that the cached JSON of a record (second render
// on) is byte for byte what the first render wrote, and that a change
// of the record is seen.
func TestRenderCache(t *testing.T) {
	s, tok := testServer(t, Options{RecordsPer: map[string]int{"Account": 20, "Invoice__c": 20}})
	for _, q := range []string{
		"SELECT Id, Name, BillingAddress, Description, AnnualRevenue, CreatedDate, Account_Age_Days__c, PhotoUrl, Owner.Name FROM Account",
		"SELECT Id, Attachment__c, Location__c, Tags__c, Sent_At__c, Reminder_Time__c, Paid__c, Quantity__c, Account__r.Name FROM Invoice__c",
	} {
		first := query(t, s, tok, q).body
		for range 2 {
			if again := query(t, s, tok, q).body; string(again) != string(first) {
				t.Fatalf("cached render differs:\n%s\n%s", first, again)
			}
		}
	}
	id := s.Org.Records("Account", false)[0]["Id"].(string)
	if err := s.Org.Update("Account", id, map[string]any{"Name": "Renamed \"x\""}); err != nil {
		t.Fatal(err)
	}
	if r := query(t, s, tok, "SELECT Name FROM Account WHERE Id = '"+id+"'"); !strings.Contains(string(r.body), `"Name":"Renamed \"x\""`) {
		t.Errorf("update not seen: %s", r.body)
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
