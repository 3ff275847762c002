package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsync/salesforce-sync/store"
)

func TestUpsertGuard(t *testing.T) {
	t1, t2, t3 := ms("2026-01-01T10:00:00.000Z"), ms("2026-01-01T11:00:00.000Z"), ms("2026-01-01T12:00:00.000Z")
	type step struct {
		values map[string]any
		want   store.UpsertResult
	}
	tests := []struct {
		name     string
		steps    []step
		wantName string
	}{
		{"newer applies", []step{
			{map[string]any{"Name": "a", "SystemModstamp": t1}, store.UpsertResult{Inserted: 1}},
			{map[string]any{"Name": "b", "SystemModstamp": t2}, store.UpsertResult{Updated: 1}},
		}, "b"},
		{"older is stale", []step{
			{map[string]any{"Name": "a", "SystemModstamp": t2}, store.UpsertResult{Inserted: 1}},
			{map[string]any{"Name": "b", "SystemModstamp": t1}, store.UpsertResult{Stale: 1}},
		}, "a"},
		{"equal applies", []step{
			{map[string]any{"Name": "a", "SystemModstamp": t1}, store.UpsertResult{Inserted: 1}},
			{map[string]any{"Name": "b", "SystemModstamp": t1}, store.UpsertResult{Updated: 1}},
		}, "b"},
		{"incoming without timestamp applies", []step{
			{map[string]any{"Name": "a", "SystemModstamp": t2}, store.UpsertResult{Inserted: 1}},
			{map[string]any{"Name": "b"}, store.UpsertResult{Updated: 1}},
		}, "b"},
		{"stored without timestamp is overwritten", []step{
			{map[string]any{"Name": "a"}, store.UpsertResult{Inserted: 1}},
			{map[string]any{"Name": "b", "SystemModstamp": t1}, store.UpsertResult{Updated: 1}},
		}, "b"},
		{"null timestamp counts as missing", []step{
			{map[string]any{"Name": "a", "SystemModstamp": t2}, store.UpsertResult{Inserted: 1}},
			{map[string]any{"Name": "b", "SystemModstamp": nil}, store.UpsertResult{Updated: 1}},
		}, "b"},
		{"LastModifiedDate when SystemModstamp is missing", []step{
			{map[string]any{"Name": "a", "LastModifiedDate": t2}, store.UpsertResult{Inserted: 1}},
			{map[string]any{"Name": "b", "LastModifiedDate": t1}, store.UpsertResult{Stale: 1}},
			{map[string]any{"Name": "c", "LastModifiedDate": t3}, store.UpsertResult{Updated: 1}},
		}, "c"},
		{"SystemModstamp wins over LastModifiedDate", []step{
			{map[string]any{"Name": "a", "SystemModstamp": t2, "LastModifiedDate": t1}, store.UpsertResult{Inserted: 1}},
			{map[string]any{"Name": "b", "SystemModstamp": t1, "LastModifiedDate": t3}, store.UpsertResult{Stale: 1}},
		}, "a"},
	}
	s := openTest(t)
	mustEnsure(t, s, accountTable)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("001%015d", i)
			for k, st := range tc.steps {
				res := mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Account",
					Rows: []store.Row{{ID: id, Values: st.values}}})
				if diff := cmp.Diff(st.want, res); diff != "" {
					t.Errorf("step %d result (-want +got):\n%s", k, diff)
				}
			}
			if got := readOne(t, s, org1, "Account", id)["Name"]; got != tc.wantName {
				t.Errorf("Name = %v, want %v", got, tc.wantName)
			}
		})
	}
}

// TestUpsertPaths runs the same batches through single statements and
// through COPY: the results must not depend on the path.
func TestUpsertPaths(t *testing.T) {
	for _, threshold := range []int{1, 1000} {
		t.Run(fmt.Sprintf("threshold=%d", threshold), func(t *testing.T) {
			s := openTest(t, WithCopyThreshold(threshold))
			mustEnsure(t, s, accountTable)
			ctx := context.Background()
			t1, t2 := ms("2026-02-01T00:00:00.001Z"), ms("2026-02-02T00:00:00.002Z")
			var rows []store.Row
			for i := range 200 {
				rows = append(rows, store.Row{ID: fmt.Sprintf("001%015d", i),
					Values: map[string]any{"Name": fmt.Sprint("n", i), "SystemModstamp": t1}})
			}
			if diff := cmp.Diff(store.UpsertResult{Inserted: 200}, mustUpsert(t, s,
				store.Upsert{OrgID: org1, Object: "Account", Rows: rows})); diff != "" {
				t.Errorf("first batch (-want +got):\n%s", diff)
			}
			// Half newer, a quarter older (by LastModifiedDate too), a
			// quarter partial without timestamps, the same Id twice, and
			// new rows.
			var next []store.Row
			for i := range 200 {
				id := fmt.Sprintf("001%015d", i)
				switch {
				case i < 100:
					next = append(next, store.Row{ID: id, Values: map[string]any{"Name": "newer", "SystemModstamp": t2}})
				case i < 150:
					next = append(next, store.Row{ID: id, Values: map[string]any{"Name": "older",
						"SystemModstamp": t1.Add(-time.Millisecond)}})
				default:
					next = append(next, store.Row{ID: id, Values: map[string]any{"NumberOfEmployees": int64(i)}})
				}
			}
			next = append(next,
				store.Row{ID: "001000000000000000", Values: map[string]any{"Name": "twice", "SystemModstamp": t2}},
				store.Row{ID: "001000000000000001", Values: map[string]any{"Name": "stale twice", "SystemModstamp": t1}},
				store.Row{ID: "001999999999999999", Values: map[string]any{"Name": "new"}},
			)
			res, err := s.Upsert(ctx, store.Upsert{OrgID: org1, Object: "Account", Rows: next})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(store.UpsertResult{Inserted: 1, Updated: 151, Stale: 51}, res); diff != "" {
				t.Errorf("second batch (-want +got):\n%s", diff)
			}
			checks := map[string]map[string]any{
				"001000000000000000": {"Name": "twice", "NumberOfEmployees": nil},
				"001000000000000120": {"Name": "n120", "NumberOfEmployees": nil},
				"001000000000000170": {"Name": "n170", "NumberOfEmployees": int64(170)},
				"001999999999999999": {"Name": "new", "NumberOfEmployees": nil},
			}
			for id, want := range checks {
				got := readOne(t, s, org1, "Account", id)
				for k, v := range want {
					if got[k] != v {
						t.Errorf("%s %s = %v, want %v", id, k, got[k], v)
					}
				}
			}
			if n, _ := s.Count(ctx, org1, "Account", false); n != 201 {
				t.Errorf("count = %d, want 201", n)
			}
		})
	}
}

func TestUpsertDuplicateIDsInCopyBatch(t *testing.T) {
	s := openTest(t, WithCopyThreshold(2))
	mustEnsure(t, s, accountTable)
	t1, t2 := ms("2026-01-01T00:00:00Z"), ms("2026-01-02T00:00:00Z")
	var rows []store.Row
	for i := range 10 {
		rows = append(rows, store.Row{ID: fmt.Sprint("001", i), Values: map[string]any{"Name": "v1", "SystemModstamp": t2}})
	}
	for i := range 10 {
		ts := t1
		if i%2 == 0 {
			ts = t2
		}
		rows = append(rows, store.Row{ID: fmt.Sprint("001", i), Values: map[string]any{"Name": "v2", "SystemModstamp": ts}})
	}
	res := mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Account", Rows: rows})
	if diff := cmp.Diff(store.UpsertResult{Inserted: 10, Updated: 5, Stale: 5}, res); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := readOne(t, s, org1, "Account", "0012")["Name"]; got != "v2" {
		t.Errorf("0012 Name = %v, want v2", got)
	}
	if got := readOne(t, s, org1, "Account", "0013")["Name"]; got != "v1" {
		t.Errorf("0013 Name = %v, want v1", got)
	}
}

func TestValuesRoundTrip(t *testing.T) {
	tbl := store.Table{Name: "Invoice__c", Columns: []store.Column{
		{Name: "Id", Type: store.Text},
		{Name: "Text__c", Type: store.Text},
		{Name: "Int__c", Type: store.Integer},
		{Name: "Amount__c", Type: store.Numeric, Precision: 18, Scale: 2},
		{Name: "Free__c", Type: store.Numeric},
		{Name: "Ratio__c", Type: store.Real},
		{Name: "Flag__c", Type: store.Boolean},
		{Name: "Day__c", Type: store.Date},
		{Name: "When__c", Type: store.DateTime},
		{Name: "Clock__c", Type: store.Time},
		{Name: "Address__c", Type: store.JSON},
		{Name: "Body__c", Type: store.Blob},
	}}
	long := make([]byte, 200_000)
	for i := range long {
		long[i] = 'a' + byte(i%26)
	}
	full := map[string]any{
		"Text__c":    "héllo, 世界 🚀 \"quoted\" 'x'",
		"Int__c":     int64(-9223372036854775808),
		"Amount__c":  store.Decimal("-1234567890123456.78"),
		"Free__c":    store.Decimal("3.14159265358979323846264338327950288"),
		"Ratio__c":   0.1,
		"Flag__c":    true,
		"Day__c":     time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC),
		"When__c":    ms("2026-03-04T05:06:07.089Z"),
		"Clock__c":   "23:59:58.123Z",
		"Address__c": json.RawMessage(`{"city":"Paris","geo":[1.5,2.25],"n":null}`),
		"Body__c":    []byte{0, 1, 2, 255},
	}
	nulls := map[string]any{}
	for k := range full {
		nulls[k] = nil
	}
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any
	}{
		{"every type", full, full},
		{"nulls", nulls, nulls},
		{"long text", map[string]any{"Text__c": string(long)}, map[string]any{"Text__c": string(long)}},
		{"decimal at the column's scale", map[string]any{"Amount__c": store.Decimal("12.5")},
			map[string]any{"Amount__c": store.Decimal("12.50")}},
		{"decimal with zeros past the scale", map[string]any{"Amount__c": store.Decimal("1.5000")},
			map[string]any{"Amount__c": store.Decimal("1.50")}},
		{"integer as decimal", map[string]any{"Free__c": int64(1500)},
			map[string]any{"Free__c": store.Decimal("1500")}},
		{"decimal keeps its scale when unbounded", map[string]any{"Free__c": store.Decimal("1.500")},
			map[string]any{"Free__c": store.Decimal("1.500")}},
		{"datetime to UTC milliseconds", map[string]any{
			"When__c": time.Date(2026, 1, 1, 12, 0, 0, 123456789, time.FixedZone("x", 3600))},
			map[string]any{"When__c": ms("2026-01-01T11:00:00.123Z")}},
		{"midnight", map[string]any{"Clock__c": "00:00:00.000Z"}, map[string]any{"Clock__c": "00:00:00.000Z"}},
		{"JSON value", map[string]any{"Address__c": json.RawMessage(`[1,"a b",{"k":true,"a":1.50}]`)},
			map[string]any{"Address__c": json.RawMessage(`[1, "a b", {"a": 1.50, "k": true}]`)}},
		{"empty blob", map[string]any{"Body__c": []byte{}}, map[string]any{"Body__c": []byte{}}},
		{"earliest", map[string]any{"Day__c": time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "When__c": time.Date(1, 1, 1, 0, 0, 0, 1_000_000, time.UTC)},
			map[string]any{"Day__c": time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "When__c": time.Date(1, 1, 1, 0, 0, 0, 1_000_000, time.UTC)}},
		{"latest", map[string]any{"Day__c": time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), "When__c": ms("9999-12-31T23:59:59.999Z")},
			map[string]any{"Day__c": time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), "When__c": ms("9999-12-31T23:59:59.999Z")}},
		{"before 2000", map[string]any{"Day__c": time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), "When__c": ms("1969-12-31T23:59:59.999Z")},
			map[string]any{"Day__c": time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), "When__c": ms("1969-12-31T23:59:59.999Z")}},
		{"leap day", map[string]any{"Day__c": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "Int__c": int64(math.MinInt64), "Ratio__c": -math.MaxFloat64},
			map[string]any{"Day__c": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "Int__c": int64(math.MinInt64), "Ratio__c": -math.MaxFloat64}},
		{"decimals", map[string]any{"Amount__c": store.Decimal("-0.01"), "Free__c": store.Decimal("-0.00001")},
			map[string]any{"Amount__c": store.Decimal("-0.01"), "Free__c": store.Decimal("-0.00001")}},
		{"zero decimal", map[string]any{"Amount__c": store.Decimal("0"), "Free__c": store.Decimal("10000.0000")},
			map[string]any{"Amount__c": store.Decimal("0.00"), "Free__c": store.Decimal("10000.0000")}},
	}
	// Each value goes through every write path: a single statement, COPY
	// straight into the table (a new row) and COPY through the stage (an
	// update of that row).
	for _, threshold := range []int{1, 64} {
		s := openTest(t, WithCopyThreshold(threshold))
		mustEnsure(t, s, tbl)
		for i, tc := range tests {
			t.Run(fmt.Sprintf("%s/threshold=%d", tc.name, threshold), func(t *testing.T) {
				id := fmt.Sprintf("a00%015d", i)
				for _, want := range []store.UpsertResult{{Inserted: 1}, {Updated: 1}} {
					res := mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Invoice__c", Rows: []store.Row{{ID: id, Values: tc.in}}})
					if res != want {
						t.Errorf("upsert = %+v, want %+v", res, want)
					}
					got := readOne(t, s, org1, "Invoice__c", id)
					for k, want := range tc.want {
						if diff := cmp.Diff(want, got[k], equateJSON); diff != "" {
							t.Errorf("%s (-want +got):\n%s", k, diff)
						}
					}
					if got["Id"] != id {
						t.Errorf("Id = %v", got["Id"])
					}
					if _, ok := got[store.ColSyncedAt].(time.Time); !ok {
						t.Errorf("_synced_at = %#v, want a time", got[store.ColSyncedAt])
					}
					if got[store.ColDeleted] != nil {
						t.Errorf("_deleted_at = %v, want nil", got[store.ColDeleted])
					}
				}
			})
		}
	}
}

// equateJSON compares JSON by value: jsonb keeps a value, not its text
// (object keys come back in jsonb's order).
var equateJSON = cmp.Comparer(func(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	return cmp.Equal(x, y)
})

func TestBadInput(t *testing.T) {
	s := openTest(t)
	mustEnsure(t, s, accountTable)
	ctx := context.Background()
	good := store.Row{ID: "001A", Values: map[string]any{"Name": "ok"}}
	tests := []struct {
		name    string
		u       store.Upsert
		want    error
		wantCol string
	}{
		{"invalid table name", store.Upsert{OrgID: org1, Object: `Acc"ount`, Rows: []store.Row{good}}, store.ErrInvalidName, ""},
		{"unknown column", store.Upsert{OrgID: org1, Object: "Account",
			Rows: []store.Row{good, {ID: "001B", Values: map[string]any{"Nope__c": "x"}}}}, store.ErrUnknownColumn, "Nope__c"},
		{"string in integer column", store.Upsert{OrgID: org1, Object: "Account",
			Rows: []store.Row{good, {ID: "001B", Values: map[string]any{"NumberOfEmployees": "12"}}}}, store.ErrBadValue, "NumberOfEmployees"},
		{"decimal past the scale", store.Upsert{OrgID: org1, Object: "Account",
			Rows: []store.Row{good, {ID: "001B", Values: map[string]any{"AnnualRevenue": store.Decimal("1.234")}}}}, store.ErrBadValue, "AnnualRevenue"},
		{"decimal too large", store.Upsert{OrgID: org1, Object: "Account",
			Rows: []store.Row{good, {ID: "001B", Values: map[string]any{"AnnualRevenue": store.Decimal("100000000000000000")}}}}, store.ErrBadValue, "AnnualRevenue"},
		{"not a decimal", store.Upsert{OrgID: org1, Object: "Account",
			Rows: []store.Row{good, {ID: "001B", Values: map[string]any{"AnnualRevenue": store.Decimal("12,5")}}}}, store.ErrBadValue, "AnnualRevenue"},
		{"NUL in text", store.Upsert{OrgID: org1, Object: "Account",
			Rows: []store.Row{good, {ID: "001B", Values: map[string]any{"Name": "a\x00b"}}}}, store.ErrBadValue, "Name"},
		{"empty Id", store.Upsert{OrgID: org1, Object: "Account",
			Rows: []store.Row{good, {ID: "", Values: map[string]any{"Name": "x"}}}}, store.ErrBadValue, "Id"},
		{"empty org", store.Upsert{Object: "Account", Rows: []store.Row{good}}, store.ErrBadValue, store.ColOrgID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Upsert(ctx, tc.u)
			var ve *store.ValueError
			if !errors.As(err, &ve) || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want a *store.ValueError wrapping %v", err, tc.want)
			}
			if ve.Column != tc.wantCol {
				t.Errorf("column = %q, want %q", ve.Column, tc.wantCol)
			}
			if n, _ := s.Count(ctx, org1, "Account", true); n != 0 {
				t.Errorf("%d rows written by a failed batch", n)
			}
		})
	}
	t.Run("unknown table", func(t *testing.T) {
		_, err := s.Upsert(ctx, store.Upsert{OrgID: org1, Object: "Nope", Rows: []store.Row{good}})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("invalid table in EnsureTable", func(t *testing.T) {
		for _, tbl := range []store.Table{
			{Name: "Bad Name"}, {Name: ""}, {Name: "_sfsync_jobs"},
			{Name: "Ok", Columns: []store.Column{{Name: "x;drop", Type: store.Text}}},
			{Name: "Ok", Columns: []store.Column{{Name: "A", Type: store.Text}, {Name: "a", Type: store.Text}}},
		} {
			if err := s.EnsureTable(ctx, tbl); !errors.Is(err, store.ErrInvalidName) {
				t.Errorf("EnsureTable(%+v) = %v, want ErrInvalidName", tbl, err)
			}
		}
	})
}

func TestIdentifiersAndOrgs(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, name := range []string{"Order", "Group", "acme__Shipment__c", "User", "select"} {
		t.Run(name, func(t *testing.T) {
			mustEnsure(t, s, store.Table{Name: name, Columns: []store.Column{
				{Name: "Id", Type: store.Text}, {Name: "Order", Type: store.Text}, {Name: "acme__Where__c", Type: store.Text}}})
			for _, org := range []string{org1, org2} {
				res := mustUpsert(t, s, store.Upsert{OrgID: org, Object: name, Rows: []store.Row{
					{ID: "a01000000000001AAA", Values: map[string]any{"Order": org, "acme__Where__c": "x"}}}})
				if res.Inserted != 1 {
					t.Errorf("org %s: %+v, want one insert", org, res)
				}
			}
			for _, org := range []string{org1, org2} {
				if got := readOne(t, s, org, name, "a01000000000001AAA")["Order"]; got != org {
					t.Errorf("org %s Order = %v", org, got)
				}
				if n, err := s.Count(ctx, org, name, false); err != nil || n != 1 {
					t.Errorf("count = %d, %v", n, err)
				}
			}
		})
	}
}

func TestCaseInsensitiveNames(t *testing.T) {
	s := openTest(t)
	mustEnsure(t, s, accountTable)
	ctx := context.Background()
	mustEnsure(t, s, store.Table{Name: "account", Columns: []store.Column{{Name: "name", Type: store.Text}, {Name: "Extra__c", Type: store.Text}}})
	tbl, err := s.Table(ctx, "ACCOUNT")
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]store.Column(nil), accountTable.Columns...), store.Column{Name: "Extra__c", Type: store.Text})
	if diff := cmp.Diff(store.Table{Name: "Account", Columns: want}, tbl); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
	mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "account", Rows: []store.Row{
		{ID: "001A", Values: map[string]any{"name": "lower", "EXTRA__C": "x"}}}})
	got := readOne(t, s, org1, "Account", "001A")
	if got["Name"] != "lower" || got["Extra__c"] != "x" {
		t.Errorf("row = %v", got)
	}
}

func TestEnsureTableEvolves(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mustEnsure(t, s, store.Table{Name: "Contact", Columns: []store.Column{{Name: "Id", Type: store.Text}, {Name: "Email", Type: store.Text}}})
	mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Contact", Rows: []store.Row{{ID: "003A", Values: map[string]any{"Email": "a@b"}}}})
	// A retyped column keeps its type, a dropped one stays, a new one is added.
	mustEnsure(t, s, store.Table{Name: "Contact", Columns: []store.Column{
		{Name: "Id", Type: store.Text}, {Name: "Score__c", Type: store.Numeric, Precision: 5, Scale: 1}, {Name: "Email", Type: store.Integer}}})
	tbl, err := s.Table(ctx, "Contact")
	if err != nil {
		t.Fatal(err)
	}
	want := store.Table{Name: "Contact", Columns: []store.Column{
		{Name: "Id", Type: store.Text}, {Name: "Email", Type: store.Text},
		{Name: "Score__c", Type: store.Numeric, Precision: 5, Scale: 1}}}
	if diff := cmp.Diff(want, tbl); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got := readOne(t, s, org1, "Contact", "003A")
	if got["Email"] != "a@b" || got["Score__c"] != nil {
		t.Errorf("row = %v", got)
	}
	tables, err := s.Tables(ctx)
	if err != nil || len(tables) != 1 || tables[0].Name != "Contact" {
		t.Errorf("Tables = %v, %v", tables, err)
	}
	if _, err := s.Table(ctx, "Nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Table(Nope) = %v, want ErrNotFound", err)
	}
}

func TestReadRowsPaging(t *testing.T) {
	s := openTest(t)
	mustEnsure(t, s, accountTable)
	ctx := context.Background()
	// Ids differ by case: byte order puts upper case first.
	ids := []string{"001b", "001A", "001a", "001B", "001C"}
	var rows []store.Row
	for _, id := range ids {
		rows = append(rows, store.Row{ID: id, Values: map[string]any{"Name": id}})
	}
	mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Account", Rows: rows})
	if _, err := s.Delete(ctx, store.Delete{OrgID: org1, Object: "Account", Rows: []store.Tombstone{{ID: "001C"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.IDs(ctx, org1, "Account")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"001A", "001B", "001a", "001b"}, got); diff != "" {
		t.Errorf("IDs (-want +got):\n%s", diff)
	}
	page, err := s.ReadRows(ctx, store.ReadQuery{OrgID: org1, Object: "Account", AfterID: "001A", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var pageIDs []string
	for _, r := range page {
		pageIDs = append(pageIDs, r.ID)
	}
	if diff := cmp.Diff([]string{"001B", "001a"}, pageIDs); diff != "" {
		t.Errorf("page (-want +got):\n%s", diff)
	}
	all, err := s.ReadRows(ctx, store.ReadQuery{OrgID: org1, Object: "Account", IncludeDeleted: true})
	if err != nil || len(all) != 5 {
		t.Errorf("with deleted: %d rows, %v", len(all), err)
	}
}

// TestJSONNUL: jsonb cannot hold the character U+0000; such JSON is a
// bad value rather than a failed transaction, while an escaped backslash
// followed by u0000 is fine.
func TestJSONNUL(t *testing.T) {
	s := openTest(t)
	mustEnsure(t, s, store.Table{Name: "Doc__c", Columns: []store.Column{{Name: "J__c", Type: store.JSON}}})
	ctx := context.Background()
	_, err := s.Upsert(ctx, store.Upsert{OrgID: org1, Object: "Doc__c", Rows: []store.Row{
		{ID: "a1", Values: map[string]any{"J__c": json.RawMessage(`{"k":"a\u0000b"}`)}}}})
	if !errors.Is(err, store.ErrBadValue) {
		t.Errorf("JSON with \\u0000: %v, want ErrBadValue", err)
	}
	mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Doc__c", Rows: []store.Row{
		{ID: "a1", Values: map[string]any{"J__c": json.RawMessage(`{"k":"a\\u0000b"}`)}}}})
	if got := readOne(t, s, org1, "Doc__c", "a1")["J__c"]; string(got.(json.RawMessage)) != `{"k": "a\\u0000b"}` {
		t.Errorf("J__c = %s", got)
	}
}

// TestBadValueInCopyBatch: the values of a COPY group are checked while
// they are streamed; a bad one still fails the whole batch with a
// *store.ValueError naming the row and column, and writes nothing, on
// the direct path (no stored Id), the staged path and with a small group
// sent before the COPY in the same transaction.
func TestBadValueInCopyBatch(t *testing.T) {
	t1, t2 := ms("2026-03-01T00:00:00Z"), ms("2026-03-02T00:00:00Z")
	batch := func(stamp time.Time, bad string, v any) []store.Row {
		rows := make([]store.Row, 300)
		for i := range rows {
			rows[i] = store.Row{ID: fmt.Sprintf("001%015d", i), Values: map[string]any{
				"Name": fmt.Sprint("n", i), "NumberOfEmployees": int64(i), "AnnualRevenue": store.Decimal("1.5"),
				"IsDeleted": i == 7, "SystemModstamp": stamp}}
		}
		if bad != "" {
			rows[250].Values[bad] = v
		}
		return rows
	}
	bads := []struct {
		col string
		v   any
	}{
		{"NumberOfEmployees", "12"},
		{"Name", "a\x00b"},
		{"AnnualRevenue", store.Decimal("1.234")},
		{"IsDeleted", "yes"},
		{"SystemModstamp", "2026-03-02"},
	}
	for _, stored := range []bool{false, true} {
		for _, small := range []bool{false, true} {
			for _, b := range bads {
				t.Run(fmt.Sprintf("stored=%v/small=%v/%s", stored, small, b.col), func(t *testing.T) {
					s := openTest(t)
					mustEnsure(t, s, accountTable)
					ctx := context.Background()
					if stored {
						mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Account", Rows: batch(t1, "", nil)})
					}
					rows := batch(t2, b.col, b.v)
					if small {
						// Another column set: a group of its own below the threshold.
						rows = append(rows, store.Row{ID: "001999999999999999", Values: map[string]any{"Name": "small"}})
					}
					_, err := s.Upsert(ctx, store.Upsert{OrgID: org1, Object: "Account", Rows: rows})
					var ve *store.ValueError
					if !errors.As(err, &ve) || !errors.Is(err, store.ErrBadValue) {
						t.Fatalf("err = %v, want a *store.ValueError wrapping ErrBadValue", err)
					}
					if ve.Table != "Account" || ve.Column != b.col || ve.RowID != "001000000000000250" {
						t.Errorf("error names %s.%s row %s, want Account.%s row 001000000000000250",
							ve.Table, ve.Column, ve.RowID, b.col)
					}
					want := int64(0)
					if stored {
						want = 300
					}
					if n, _ := s.Count(ctx, org1, "Account", true); n != want {
						t.Errorf("count = %d, want %d", n, want)
					}
					if stored {
						if got := readOne(t, s, org1, "Account", "001000000000000001")["Name"]; got != "n1" {
							t.Errorf("Name = %v, want n1 (unchanged)", got)
						}
					}
					// The connection is usable and the deleted flag, found
					// while streaming, is written.
					res := mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Account", Rows: batch(t2, "", nil)})
					if res.Inserted+res.Updated != 300 {
						t.Errorf("good batch after the bad one: %+v", res)
					}
					if n, _ := s.Count(ctx, org1, "Account", false); n != 299 {
						t.Errorf("count without deleted = %d, want 299", n)
					}
				})
			}
		}
	}
}

// TestCopyBatchNames: rows of a large batch are taken to have the first
// row's names and checked as they are streamed; a row with as many keys
// but other names is still written right, or refused as it should be.
func TestCopyBatchNames(t *testing.T) {
	stamp := ms("2026-03-01T00:00:00Z")
	batch := func() []store.Row {
		rows := make([]store.Row, 200)
		for i := range rows {
			id := fmt.Sprintf("001%015d", i)
			rows[i] = store.Row{ID: id, Values: map[string]any{"Id": id, "Name": fmt.Sprint("n", i),
				"NumberOfEmployees": int64(i), "SystemModstamp": stamp}}
		}
		return rows
	}
	ctx := context.Background()
	t.Run("other column, same count", func(t *testing.T) {
		s := openTest(t)
		mustEnsure(t, s, accountTable)
		rows := batch()
		delete(rows[150].Values, "NumberOfEmployees")
		rows[150].Values["AnnualRevenue"] = store.Decimal("2.50")
		delete(rows[160].Values, "Id")
		rows[160].Values["IsDeleted"] = true
		res := mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Account", Rows: rows})
		if res.Inserted != 200 {
			t.Fatalf("result %+v, want 200 inserted", res)
		}
		got := readOne(t, s, org1, "Account", rows[150].ID)
		if got["NumberOfEmployees"] != nil || got["AnnualRevenue"] != store.Decimal("2.5") && got["AnnualRevenue"] != store.Decimal("2.50") {
			t.Errorf("row 150 = %v", got)
		}
		if n, _ := s.Count(ctx, org1, "Account", false); n != 199 {
			t.Errorf("count without deleted = %d, want 199", n)
		}
		if got := readOne(t, s, org1, "Account", rows[151].ID)["NumberOfEmployees"]; got != int64(151) {
			t.Errorf("row 151 NumberOfEmployees = %v", got)
		}
	})
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		col  string
		want error
	}{
		{"unknown column", func(m map[string]any) { delete(m, "Name"); m["Nope__c"] = "x" }, "Nope__c", store.ErrUnknownColumn},
		{"Id value differs", func(m map[string]any) { m["Id"] = "001other" }, "Id", store.ErrBadValue},
		{"column twice", func(m map[string]any) { delete(m, "Name"); m["name"] = "x"; m["NAME"] = "y"; delete(m, "Id") }, "Name", store.ErrBadValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			mustEnsure(t, s, accountTable)
			rows := batch()
			tc.edit(rows[120].Values)
			_, err := s.Upsert(ctx, store.Upsert{OrgID: org1, Object: "Account", Rows: rows})
			var ve *store.ValueError
			if !errors.As(err, &ve) || !errors.Is(err, tc.want) || ve.Column != tc.col || ve.RowID != rows[120].ID {
				t.Fatalf("err = %v, want a *store.ValueError for %s of row %s wrapping %v", err, tc.col, rows[120].ID, tc.want)
			}
			if n, _ := s.Count(ctx, org1, "Account", true); n != 0 {
				t.Errorf("%d rows written by a failed batch", n)
			}
		})
	}
	t.Run("first row in another case", func(t *testing.T) {
		s := openTest(t)
		mustEnsure(t, s, accountTable)
		rows := batch()
		rows[0].Values = map[string]any{"name": "lower", "SystemModstamp": stamp, "numberofemployees": int64(0), "ID": rows[0].ID}
		if res := mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Account", Rows: rows}); res.Inserted != 200 {
			t.Fatalf("result %+v", res)
		}
		if got := readOne(t, s, org1, "Account", rows[0].ID)["Name"]; got != "lower" {
			t.Errorf("row 0 Name = %v", got)
		}
	})
}

// TestCopyNewSomeStored: a large batch whose lowest and highest Ids are
// new but a middle one is stored fails the direct COPY on the primary
// key; the savepoint is rolled back and the merge writes every row once,
// with the guard.
func TestCopyNewSomeStored(t *testing.T) {
	s := openTest(t)
	mustEnsure(t, s, accountTable)
	ctx := context.Background()
	t1, t2 := ms("2026-04-01T00:00:00Z"), ms("2026-04-02T00:00:00Z")
	mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Account", Rows: []store.Row{
		{ID: "001000000000000100", Values: map[string]any{"Name": "stored", "SystemModstamp": t2}},
		{ID: "001000000000000150", Values: map[string]any{"Name": "old", "SystemModstamp": t1}},
	}})
	rows := make([]store.Row, 300)
	for i := range rows {
		rows[i] = store.Row{ID: fmt.Sprintf("001%015d", i), Values: map[string]any{"Name": fmt.Sprint("n", i), "SystemModstamp": t2.Add(-time.Hour)}}
	}
	res := mustUpsert(t, s, store.Upsert{OrgID: org1, Object: "Account", Rows: rows})
	if diff := cmp.Diff(store.UpsertResult{Inserted: 298, Updated: 1, Stale: 1}, res); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n, _ := s.Count(ctx, org1, "Account", true); n != 300 {
		t.Errorf("count = %d, want 300", n)
	}
	for id, want := range map[string]string{"001000000000000100": "stored", "001000000000000150": "n150", "001000000000000299": "n299"} {
		if got := readOne(t, s, org1, "Account", id)["Name"]; got != want {
			t.Errorf("%s Name = %v, want %s", id, got, want)
		}
	}
}
