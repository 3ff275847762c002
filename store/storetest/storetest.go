package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sfsync/salesforce-sync/store"
)

// RunOptions configures Run.
type RunOptions struct {
	// Reopen closes s and opens the same database again, returning the new
	// Store. Nil means the backend cannot reopen (an in-memory Store), and
	// the durability case is skipped.
	Reopen func(t *testing.T, s store.Store) store.Store
}

// Run runs the conformance suite. newStore returns a fresh, empty Store
// for each case; it may call t.Fatal or t.Skip. At most one RunOptions is
// used.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, opts ...RunOptions) {
	t.Helper()
	var o RunOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			h := &harness{t: t, s: s, ctx: t.Context(), reopen: o.Reopen}
			t.Cleanup(func() { h.s.Close() })
			c.run(h)
		})
	}
}

type testCase struct {
	name string
	run  func(h *harness)
}

// cases lists every case in order; the case functions live in records.go
// and state.go.
var cases = []testCase{
	{"InsertUpdatePartialColumns", testInsertUpdatePartial},
	{"TimestampGuard", testTimestampGuard},
	{"TimestampMissing", testTimestampMissing},
	{"DuplicateIDInBatch", testDuplicateInBatch},
	{"DeleteAndUndelete", testDeleteUndelete},
	{"HardDelete", testHardDelete},
	{"SameIDInTwoOrgs", testTwoOrgs},
	{"SchemaEvolution", testSchemaEvolution},
	{"QuotedIdentifiers", testQuotedIdentifiers},
	{"CaseInsensitiveNames", testCaseInsensitiveNames},
	{"InvalidNames", testInvalidNames},
	{"UnicodeLongTextNulls", testUnicodeLongTextNulls},
	{"ColumnTypesRoundTrip", testColumnTypes},
	{"LargeBatch", testLargeBatch},
	{"ManyColumns", testManyColumns},
	{"ConcurrentRacingVersions", testConcurrentVersions},
	{"BadInput", testBadInput},
	{"UnknownTable", testUnknownTable},
	{"CanceledContext", testCanceledContext},
	{"CountReadRowsIDs", testCountReadIDs},
	{"Connections", testConnections},
	{"ConnectionVersionConflict", testConnectionConflict},
	{"SyncState", testSyncState},
	{"SyncStateCaseInsensitive", testSyncStateCaseInsensitive},
	{"Jobs", testJobs},
	{"Receipts", testReceipts},
	{"ObjectMeta", testObjectMeta},
	{"ObjectMetaCaseInsensitive", testObjectMetaCaseInsensitive},
	{"ReopenKeepsEverything", testReopen},
	{"ErrClosedAfterClose", testClosed},
}

// harness bundles what a case needs.
type harness struct {
	t      *testing.T
	s      store.Store
	ctx    context.Context
	reopen func(t *testing.T, s store.Store) store.Store
}

const (
	org1 = "00D000000000001AAA"
	org2 = "00D000000000002AAA"
)

// base is the reference Salesforce timestamp; ts(n) is n seconds after it.
var base = time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

func ts(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }

// id returns an 18-character record Id; ids sort as their numbers do.
func id(n int) string { return fmt.Sprintf("001%012dAAA", n) }

// account is the schema most cases use.
var account = store.Table{Name: "Account", Columns: []store.Column{
	{Name: "Id", Type: store.Text},
	{Name: "Name", Type: store.Text},
	{Name: "Amount__c", Type: store.Numeric, Precision: 18, Scale: 2},
	{Name: "IsDeleted", Type: store.Boolean},
	{Name: "LastModifiedDate", Type: store.DateTime},
	{Name: "SystemModstamp", Type: store.DateTime},
}}

// accountColumns are the field columns of account, for expectations.
var accountColumns = []string{"Id", "Name", "Amount__c", "IsDeleted", "LastModifiedDate", "SystemModstamp"}

func (h *harness) ensure(t store.Table) {
	h.t.Helper()
	if err := h.s.EnsureTable(h.ctx, t); err != nil {
		h.t.Fatalf("EnsureTable(%s): %v", t.Name, err)
	}
}

func (h *harness) upsert(org, object string, rows ...store.Row) store.UpsertResult {
	h.t.Helper()
	res, err := h.s.Upsert(h.ctx, store.Upsert{OrgID: org, Object: object, Rows: rows})
	if err != nil {
		h.t.Fatalf("Upsert(%s, %d rows): %v", object, len(rows), err)
	}
	return res
}

func (h *harness) wantUpsert(org, object string, want store.UpsertResult, rows ...store.Row) {
	h.t.Helper()
	if got := h.upsert(org, object, rows...); got != want {
		h.t.Errorf("Upsert(%s) = %+v, want %+v", object, got, want)
	}
}

func (h *harness) del(d store.Delete) store.DeleteResult {
	h.t.Helper()
	res, err := h.s.Delete(h.ctx, d)
	if err != nil {
		h.t.Fatalf("Delete(%s): %v", d.Object, err)
	}
	return res
}

// rows reads every row of a table, keyed by Id, checking the shape of each
// row on the way: every column present, Id consistent, _synced_at a UTC
// time and _deleted_at nil or a UTC time.
func (h *harness) rows(org, object string, includeDeleted bool) map[string]map[string]any {
	h.t.Helper()
	rs, err := h.s.ReadRows(h.ctx, store.ReadQuery{OrgID: org, Object: object, IncludeDeleted: includeDeleted})
	if err != nil {
		h.t.Fatalf("ReadRows(%s): %v", object, err)
	}
	tb, err := h.s.Table(h.ctx, object)
	if err != nil {
		h.t.Fatalf("Table(%s): %v", object, err)
	}
	out := map[string]map[string]any{}
	for i, r := range rs {
		if i > 0 && rs[i-1].ID >= r.ID {
			h.t.Errorf("ReadRows(%s): Id %s after %s, want ascending", object, r.ID, rs[i-1].ID)
		}
		h.checkShape(tb, r)
		out[r.ID] = r.Values
	}
	return out
}

func (h *harness) checkShape(tb store.Table, r store.Row) {
	h.t.Helper()
	if len(r.Values) != len(tb.Columns)+2 {
		h.t.Errorf("row %s has %d values, want %d columns + _synced_at + _deleted_at: %v", r.ID, len(r.Values), len(tb.Columns), keys(r.Values))
	}
	for _, c := range tb.Columns {
		if _, ok := r.Values[c.Name]; !ok {
			h.t.Errorf("row %s lacks column %s", r.ID, c.Name)
		}
	}
	if got := r.Values["Id"]; got != r.ID {
		h.t.Errorf("row %s: Values[Id] = %#v", r.ID, got)
	}
	synced, ok := r.Values[store.ColSyncedAt].(time.Time)
	if !ok || synced.IsZero() || synced.Location() != time.UTC {
		h.t.Errorf("row %s: _synced_at = %#v, want a UTC time.Time", r.ID, r.Values[store.ColSyncedAt])
	}
	if d := r.Values[store.ColDeleted]; d != nil {
		if dt, ok := d.(time.Time); !ok || dt.IsZero() || dt.Location() != time.UTC {
			h.t.Errorf("row %s: _deleted_at = %#v, want nil or a UTC time.Time", r.ID, d)
		}
	}
}

// fields returns the field values of a row without the system columns.
func fields(v map[string]any) map[string]any {
	if v == nil {
		return nil
	}
	out := map[string]any{}
	for k, x := range v {
		if k != store.ColSyncedAt && k != store.ColDeleted {
			out[k] = x
		}
	}
	return out
}

// row builds a Row; kv alternates column names and values.
func row(id string, kv ...any) store.Row {
	v := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i].(string)] = kv[i+1]
	}
	return store.Row{ID: id, Values: v}
}

// want is the full expected field map of an account row.
func wantAccount(id string, kv ...any) map[string]any {
	v := map[string]any{}
	for _, c := range accountColumns {
		v[c] = nil
	}
	v["Id"] = id
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i].(string)] = kv[i+1]
	}
	return v
}

var cmpOpts = []cmp.Option{
	cmpopts.EquateEmpty(),
	cmp.Comparer(equalDecimal),
	cmp.Comparer(equalJSON),
}

// equalDecimal compares exact decimals by value: a native numeric column
// gives back "0.00" for "0" at scale 2, and drops leading zeros, and both
// are the same number. Digits are never rounded, so value equality is
// still exact.
func equalDecimal(a, b store.Decimal) bool {
	x, okx := new(big.Rat).SetString(string(a))
	y, oky := new(big.Rat).SetString(string(b))
	if !okx || !oky {
		return a == b
	}
	return x.Cmp(y) == 0
}

// equalJSON compares JSON documents by value, not by spelling: a jsonb
// column keeps the value and normalises spacing and key order.
func equalJSON(a, b json.RawMessage) bool {
	var x, y any
	dx := json.NewDecoder(bytes.NewReader(a))
	dy := json.NewDecoder(bytes.NewReader(b))
	dx.UseNumber()
	dy.UseNumber()
	if dx.Decode(&x) != nil || dy.Decode(&y) != nil {
		return bytes.Equal(a, b)
	}
	return cmp.Equal(x, y, cmp.Comparer(func(m, n json.Number) bool {
		return equalDecimal(store.Decimal(m), store.Decimal(n))
	}))
}

func (h *harness) diff(what string, want, got any) {
	h.t.Helper()
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		h.t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func (h *harness) count(org, object string, includeDeleted bool) int64 {
	h.t.Helper()
	n, err := h.s.Count(h.ctx, org, object, includeDeleted)
	if err != nil {
		h.t.Fatalf("Count(%s): %v", object, err)
	}
	return n
}

func (h *harness) wantCount(org, object string, includeDeleted bool, want int64) {
	h.t.Helper()
	if got := h.count(org, object, includeDeleted); got != want {
		h.t.Errorf("Count(%s, %s, includeDeleted=%v) = %d, want %d", org, object, includeDeleted, got, want)
	}
}

// wantErr checks that err matches target with errors.Is.
func (h *harness) wantErr(what string, err, target error) {
	h.t.Helper()
	if !errors.Is(err, target) {
		h.t.Errorf("%s: error %v, want errors.Is %v", what, err, target)
	}
}

func keys(m map[string]any) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}
