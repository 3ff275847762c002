package metadata

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/salesforce-sync/store"
)

// TestColumnEveryType covers each field type of SALESFORCE.md 3.2 with a
// REST value, a Bulk (CSV text) value and the stored value both give.
func TestColumnEveryType(t *testing.T) {
	day := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	stamp := time.Date(2011, 7, 7, 0, 37, 0, 123e6, time.UTC)
	tests := []struct {
		typ  string
		col  store.ColumnType // "" means not stored
		bulk bool
		rest any
		csv  any
		want any
	}{
		{"string", store.Text, true, "some text", "some text", "some text"},
		{"picklist", store.Text, true, "one", "one", "one"},
		{"multipicklist", store.Text, true, "four;six", "four;six", "four;six"},
		{"combobox", store.Text, true, "Call", "Call", "Call"},
		{"reference", store.Text, true, "005i00000016PdaAAE", "005i00000016PdaAAE", "005i00000016PdaAAE"},
		{"base64", "", false, nil, nil, nil},
		{"boolean", store.Boolean, true, true, "true", true},
		{"currency", store.Numeric, true, json.Number("23.10"), "23.10", store.Decimal("23.10")},
		{"textarea", store.Text, true, "a\r\nb", "a\r\nb", "a\r\nb"},
		{"int", store.Integer, true, json.Number("8"), "8", int64(8)},
		{"double", store.Numeric, true, json.Number("61.217062"), "61.217062", store.Decimal("61.217062")},
		{"percent", store.Numeric, true, json.Number("33.0"), "33.0", store.Decimal("33.0")},
		{"phone", store.Text, true, "(415) 555-1212", "(415) 555-1212", "(415) 555-1212"},
		{"id", store.Text, true, "0011Y00003HVMu4QAH", "0011Y00003HVMu4QAH", "0011Y00003HVMu4QAH"},
		{"date", store.Date, true, "2010-01-01", "2010-01-01", day},
		{"datetime", store.DateTime, true, "2011-07-07T00:37:00.123+0000", "2011-07-07T00:37:00.123Z", stamp},
		{"time", store.Time, true, "13:30:00.000Z", "13:30:00.000Z", "13:30:00.000Z"},
		{"url", store.Text, true, "http://example.com", "http://example.com", "http://example.com"},
		{"email", store.Text, true, "a@example.com", "a@example.com", "a@example.com"},
		{"encryptedstring", store.Text, true, "****1234", "****1234", "****1234"},
		{"datacategorygroupreference", store.Text, true, "Products", "Products", "Products"},
		{"location", "", false, nil, nil, nil},
		{"address", "", false, nil, nil, nil},
		{"anyType", store.JSON, false, json.Number("5"), nil, json.RawMessage("5")},
		{"json", store.JSON, false, map[string]any{"a": json.Number("1")}, nil, json.RawMessage(`{"a":1}`)},
		{"complexvalue", store.JSON, false, map[string]any{"x": "y"}, nil, json.RawMessage(`{"x":"y"}`)},
		{"long", store.Integer, true, json.Number("9007199254740993"), "9007199254740993", int64(9007199254740993)},
		{"somefuturetype", store.JSON, false, []any{"a"}, nil, json.RawMessage(`["a"]`)},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			f := Field{Name: "F__c", Type: tt.typ, Precision: 18, Scale: 2}
			col, ok := Column(f)
			if ok != (tt.col != "") || ok && col.Type != tt.col {
				t.Fatalf("Column = %+v, %v; want type %q", col, ok, tt.col)
			}
			o := &SObject{Name: "X__c", Fields: []Field{{Name: "Id", Type: "id"}, f}}
			inREST := len(RESTFields(o)) == 2
			inBulk := len(BulkFields(o)) == 2
			if inREST != ok || inBulk != tt.bulk {
				t.Errorf("REST selects %v, Bulk selects %v", inREST, inBulk)
			}
			if !ok {
				return
			}
			got, err := Value(col, tt.rest)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("REST value (-want +got):\n%s", diff)
			}
			if tt.bulk {
				got, err := Value(col, tt.csv)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Bulk value (-want +got):\n%s", diff)
				}
			}
			if got, err := Value(col, nil); got != nil || err != nil {
				t.Errorf("nil = %v, %v", got, err)
			}
		})
	}
	// The table lists every type of the enumeration.
	for _, typ := range []string{"string", "picklist", "multipicklist", "combobox", "reference", "base64",
		"boolean", "currency", "textarea", "int", "double", "percent", "phone", "id", "date", "datetime",
		"time", "url", "email", "encryptedstring", "datacategorygroupreference", "location", "address",
		"anyType", "json", "complexvalue", "long"} {
		if _, ok := typeMap[typ]; !ok {
			t.Errorf("typeMap lacks %s", typ)
		}
	}
}

func TestNumericPrecision(t *testing.T) {
	col := store.Column{Name: "N", Type: store.Numeric, Precision: 38, Scale: 18}
	tests := map[string]store.Decimal{
		"12345678901234567890.123456789012345678": "12345678901234567890.123456789012345678",
		"0.1":      "0.1",
		"-0.50":    "-0.50",
		"1.5E3":    "1500",
		"1.25e-3":  "0.00125",
		"-2E+2":    "-200",
		"+7":       "7",
		"007.5":    "7.5",
		"400":      "400",
		"300.0":    "300.0",
		"1e0":      "1",
		"12.5E-1":  "1.25",
		"0.000001": "0.000001",
	}
	for in, want := range tests {
		got, err := Value(col, json.Number(in))
		if err != nil || got != want {
			t.Errorf("Value(%s) = %v, %v; want %s", in, got, err, want)
		}
	}
	if got, _ := Value(col, 0.1); got != store.Decimal("0.1") {
		t.Errorf("float64 0.1 = %v", got)
	}
}

func TestValueErrors(t *testing.T) {
	tests := []struct {
		col store.ColumnType
		raw any
	}{
		{store.Integer, json.Number("1.5")},
		{store.Integer, "abc"},
		{store.Integer, "99999999999999999999"},
		{store.Numeric, "1.2.3"},
		{store.Numeric, "1e"},
		{store.Numeric, "."},
		{store.Numeric, "NaN"},
		{store.Numeric, true},
		{store.Boolean, "yes"},
		{store.Date, "2010-13-01"},
		{store.DateTime, "2011-07-07 00:37:00"},
		{store.Time, "25:00:00.000Z"},
		{store.Text, map[string]any{}},
		{store.Blob, "not base64!"},
		{store.Real, "x"},
	}
	for _, tt := range tests {
		_, err := Value(store.Column{Name: "C", Type: tt.col}, tt.raw)
		if !errors.Is(err, store.ErrBadValue) {
			t.Errorf("Value(%s, %#v) err = %v, want ErrBadValue", tt.col, tt.raw, err)
		}
	}
}

func TestValueMore(t *testing.T) {
	tests := []struct {
		col  store.ColumnType
		raw  any
		want any
	}{
		{store.DateTime, "2026-01-02T03:04:05Z", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{store.DateTime, "2026-01-02T03:04:05.5+01:00", time.Date(2026, 1, 2, 2, 4, 5, 5e8, time.UTC)},
		{store.DateTime, "2026-01-02T03:04:05-0800", time.Date(2026, 1, 2, 11, 4, 5, 0, time.UTC)},
		{store.Time, "13:30:00Z", "13:30:00.000Z"},
		{store.Integer, json.Number("12.0"), int64(12)},
		{store.Integer, "1E3", int64(1000)},
		{store.Real, json.Number("1.5"), 1.5},
		{store.Boolean, "FALSE", false},
		{store.Text, json.Number("12"), "12"},
		{store.Text, true, "true"},
		{store.JSON, "text", json.RawMessage(`"text"`)},
		{store.JSON, true, json.RawMessage(`true`)},
		{store.Blob, "aGk=", []byte("hi")},
	}
	for _, tt := range tests {
		got, err := Value(store.Column{Name: "C", Type: tt.col}, tt.raw)
		if err != nil {
			t.Errorf("Value(%s, %#v): %v", tt.col, tt.raw, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Value(%s, %#v) (-want +got):\n%s", tt.col, tt.raw, diff)
		}
	}
}

func FuzzValueNumeric(f *testing.F) {
	for _, s := range []string{"1", "-0.5", "1e5", "1.5E-3", "+3", ".5", "0001", "1e400"} {
		f.Add(s)
	}
	col := store.Column{Name: "N", Type: store.Numeric}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Value(col, s)
		if err != nil {
			return
		}
		d := string(v.(store.Decimal))
		// The output is plain decimal text that normalises to itself.
		again, err := normDecimal(d)
		if err != nil || again != d || strings.ContainsAny(d, "eE+") {
			t.Fatalf("%q -> %q -> %q, %v", s, d, again, err)
		}
		// And it is exactly the input's number: no float rounding.
		in, ok1 := new(big.Rat).SetString(strings.TrimSpace(s))
		out, ok2 := new(big.Rat).SetString(d)
		if !ok2 || ok1 && in.Cmp(out) != 0 {
			t.Fatalf("%q -> %q changes the number", s, d)
		}
	})
}

func TestTableMetaCalculated(t *testing.T) {
	o := &SObject{Name: "Invoice__c", Label: "Invoice", Custom: true, Fields: []Field{
		{Name: "Name", Type: "string", Label: "Name", Length: 80},
		{Name: "Id", Type: "id"},
		{Name: "Amount__c", Type: "currency", Precision: 16, Scale: 2, Custom: true},
		{Name: "Total__c", Type: "double", Calculated: true, Precision: 18, Scale: 2},
		{Name: "Loc__c", Type: "location"},
		{Name: "Loc__Latitude__s", Type: "double", CompoundFieldName: "Loc__c", Precision: 18, Scale: 15},
		{Name: "Doc__c", Type: "base64"},
		{Name: "Status__c", Type: "picklist", PicklistValues: []PicklistValue{{Value: "Open"}, {Value: "Paid"}}},
		{Name: "Account__c", Type: "reference", ReferenceTo: []string{"Account"}, RelationshipName: "Account__r"},
	}}
	want := store.Table{Name: "Invoice__c", Columns: []store.Column{
		{Name: "Id", Type: store.Text},
		{Name: "Name", Type: store.Text},
		{Name: "Amount__c", Type: store.Numeric, Precision: 16, Scale: 2},
		{Name: "Total__c", Type: store.Numeric, Precision: 18, Scale: 2},
		{Name: "Loc__Latitude__s", Type: store.Numeric, Precision: 18, Scale: 15},
		{Name: "Status__c", Type: store.Text},
		{Name: "Account__c", Type: store.Text},
	}}
	if diff := cmp.Diff(want, Table(o)); diff != "" {
		t.Errorf("Table (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Id", "Name", "Amount__c", "Total__c", "Loc__Latitude__s", "Status__c", "Account__c"}, RESTFields(o)); diff != "" {
		t.Errorf("RESTFields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(RESTFields(o), BulkFields(o)); diff != "" || !BulkCompatible(o) {
		t.Errorf("BulkFields (-rest +bulk):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Total__c"}, CalculatedFields(o)); diff != "" {
		t.Errorf("CalculatedFields: %s", diff)
	}
	m := Meta(o)
	if m.Name != "Invoice__c" || m.Label != "Invoice" || !m.Custom || len(m.Fields) != len(o.Fields) {
		t.Fatalf("Meta = %+v", m)
	}
	if diff := cmp.Diff([]string{"Open", "Paid"}, m.Fields[7].PicklistValues); diff != "" {
		t.Errorf("picklist meta: %s", diff)
	}
	if m.Fields[8].RelationshipName != "Account__r" || m.Fields[8].ReferenceTo[0] != "Account" {
		t.Errorf("reference meta %+v", m.Fields[8])
	}
	withAny := &SObject{Name: "AccountHistory", Fields: []Field{{Name: "Id", Type: "id"}, {Name: "NewValue", Type: "anyType"}}}
	if BulkCompatible(withAny) {
		t.Error("an anyType field must keep an object off Bulk")
	}
}

func TestCompare(t *testing.T) {
	old := &SObject{Name: "A", Fields: []Field{
		{Name: "Id", Type: "id"}, {Name: "Gone__c", Type: "string"},
		{Name: "Amt__c", Type: "currency", Precision: 10, Scale: 2}, {Name: "Same__c", Type: "boolean"},
	}}
	new := &SObject{Name: "A", Fields: []Field{
		{Name: "Id", Type: "id", ReferenceTo: []string{}}, {Name: "amt__c", Type: "currency", Precision: 12, Scale: 2},
		{Name: "Same__c", Type: "boolean"}, {Name: "New__c", Type: "date"},
	}}
	got := Compare(old, new)
	want := Changes{
		Added:   []Field{{Name: "New__c", Type: "date"}},
		Removed: []Field{{Name: "Gone__c", Type: "string"}},
		Changed: []Field{{Name: "amt__c", Type: "currency", Precision: 12, Scale: 2}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Compare (-want +got):\n%s", diff)
	}
	if !Compare(old, old).Empty() {
		t.Error("a describe differs from itself")
	}
	if n := len(Compare(nil, new).Added); n != 4 {
		t.Errorf("Compare(nil) added %d", n)
	}
}

func TestSelection(t *testing.T) {
	obj := func(name string, mod func(*GlobalSObject)) GlobalSObject {
		o := GlobalSObject{Name: name, Queryable: true, Retrieveable: true, Replicateable: true}
		if mod != nil {
			mod(&o)
		}
		return o
	}
	g := &Global{SObjects: []GlobalSObject{
		obj("Account", nil),
		obj("AccountHistory", nil),
		obj("AccountShare", nil),
		obj("Contact", nil),
		obj("Invoice__c", func(o *GlobalSObject) { o.Custom = true }),
		obj("Settings__c", func(o *GlobalSObject) { o.Custom, o.CustomSetting = true, true }),
		obj("Hidden__c", func(o *GlobalSObject) { o.DeprecatedAndHidden = true }),
		obj("Config__mdt", nil),
		obj("Event__e", nil),
		obj("Big__b", nil),
		obj("Ext__x", nil),
		obj("AccountChangeEvent", nil),
		obj("NoQuery__c", func(o *GlobalSObject) { o.Queryable = false }),
		obj("NoRepl__c", func(o *GlobalSObject) { o.Replicateable = false }),
		obj("Task", nil),
		obj("acme__Shipment__c", nil),
	}}
	if diff := cmp.Diff([]string{"Account", "Contact", "Invoice__c", "Task", "acme__Shipment__c"}, Selection{}.Select(g)); diff != "" {
		t.Errorf("default (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Contact", "AccountHistory", "NoRepl__c"},
		Selection{Names: []string{"contact", "AccountHistory", "Missing", "Hidden__c", "NoRepl__c", "Contact"}}.Select(g)); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	custom := Selection{Match: func(o GlobalSObject) bool { return Syncable(o) && o.Custom }}
	if diff := cmp.Diff([]string{"Invoice__c", "Settings__c"}, custom.Select(g)); diff != "" {
		t.Errorf("match (-want +got):\n%s", diff)
	}
	if (Selection{}).Select(nil) != nil {
		t.Error("nil global selected something")
	}
}
