package postgres

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsync/salesforce-sync/store"
)

// TestPipelineAtomic: single statements go out as one pipeline without
// BEGIN; when a later statement fails on the server, the earlier ones
// and the receipts must not be committed, for the pipeline is one
// implicit transaction.
func TestPipelineAtomic(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	mustEnsure(t, s, accountTable)
	// A constraint only the server knows makes the second round fail
	// after the first one ran.
	if _, err := s.pool.Exec(ctx, `ALTER TABLE `+s.qschema+`."Account" ADD CONSTRAINT no_bad CHECK ("Name" <> 'bad')`); err != nil {
		t.Fatal(err)
	}
	const rcpt = "04l000000000001AAA"
	u := store.Upsert{OrgID: org1, Object: "Account", Receipts: []string{rcpt}, Rows: []store.Row{
		{ID: "001000000000001AAA", Values: map[string]any{"Name": "good"}},
		{ID: "001000000000002AAA", Values: map[string]any{"NumberOfEmployees": int64(3)}},
		// Same Id again: a second round, hence a second statement.
		{ID: "001000000000001AAA", Values: map[string]any{"Name": "bad"}},
	}}
	if _, err := s.Upsert(ctx, u); err == nil {
		t.Fatal("Upsert succeeded despite the failing statement")
	}
	for _, id := range []string{"001000000000001AAA", "001000000000002AAA"} {
		if got := readOne(t, s, org1, "Account", id); got != nil {
			t.Errorf("row %s committed by a failed Upsert: %v", id, got)
		}
	}
	seen, err := s.HasReceipts(ctx, org1, []string{rcpt})
	if err != nil {
		t.Fatal(err)
	}
	if seen[rcpt] {
		t.Error("receipt committed by a failed Upsert")
	}

	// The connection is usable again and the same shape now succeeds.
	u.Rows[2].Values = map[string]any{"Name": "fine"}
	res := mustUpsert(t, s, u)
	if diff := cmp.Diff(store.UpsertResult{Inserted: 2, Updated: 1}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if got := readOne(t, s, org1, "Account", "001000000000001AAA"); got["Name"] != "fine" {
		t.Errorf("Name = %v, want fine", got["Name"])
	}
}

// TestArrayParamsNulls: the hand-encoded arrays carry NULLs of every
// column type and values next to them.
func TestArrayParamsNulls(t *testing.T) {
	s := openTest(t)
	tbl := store.Table{Name: "Every__c", Columns: []store.Column{
		{Name: "Id", Type: store.Text},
		{Name: "T__c", Type: store.Text},
		{Name: "I__c", Type: store.Integer},
		{Name: "N__c", Type: store.Numeric, Precision: 10, Scale: 2},
		{Name: "R__c", Type: store.Real},
		{Name: "B__c", Type: store.Boolean},
		{Name: "D__c", Type: store.Date},
		{Name: "DT__c", Type: store.DateTime},
		{Name: "TM__c", Type: store.Time},
		{Name: "J__c", Type: store.JSON},
		{Name: "BL__c", Type: store.Blob},
	}}
	mustEnsure(t, s, tbl)
	full := map[string]any{
		"T__c": "text", "I__c": int64(-7), "N__c": store.Decimal("12.50"), "R__c": 1.5, "B__c": true,
		"D__c": ms("2026-02-03T00:00:00.000Z"), "DT__c": ms("2026-02-03T04:05:06.789Z"),
		"TM__c": "04:05:06.789Z", "J__c": []byte(`{"a":[1,2]}`), "BL__c": []byte{0, 1, 2},
	}
	empty := map[string]any{}
	for k := range full {
		empty[k] = nil
	}
	res := mustUpsert(t, s, store.Upsert{OrgID: org1, Object: tbl.Name, Rows: []store.Row{
		{ID: "a01000000000001AAA", Values: full},
		{ID: "a01000000000002AAA", Values: empty},
	}})
	if diff := cmp.Diff(store.UpsertResult{Inserted: 2}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	for id, want := range map[string]map[string]any{"a01000000000001AAA": full, "a01000000000002AAA": empty} {
		got := readOne(t, s, org1, tbl.Name, id)
		for k, w := range want {
			g := got[k]
			if w == nil {
				if g != nil {
					t.Errorf("%s %s = %#v, want NULL", id, k, g)
				}
				continue
			}
			if g == nil {
				t.Errorf("%s %s is NULL, want %v", id, k, w)
			}
		}
	}
}
