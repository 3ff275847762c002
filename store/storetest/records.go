package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// testInsertUpdatePartial: an Upsert inserts rows not stored and updates
// stored ones; a row carries only the columns it sets, and only those
// change; a column set to nil becomes NULL; every column of the table is
// read back, NULL as nil.
func testInsertUpdatePartial(h *harness) {
	h.ensure(account)
	before := time.Now().Add(-time.Second)
	h.wantUpsert(org1, "Account", store.UpsertResult{Inserted: 2},
		row(id(1), "Name", "Acme", "Amount__c", store.Decimal("10.50"), "SystemModstamp", ts(1)),
		row(id(2), "Name", "Globex"))
	h.diff("after insert", map[string]map[string]any{
		id(1): wantAccount(id(1), "Name", "Acme", "Amount__c", store.Decimal("10.50"), "SystemModstamp", ts(1)),
		id(2): wantAccount(id(2), "Name", "Globex"),
	}, mapFields(h.rows(org1, "Account", false)))

	// Only Name changes; Amount__c and SystemModstamp stay.
	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 1}, row(id(1), "Name", "Acme Corp"))
	// Amount__c set to nil becomes NULL; Name stays.
	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 1, Inserted: 1},
		row(id(2), "Amount__c", nil, "LastModifiedDate", ts(3)),
		row(id(3)))
	got := h.rows(org1, "Account", false)
	h.diff("after partial updates", map[string]map[string]any{
		id(1): wantAccount(id(1), "Name", "Acme Corp", "Amount__c", store.Decimal("10.50"), "SystemModstamp", ts(1)),
		id(2): wantAccount(id(2), "Name", "Globex", "LastModifiedDate", ts(3)),
		id(3): wantAccount(id(3)),
	}, mapFields(got))
	after := time.Now().Add(time.Second)
	for rid, v := range got {
		s, _ := v[store.ColSyncedAt].(time.Time)
		if s.Before(before) || s.After(after) {
			h.t.Errorf("row %s: _synced_at %v, want the local time of the write", rid, s)
		}
		if v[store.ColDeleted] != nil {
			h.t.Errorf("row %s: _deleted_at %v, want nil", rid, v[store.ColDeleted])
		}
	}
	h.wantCount(org1, "Account", false, 3)
}

func mapFields(m map[string]map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for k, v := range m {
		out[k] = fields(v)
	}
	return out
}

// testTimestampGuard: a row older than the stored one (by SystemModstamp,
// else LastModifiedDate) changes nothing and counts as stale; an equal one
// applies (a redelivery is idempotent); a newer one applies.
// SystemModstamp is compared when either row has it, before
// LastModifiedDate.
func testTimestampGuard(h *harness) {
	h.ensure(account)
	h.upsert(org1, "Account", row(id(1), "Name", "v10", "SystemModstamp", ts(10)))

	h.wantUpsert(org1, "Account", store.UpsertResult{Stale: 1}, row(id(1), "Name", "v5", "SystemModstamp", ts(5)))
	h.wantUpsert(org1, "Account", store.UpsertResult{Stale: 1}, row(id(1), "Name", "v10-1ms", "SystemModstamp", ts(10).Add(-time.Millisecond)))
	h.diff("after stale", wantAccount(id(1), "Name", "v10", "SystemModstamp", ts(10)), fields(h.rows(org1, "Account", false)[id(1)]))

	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 1}, row(id(1), "Name", "v10 again", "SystemModstamp", ts(10)))
	h.diff("after equal", wantAccount(id(1), "Name", "v10 again", "SystemModstamp", ts(10)), fields(h.rows(org1, "Account", false)[id(1)]))

	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 1}, row(id(1), "Name", "v20", "SystemModstamp", ts(20)))
	h.diff("after newer", wantAccount(id(1), "Name", "v20", "SystemModstamp", ts(20)), fields(h.rows(org1, "Account", false)[id(1)]))

	// LastModifiedDate is the guard when SystemModstamp is absent on both.
	h.upsert(org1, "Account", row(id(2), "Name", "lmd10", "LastModifiedDate", ts(10)))
	h.wantUpsert(org1, "Account", store.UpsertResult{Stale: 1}, row(id(2), "Name", "lmd5", "LastModifiedDate", ts(5)))
	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 1}, row(id(2), "Name", "lmd11", "LastModifiedDate", ts(11)))

	// SystemModstamp wins over LastModifiedDate: the incoming row has a
	// newer LastModifiedDate but an older SystemModstamp.
	h.upsert(org1, "Account", row(id(3), "Name", "s10", "SystemModstamp", ts(10), "LastModifiedDate", ts(1)))
	h.wantUpsert(org1, "Account", store.UpsertResult{Stale: 1},
		row(id(3), "Name", "s5", "SystemModstamp", ts(5), "LastModifiedDate", ts(50)))

	got := mapFields(h.rows(org1, "Account", false))
	h.diff("final", map[string]map[string]any{
		id(1): wantAccount(id(1), "Name", "v20", "SystemModstamp", ts(20)),
		id(2): wantAccount(id(2), "Name", "lmd11", "LastModifiedDate", ts(11)),
		id(3): wantAccount(id(3), "Name", "s10", "SystemModstamp", ts(10), "LastModifiedDate", ts(1)),
	}, got)
}

// testTimestampMissing: where either side has no timestamp, the row
// applies: a stored row without one is overwritten by any row, and a row
// without one overwrites whatever is stored. A table without timestamp
// columns always applies.
func testTimestampMissing(h *harness) {
	h.ensure(account)
	h.upsert(org1, "Account", row(id(1), "Name", "untimed"))
	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 1}, row(id(1), "Name", "timed", "SystemModstamp", ts(10)))
	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 1}, row(id(1), "Name", "untimed again"))
	// An explicit nil timestamp is no timestamp.
	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 1}, row(id(1), "Name", "nil stamp", "SystemModstamp", nil))
	h.diff("row", wantAccount(id(1), "Name", "nil stamp"), fields(h.rows(org1, "Account", false)[id(1)]))

	plain := store.Table{Name: "Note__c", Columns: []store.Column{{Name: "Id", Type: store.Text}, {Name: "Body__c", Type: store.Text}}}
	h.ensure(plain)
	h.upsert(org1, "Note__c", row(id(1), "Body__c", "a"))
	h.wantUpsert(org1, "Note__c", store.UpsertResult{Updated: 1}, row(id(1), "Body__c", "b"))
	h.diff("untimed table", map[string]any{"Id": id(1), "Body__c": "b"}, fields(h.rows(org1, "Note__c", false)[id(1)]))
}

// testDuplicateInBatch: the rows of one batch apply in order, so a row
// that appears twice is inserted and then updated under the guard.
func testDuplicateInBatch(h *harness) {
	h.ensure(account)
	h.wantUpsert(org1, "Account", store.UpsertResult{Inserted: 1, Updated: 1, Stale: 1},
		row(id(1), "Name", "a", "SystemModstamp", ts(1)),
		row(id(1), "Name", "b", "SystemModstamp", ts(3)),
		row(id(1), "Name", "c", "SystemModstamp", ts(2)))
	h.diff("row", wantAccount(id(1), "Name", "b", "SystemModstamp", ts(3)), fields(h.rows(org1, "Account", false)[id(1)]))
}

// testDeleteUndelete: Delete marks rows deleted (IsDeleted true where the
// column exists, _deleted_at set) under the same guard: a tombstone older
// than the stored row leaves it; one for a row not stored counts as
// missing. A tombstone's Modstamp becomes the row's timestamp, so an
// upsert older than the delete does not undelete, and a newer one does
// (resetting IsDeleted when the row does not set it). A row upserted with
// IsDeleted true is stored as deleted. Deleted rows are left out of Count,
// IDs and ReadRows unless asked for.
func testDeleteUndelete(h *harness) {
	h.ensure(account)
	h.upsert(org1, "Account",
		row(id(1), "Name", "a", "SystemModstamp", ts(10), "IsDeleted", false),
		row(id(2), "Name", "b", "SystemModstamp", ts(10)),
		row(id(3), "Name", "c", "SystemModstamp", ts(10)))
	before := time.Now().Add(-time.Second)
	got := h.del(store.Delete{OrgID: org1, Object: "Account", Rows: []store.Tombstone{
		{ID: id(1), Modstamp: ts(20)},
		{ID: id(2)},
		{ID: id(3), Modstamp: ts(5)},
		{ID: id(4), Modstamp: ts(20)},
	}})
	h.diff("delete result", store.DeleteResult{Deleted: 2, Stale: 1, Missing: 1}, got)
	h.wantCount(org1, "Account", false, 1)
	h.wantCount(org1, "Account", true, 3)
	ids, err := h.s.IDs(h.ctx, org1, "Account")
	if err != nil {
		h.t.Fatal(err)
	}
	h.diff("IDs", []string{id(3)}, ids)
	h.diff("ReadRows without deleted", []string{id(3)}, keysOf(h.rows(org1, "Account", false)))

	all := h.rows(org1, "Account", true)
	for _, rid := range []string{id(1), id(2)} {
		d, ok := all[rid][store.ColDeleted].(time.Time)
		if !ok || d.Before(before) || d.After(time.Now().Add(time.Second)) {
			h.t.Errorf("row %s: _deleted_at = %#v, want the local time of the delete", rid, all[rid][store.ColDeleted])
		}
	}
	h.diff("deleted rows", map[string]map[string]any{
		id(1): wantAccount(id(1), "Name", "a", "IsDeleted", true, "SystemModstamp", ts(20)),
		id(2): wantAccount(id(2), "Name", "b", "IsDeleted", true, "SystemModstamp", ts(10)),
		id(3): wantAccount(id(3), "Name", "c", "SystemModstamp", ts(10)),
	}, mapFields(all))

	// Deleting again is idempotent.
	h.diff("second delete", store.DeleteResult{Deleted: 1}, h.del(store.Delete{OrgID: org1, Object: "Account", Rows: []store.Tombstone{{ID: id(1), Modstamp: ts(20)}}}))

	// Older than the delete: stays deleted.
	h.wantUpsert(org1, "Account", store.UpsertResult{Stale: 1}, row(id(1), "Name", "a15", "SystemModstamp", ts(15)))
	h.wantCount(org1, "Account", false, 1)
	// Newer: undeleted.
	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 1}, row(id(1), "Name", "a25", "SystemModstamp", ts(25)))
	// No timestamp on the tombstone's row side: the untimed upsert applies.
	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 1}, row(id(2), "Name", "b again"))
	h.wantCount(org1, "Account", false, 3)
	now := h.rows(org1, "Account", false)
	h.diff("undeleted", map[string]map[string]any{
		id(1): wantAccount(id(1), "Name", "a25", "IsDeleted", false, "SystemModstamp", ts(25)),
		id(2): wantAccount(id(2), "Name", "b again", "IsDeleted", false, "SystemModstamp", ts(10)),
		id(3): wantAccount(id(3), "Name", "c", "SystemModstamp", ts(10)),
	}, mapFields(now))
	for rid, v := range now {
		if v[store.ColDeleted] != nil {
			h.t.Errorf("row %s: _deleted_at = %v after undelete, want nil", rid, v[store.ColDeleted])
		}
	}

	// A row that arrives with IsDeleted true (queryAll) is stored deleted.
	h.wantUpsert(org1, "Account", store.UpsertResult{Inserted: 1}, row(id(5), "Name", "e", "IsDeleted", true, "SystemModstamp", ts(1)))
	h.wantCount(org1, "Account", false, 3)
	h.wantCount(org1, "Account", true, 4)

	// A table without IsDeleted is marked through _deleted_at alone.
	plain := store.Table{Name: "Note__c", Columns: []store.Column{{Name: "Body__c", Type: store.Text}}}
	h.ensure(plain)
	h.upsert(org1, "Note__c", row(id(1), "Body__c", "x"))
	h.diff("plain delete", store.DeleteResult{Deleted: 1}, h.del(store.Delete{OrgID: org1, Object: "Note__c", Rows: []store.Tombstone{{ID: id(1)}}}))
	h.wantCount(org1, "Note__c", false, 0)
	h.wantCount(org1, "Note__c", true, 1)
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

// testHardDelete: with Hard the rows are removed, still under the guard; a
// removed row leaves no trace, so a later upsert inserts it again.
func testHardDelete(h *harness) {
	h.ensure(account)
	h.upsert(org1, "Account",
		row(id(1), "Name", "a", "SystemModstamp", ts(10)),
		row(id(2), "Name", "b", "SystemModstamp", ts(10)))
	got := h.del(store.Delete{OrgID: org1, Object: "Account", Hard: true, Rows: []store.Tombstone{
		{ID: id(1), Modstamp: ts(10)}, {ID: id(2), Modstamp: ts(9)}, {ID: id(3)},
	}})
	h.diff("hard delete", store.DeleteResult{Deleted: 1, Stale: 1, Missing: 1}, got)
	h.diff("rows left", []string{id(2)}, keysOf(h.rows(org1, "Account", true)))
	h.wantCount(org1, "Account", true, 1)
	// A soft-deleted row can be removed too.
	h.del(store.Delete{OrgID: org1, Object: "Account", Rows: []store.Tombstone{{ID: id(2)}}})
	h.diff("hard after soft", store.DeleteResult{Deleted: 1}, h.del(store.Delete{OrgID: org1, Object: "Account", Hard: true, Rows: []store.Tombstone{{ID: id(2)}}}))
	h.wantCount(org1, "Account", true, 0)
	h.wantUpsert(org1, "Account", store.UpsertResult{Inserted: 1}, row(id(1), "Name", "back", "SystemModstamp", ts(1)))
}

// testTwoOrgs: rows are keyed by (org, Id): a sandbox shares record Ids
// with production, and neither org's writes, deletes or counts touch the
// other's rows.
func testTwoOrgs(h *harness) {
	h.ensure(account)
	h.wantUpsert(org1, "Account", store.UpsertResult{Inserted: 1}, row(id(1), "Name", "prod", "SystemModstamp", ts(10)))
	h.wantUpsert(org2, "Account", store.UpsertResult{Inserted: 1}, row(id(1), "Name", "sandbox", "SystemModstamp", ts(1)))
	h.wantUpsert(org2, "Account", store.UpsertResult{Inserted: 1}, row(id(2), "Name", "sandbox only"))
	h.diff("org1", map[string]map[string]any{id(1): wantAccount(id(1), "Name", "prod", "SystemModstamp", ts(10))}, mapFields(h.rows(org1, "Account", true)))
	h.diff("org2", map[string]map[string]any{
		id(1): wantAccount(id(1), "Name", "sandbox", "SystemModstamp", ts(1)),
		id(2): wantAccount(id(2), "Name", "sandbox only"),
	}, mapFields(h.rows(org2, "Account", true)))
	h.diff("delete in org1", store.DeleteResult{Deleted: 1}, h.del(store.Delete{OrgID: org1, Object: "Account", Rows: []store.Tombstone{{ID: id(1)}}}))
	h.diff("delete missing in org1", store.DeleteResult{Missing: 1}, h.del(store.Delete{OrgID: org1, Object: "Account", Hard: true, Rows: []store.Tombstone{{ID: id(2)}}}))
	h.wantCount(org1, "Account", false, 0)
	h.wantCount(org2, "Account", false, 2)
	ids, err := h.s.IDs(h.ctx, org2, "Account")
	if err != nil {
		h.t.Fatal(err)
	}
	h.diff("org2 IDs", []string{id(1), id(2)}, ids)
}

// testSchemaEvolution: EnsureTable on an existing table adds the columns
// it lacks and keeps the rows; it never drops a column (a field removed in
// Salesforce stays) nor retypes one. Table and Tables report the stored
// schema, Tables ordered by name.
func testSchemaEvolution(h *harness) {
	v1 := store.Table{Name: "Invoice__c", Columns: []store.Column{
		{Name: "Id", Type: store.Text},
		{Name: "Name", Type: store.Text},
		{Name: "Old__c", Type: store.Text},
	}}
	h.ensure(v1)
	h.upsert(org1, "Invoice__c", row(id(1), "Name", "a", "Old__c", "kept"), row(id(2), "Name", "b"))
	v2 := store.Table{Name: "Invoice__c", Columns: []store.Column{
		{Name: "Id", Type: store.Text},
		{Name: "Name", Type: store.Integer}, // retyped in Salesforce: stays text
		{Name: "Total__c", Type: store.Numeric, Precision: 16, Scale: 2},
		{Name: "Paid__c", Type: store.Boolean},
		{Name: "Due__c", Type: store.Date},
	}}
	h.ensure(v2)
	h.ensure(v2) // idempotent

	tb, err := h.s.Table(h.ctx, "Invoice__c")
	if err != nil {
		h.t.Fatal(err)
	}
	h.diff("schema", map[string]store.ColumnType{
		"Id": store.Text, "Name": store.Text, "Old__c": store.Text,
		"Total__c": store.Numeric, "Paid__c": store.Boolean, "Due__c": store.Date,
	}, columnTypes(tb))
	if tb.Name != "Invoice__c" {
		h.t.Errorf("Table name %q", tb.Name)
	}
	if c, _ := tb.Column("Total__c"); c.Precision != 16 || c.Scale != 2 {
		h.t.Errorf("Total__c = %+v, want precision 16, scale 2", c)
	}

	due := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	h.wantUpsert(org1, "Invoice__c", store.UpsertResult{Updated: 1, Inserted: 1},
		row(id(2), "Total__c", store.Decimal("99.90"), "Paid__c", true, "Due__c", due, "Old__c", "still writable"),
		row(id(3), "Name", "c"))
	h.diff("rows", map[string]map[string]any{
		id(1): {"Id": id(1), "Name": "a", "Old__c": "kept", "Total__c": nil, "Paid__c": nil, "Due__c": nil},
		id(2): {"Id": id(2), "Name": "b", "Old__c": "still writable", "Total__c": store.Decimal("99.90"), "Paid__c": true, "Due__c": due},
		id(3): {"Id": id(3), "Name": "c", "Old__c": nil, "Total__c": nil, "Paid__c": nil, "Due__c": nil},
	}, mapFields(h.rows(org1, "Invoice__c", false)))

	h.ensure(store.Table{Name: "Beta__c"})
	h.ensure(store.Table{Name: "Alpha__c", Columns: []store.Column{{Name: "X__c", Type: store.Real}}})
	all, err := h.s.Tables(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var names []string
	for _, t := range all {
		names = append(names, t.Name)
		if t.Name == "Alpha__c" {
			h.diff("Alpha__c", map[string]store.ColumnType{"Id": store.Text, "X__c": store.Real}, columnTypes(t))
		}
	}
	h.diff("Tables", []string{"Alpha__c", "Beta__c", "Invoice__c"}, names)
	_, err = h.s.Table(h.ctx, "Missing__c")
	h.wantErr("Table(Missing__c)", err, store.ErrNotFound)
}

func columnTypes(t store.Table) map[string]store.ColumnType {
	m := map[string]store.ColumnType{}
	for _, c := range t.Columns {
		m[c.Name] = c.Type
	}
	return m
}

// testQuotedIdentifiers: table and column names are Salesforce API names,
// quoted in SQL, so SQL keywords (Order, Group, Select, key, From),
// custom (__c) and namespaced (acme__Shipment__c) names all work.
func testQuotedIdentifiers(h *harness) {
	cols := []store.Column{
		{Name: "Id", Type: store.Text},
		{Name: "key", Type: store.Text},
		{Name: "Select", Type: store.Integer},
		{Name: "From", Type: store.Boolean},
		{Name: "Order", Type: store.Text},
		{Name: "Group__c", Type: store.Text},
		{Name: "acme__Weight__c", Type: store.Real},
		{Name: "Table", Type: store.Text},
	}
	for _, name := range []string{"Order", "Group", "Select", "User", "Case", "Index", "acme__Shipment__c", "Invoice__c"} {
		h.ensure(store.Table{Name: name, Columns: cols})
		h.wantUpsert(org1, name, store.UpsertResult{Inserted: 1}, row(id(1),
			"key", "k", "Select", int64(1), "From", true, "Order", "o", "Group__c", "g", "acme__Weight__c", 2.5, "Table", "t"))
		h.wantUpsert(org1, name, store.UpsertResult{Updated: 1}, row(id(1), "key", "k2"))
		h.diff(name, map[string]any{"Id": id(1), "key": "k2", "Select": int64(1), "From": true,
			"Order": "o", "Group__c": "g", "acme__Weight__c": 2.5, "Table": "t"}, fields(h.rows(org1, name, false)[id(1)]))
		h.diff(name+" delete", store.DeleteResult{Deleted: 1}, h.del(store.Delete{OrgID: org1, Object: name, Rows: []store.Tombstone{{ID: id(1)}}}))
		h.wantCount(org1, name, true, 1)
	}
}

// testInvalidNames: a table or column name that is not an API name (empty,
// starting with a digit or "_", with a space, a quote, a semicolon or a
// non-ASCII letter, or longer than store.MaxNameLen) is rejected with a
// *store.ValueError wrapping store.ErrInvalidName, and nothing is created.
func testInvalidNames(h *harness) {
	bad := []string{"", "1Account", "_sfsync_jobs", "_org_id", "Has Space", `Bad"Name`, "Semi;colon", "Dash-ed", "Ünicode",
		"Quote'd", "x.y", strings.Repeat("A", store.MaxNameLen+1)}
	for _, name := range bad {
		err := h.s.EnsureTable(h.ctx, store.Table{Name: name})
		h.wantValueError(fmt.Sprintf("table %q", name), err, store.ErrInvalidName, name, "", "")
		err = h.s.EnsureTable(h.ctx, store.Table{Name: "Good__c", Columns: []store.Column{{Name: name, Type: store.Text}}})
		h.wantValueError(fmt.Sprintf("column %q", name), err, store.ErrInvalidName, "Good__c", name, "")
	}
	err := h.s.EnsureTable(h.ctx, store.Table{Name: "Good__c", Columns: []store.Column{{Name: "A__c", Type: "varchar"}}})
	var ve *store.ValueError
	if !errors.As(err, &ve) || ve.Column != "A__c" {
		h.t.Errorf("unknown column type: error %v, want a *store.ValueError naming A__c", err)
	}
	tables, err := h.s.Tables(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(tables) != 0 {
		h.t.Errorf("Tables after invalid EnsureTable calls = %v, want none", tables)
	}
	h.ensure(store.Table{Name: strings.Repeat("A", store.MaxNameLen), Columns: []store.Column{{Name: strings.Repeat("b", store.MaxNameLen), Type: store.Text}}})
}

// wantValueError checks err is a *store.ValueError wrapping sentinel and
// naming the table, column and row (empty strings are not checked).
func (h *harness) wantValueError(what string, err, sentinel error, table, column, rowID string) {
	h.t.Helper()
	var ve *store.ValueError
	if !errors.As(err, &ve) {
		h.t.Errorf("%s: error %v (%T), want a *store.ValueError", what, err, err)
		return
	}
	if !errors.Is(err, sentinel) {
		h.t.Errorf("%s: error %v, want errors.Is %v", what, err, sentinel)
	}
	if table != "" && ve.Table != table || column != "" && ve.Column != column || rowID != "" && ve.RowID != rowID {
		h.t.Errorf("%s: ValueError{Table: %q, Column: %q, RowID: %q}, want {%q, %q, %q}", what, ve.Table, ve.Column, ve.RowID, table, column, rowID)
	}
}

// testUnicodeLongTextNulls: text keeps every Unicode character and SQL
// metacharacter, 100 KB values, the empty string (not NULL); nil in a
// column of any type stores NULL and reads back as nil.
func testUnicodeLongTextNulls(h *harness) {
	h.ensure(allTypes)
	texts := []string{
		"Ærøskøbing — Zürich — Kraków", "日本語のテキスト", "emoji 🚀🇯🇵👩‍👩‍👧", "e\u0301 combining", "right-to-left עברית العربية",
		"'; DROP TABLE \"Account\"; --", `back\slash "quote" 'single'`, "line\nbreak\ttab\r\n", "",
		strings.Repeat("long text ✓ ", 100_000/13+1),
	}
	var rows []store.Row
	for i, s := range texts {
		rows = append(rows, row(id(i), "Text__c", s))
	}
	nulls := row(id(100))
	for _, c := range allTypes.Columns[1:] {
		nulls.Values[c.Name] = nil
	}
	rows = append(rows, nulls)
	h.wantUpsert(org1, allTypes.Name, store.UpsertResult{Inserted: len(rows)}, rows...)
	got := h.rows(org1, allTypes.Name, false)
	for i, s := range texts {
		if g := got[id(i)]["Text__c"]; g != s {
			h.t.Errorf("text %d: got %.60q (%T), want %.60q", i, g, g, s)
		}
	}
	for _, c := range allTypes.Columns[1:] {
		if v := got[id(100)][c.Name]; v != nil {
			h.t.Errorf("null %s: got %#v, want nil", c.Name, v)
		}
	}
	// Setting a value back to NULL.
	h.upsert(org1, allTypes.Name, row(id(0), "Text__c", nil))
	if v := h.rows(org1, allTypes.Name, false)[id(0)]["Text__c"]; v != nil {
		h.t.Errorf("after nil: %#v", v)
	}
}

// allTypes has one column of every type.
var allTypes = store.Table{Name: "AllTypes__c", Columns: []store.Column{
	{Name: "Id", Type: store.Text},
	{Name: "Text__c", Type: store.Text},
	{Name: "Int__c", Type: store.Integer},
	{Name: "Num__c", Type: store.Numeric},
	{Name: "Money__c", Type: store.Numeric, Precision: 18, Scale: 2},
	{Name: "Real__c", Type: store.Real},
	{Name: "Bool__c", Type: store.Boolean},
	{Name: "Date__c", Type: store.Date},
	{Name: "DateTime__c", Type: store.DateTime},
	{Name: "Time__c", Type: store.Time},
	{Name: "JSON__c", Type: store.JSON},
	{Name: "Blob__c", Type: store.Blob},
}}

// testColumnTypes: every column type reads back exactly what was written,
// in its documented Go type: Numeric keeps its exact value (compared as
// numbers, so a backend may add trailing zeros up to the column's scale), DateTime comes back in UTC with its milliseconds, Date at
// midnight UTC, JSON with the same value, blobs with every byte value, the
// extremes of int64 and float64. Go integers of other sizes are stored
// as int64.
func testColumnTypes(h *harness) {
	h.ensure(allTypes)
	paris := time.FixedZone("CET", 3600)
	var all []byte
	for i := 0; i < 256; i++ {
		all = append(all, byte(i))
	}
	in := []store.Row{
		row(id(1), "Int__c", int64(math.MaxInt64), "Num__c", store.Decimal("1234.50"), "Money__c", store.Decimal("1234.50"),
			"Real__c", 3.141592653589793, "Bool__c", true, "Date__c", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
			"DateTime__c", time.Date(2026, 7, 1, 23, 59, 59, 999_000_000, time.UTC), "Time__c", "23:59:59.999Z",
			"JSON__c", json.RawMessage(`{"a": [1, 2.50, {"b": null}], "c": "é"}`), "Blob__c", all),
		row(id(2), "Int__c", int64(math.MinInt64), "Num__c", store.Decimal("-0.001"), "Money__c", store.Decimal("-99999999999999.99"),
			"Real__c", 1e-300, "Bool__c", false, "Date__c", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
			"DateTime__c", time.Date(2026, 7, 2, 0, 30, 0, 123_000_000, paris), "Time__c", "00:00:00.000Z",
			"JSON__c", json.RawMessage(`[]`), "Blob__c", []byte{}),
		row(id(3), "Int__c", 7, "Num__c", store.Decimal("123456789012345678901234567890.123456789"), "Money__c", store.Decimal("0"),
			"Real__c", -math.MaxFloat64, "Date__c", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
			"DateTime__c", time.Date(1970, 1, 1, 0, 0, 0, 1_999_999, time.UTC), "JSON__c", json.RawMessage(`"text"`),
			"Blob__c", []byte("\x00\x00")),
		row(id(4), "Int__c", int32(-5), "Num__c", store.Decimal("00042.000"), "Real__c", 0.1, "DateTime__c", time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC),
			"JSON__c", json.RawMessage(`12.30`)),
	}
	h.wantUpsert(org1, allTypes.Name, store.UpsertResult{Inserted: 4}, in...)
	want := map[string]map[string]any{
		id(1): typesRow(id(1), "Int__c", int64(math.MaxInt64), "Num__c", store.Decimal("1234.50"), "Money__c", store.Decimal("1234.50"),
			"Real__c", 3.141592653589793, "Bool__c", true, "Date__c", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
			"DateTime__c", time.Date(2026, 7, 1, 23, 59, 59, 999_000_000, time.UTC), "Time__c", "23:59:59.999Z",
			"JSON__c", json.RawMessage(`{"a": [1, 2.50, {"b": null}], "c": "é"}`), "Blob__c", all),
		id(2): typesRow(id(2), "Int__c", int64(math.MinInt64), "Num__c", store.Decimal("-0.001"), "Money__c", store.Decimal("-99999999999999.99"),
			"Real__c", 1e-300, "Bool__c", false, "Date__c", time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
			"DateTime__c", time.Date(2026, 7, 1, 23, 30, 0, 123_000_000, time.UTC), "Time__c", "00:00:00.000Z",
			"JSON__c", json.RawMessage(`[]`), "Blob__c", []byte{}),
		id(3): typesRow(id(3), "Int__c", int64(7), "Num__c", store.Decimal("123456789012345678901234567890.123456789"), "Money__c", store.Decimal("0"),
			"Real__c", -math.MaxFloat64, "Date__c", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
			"DateTime__c", time.Date(1970, 1, 1, 0, 0, 0, 1_000_000, time.UTC), "JSON__c", json.RawMessage(`"text"`),
			"Blob__c", []byte("\x00\x00")),
		id(4): typesRow(id(4), "Int__c", int64(-5), "Num__c", store.Decimal("00042.000"), "Real__c", 0.1, "DateTime__c", time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC),
			"JSON__c", json.RawMessage(`12.30`)),
	}
	got := mapFields(h.rows(org1, allTypes.Name, false))
	h.diff("round trip", want, got)
	for rid, v := range got {
		for _, c := range []string{"Date__c", "DateTime__c"} {
			if t, ok := v[c].(time.Time); ok && t.Location() != time.UTC {
				h.t.Errorf("row %s %s: location %v, want UTC", rid, c, t.Location())
			}
		}
		if b, ok := v["Blob__c"].([]byte); ok && b == nil {
			h.t.Errorf("row %s: empty blob read back as nil", rid)
		}
	}
	// Values read are copies: changing them changes nothing stored.
	orig := append([]byte{}, all...)
	got2 := h.rows(org1, allTypes.Name, false)
	got2[id(1)]["Blob__c"].([]byte)[0] = 0xFF
	in[0].Values["Blob__c"].([]byte)[1] = 0xFF
	h.diff("after mutating copies", orig, h.rows(org1, allTypes.Name, false)[id(1)]["Blob__c"])
}

func typesRow(rid string, kv ...any) map[string]any {
	v := map[string]any{}
	for _, c := range allTypes.Columns {
		v[c.Name] = nil
	}
	v["Id"] = rid
	for i := 0; i+1 < len(kv); i += 2 {
		v[kv[i].(string)] = kv[i+1]
	}
	return v
}

// testLargeBatch: a batch of 10,000 rows is one Upsert; all are counted,
// listed in Id order and readable page by page with AfterID and Limit; the
// same batch again updates every row.
func testLargeBatch(h *harness) {
	h.ensure(account)
	const n = 10_000
	rows := make([]store.Row, n)
	for i := range rows {
		rows[i] = row(id(n-i), "Name", fmt.Sprintf("row %d", n-i), "Amount__c", store.Decimal(fmt.Sprintf("%d.25", i)), "SystemModstamp", ts(i))
	}
	h.wantUpsert(org1, "Account", store.UpsertResult{Inserted: n}, rows...)
	h.wantCount(org1, "Account", false, n)
	ids, err := h.s.IDs(h.ctx, org1, "Account")
	if err != nil {
		h.t.Fatal(err)
	}
	if len(ids) != n || ids[0] != id(1) || ids[n-1] != id(n) || !sortedStrings(ids) {
		h.t.Errorf("IDs: %d ids, want %d in ascending order", len(ids), n)
	}
	var seen int
	after := ""
	for {
		page, err := h.s.ReadRows(h.ctx, store.ReadQuery{OrgID: org1, Object: "Account", AfterID: after, Limit: 1500})
		if err != nil {
			h.t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			seen++
			if r.ID != id(seen) || r.Values["Name"] != fmt.Sprintf("row %d", seen) {
				h.t.Fatalf("row %d: %s %v", seen, r.ID, r.Values["Name"])
			}
		}
		after = page[len(page)-1].ID
	}
	if seen != n {
		h.t.Errorf("paged through %d rows, want %d", seen, n)
	}
	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: n}, rows...)
}

// testManyColumns: an object with hundreds of fields (common for Account
// in a customised org) works like a small one: rows with different column
// sets in one batch, partial updates of any subset, schema growth.
func testManyColumns(h *harness) {
	t := store.Table{Name: "Account", Columns: []store.Column{{Name: "Id", Type: store.Text}}}
	for i := 1; i < 300; i++ {
		typ := store.Text
		if i%3 == 0 {
			typ = store.Integer
		}
		t.Columns = append(t.Columns, store.Column{Name: fmt.Sprintf("F%03d__c", i), Type: typ})
	}
	val := func(i, version int) any {
		if i%3 == 0 {
			return int64(i*1000 + version)
		}
		return fmt.Sprintf("v%d-%d", version, i)
	}
	h.ensure(t)
	full := row(id(1))
	for i := 1; i < 300; i++ {
		full.Values[fmt.Sprintf("F%03d__c", i)] = val(i, 1)
	}
	sparse := row(id(2), "F063__c", val(63, 1), "F064__c", "x", "F200__c", val(200, 1))
	h.wantUpsert(org1, "Account", store.UpsertResult{Inserted: 2}, full, sparse)
	update := row(id(1))
	for _, i := range []int{1, 62, 63, 64, 65, 127, 128, 129, 191, 192, 255, 256, 299} {
		update.Values[fmt.Sprintf("F%03d__c", i)] = val(i, 2)
	}
	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 2}, update, row(id(2), "F064__c", nil))
	want := map[string]any{"Id": id(1)}
	for i := 1; i < 300; i++ {
		want[fmt.Sprintf("F%03d__c", i)] = val(i, 1)
	}
	for k, v := range update.Values {
		want[k] = v
	}
	got := mapFields(h.rows(org1, "Account", false))
	h.diff("wide row", want, got[id(1)])
	for k, v := range got[id(2)] {
		switch k {
		case "Id", "F063__c", "F200__c":
		default:
			if v != nil {
				h.t.Errorf("sparse row: %s = %v, want nil", k, v)
			}
		}
	}
	t.Columns = append(t.Columns, store.Column{Name: "F300__c", Type: store.Boolean})
	h.ensure(t)
	h.wantUpsert(org1, "Account", store.UpsertResult{Updated: 1}, row(id(2), "F300__c", true, "F001__c", "a"))
	got = mapFields(h.rows(org1, "Account", false))
	if got[id(2)]["F300__c"] != true || got[id(2)]["F063__c"] != val(63, 1) || got[id(1)]["F300__c"] != nil {
		h.t.Errorf("after adding a column: %v %v %v", got[id(2)]["F300__c"], got[id(2)]["F063__c"], got[id(1)]["F300__c"])
	}
}

// testConcurrentVersions: many goroutines upsert racing versions of the
// same rows, in random order and batch sizes (as webhooks racing a sync
// do); every row ends with its newest version, each row is inserted
// exactly once, and every row sent is counted once.
func testConcurrentVersions(h *harness) {
	h.ensure(account)
	const workers, nrows, versions = 8, 40, 12
	var mu sync.Mutex
	var total store.UpsertResult
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var pending []store.Row
			for _, k := range rng.Perm(nrows * versions) {
				r, v := k%nrows, k/nrows+1
				pending = append(pending, row(id(r), "Name", fmt.Sprintf("v%d", v), "Amount__c", store.Decimal(fmt.Sprintf("%d.00", v)), "SystemModstamp", ts(v)))
				if len(pending) < 1+rng.IntN(8) {
					continue
				}
				res, err := h.s.Upsert(h.ctx, store.Upsert{OrgID: org1, Object: "Account", Rows: pending})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				total.Inserted += res.Inserted
				total.Updated += res.Updated
				total.Stale += res.Stale
				mu.Unlock()
				pending = nil
			}
			if len(pending) > 0 {
				res, err := h.s.Upsert(h.ctx, store.Upsert{OrgID: org1, Object: "Account", Rows: pending})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				total.Inserted += res.Inserted
				total.Updated += res.Updated
				total.Stale += res.Stale
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		h.t.Fatalf("concurrent Upsert: %v", err)
	}
	if total.Inserted != nrows || total.Inserted+total.Updated+total.Stale != workers*nrows*versions {
		h.t.Errorf("totals %+v: want %d inserted and %d rows counted", total, nrows, workers*nrows*versions)
	}
	want := map[string]map[string]any{}
	for r := range nrows {
		want[id(r)] = wantAccount(id(r), "Name", fmt.Sprintf("v%d", versions), "Amount__c", store.Decimal(fmt.Sprintf("%d.00", versions)), "SystemModstamp", ts(versions))
	}
	h.diff("final rows", want, mapFields(h.rows(org1, "Account", false)))
}

// testBadInput: an unknown column, a value that does not fit its column's
// type, a bad record Id, or an invalid table name fails the whole batch
// with a *store.ValueError naming the table, column and row Id and
// wrapping the right sentinel; nothing of the batch is written, not even
// its receipts or the valid rows before the bad one.
func testBadInput(h *harness) {
	h.ensure(allTypes)
	h.ensure(account)
	cases := []struct {
		name     string
		object   string
		bad      store.Row
		sentinel error
		column   string
	}{
		{"unknown column", allTypes.Name, row(id(2), "Nope__c", "x"), store.ErrUnknownColumn, "Nope__c"},
		{"system column", allTypes.Name, row(id(2), store.ColDeleted, nil), store.ErrUnknownColumn, store.ColDeleted},
		{"text as int", allTypes.Name, row(id(2), "Text__c", 5), store.ErrBadValue, "Text__c"},
		{"text invalid utf8", allTypes.Name, row(id(2), "Text__c", "bad \xff"), store.ErrBadValue, "Text__c"},
		{"integer as string", allTypes.Name, row(id(2), "Int__c", "12"), store.ErrBadValue, "Int__c"},
		{"integer as float", allTypes.Name, row(id(2), "Int__c", 1.5), store.ErrBadValue, "Int__c"},
		{"numeric not a number", allTypes.Name, row(id(2), "Num__c", store.Decimal("12a")), store.ErrBadValue, "Num__c"},
		{"numeric exponent", allTypes.Name, row(id(2), "Num__c", store.Decimal("1e5")), store.ErrBadValue, "Num__c"},
		{"numeric as float", allTypes.Name, row(id(2), "Num__c", 1.5), store.ErrBadValue, "Num__c"},
		{"numeric scale", allTypes.Name, row(id(2), "Money__c", store.Decimal("1.234")), store.ErrBadValue, "Money__c"},
		{"numeric precision", allTypes.Name, row(id(2), "Money__c", store.Decimal("12345678901234567.5")), store.ErrBadValue, "Money__c"},
		{"real as string", allTypes.Name, row(id(2), "Real__c", "1.5"), store.ErrBadValue, "Real__c"},
		{"real NaN", allTypes.Name, row(id(2), "Real__c", math.NaN()), store.ErrBadValue, "Real__c"},
		{"boolean as string", allTypes.Name, row(id(2), "Bool__c", "true"), store.ErrBadValue, "Bool__c"},
		{"date as string", allTypes.Name, row(id(2), "Date__c", "2024-01-01"), store.ErrBadValue, "Date__c"},
		{"date with clock", allTypes.Name, row(id(2), "Date__c", ts(0)), store.ErrBadValue, "Date__c"},
		{"datetime as string", allTypes.Name, row(id(2), "DateTime__c", "2024-01-01T00:00:00Z"), store.ErrBadValue, "DateTime__c"},
		{"datetime year 10000", allTypes.Name, row(id(2), "DateTime__c", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)), store.ErrBadValue, "DateTime__c"},
		{"time out of range", allTypes.Name, row(id(2), "Time__c", "25:00:00.000Z"), store.ErrBadValue, "Time__c"},
		{"time short form", allTypes.Name, row(id(2), "Time__c", "10:00"), store.ErrBadValue, "Time__c"},
		{"json invalid", allTypes.Name, row(id(2), "JSON__c", json.RawMessage(`{"a":`)), store.ErrBadValue, "JSON__c"},
		{"blob as string", allTypes.Name, row(id(2), "Blob__c", "bytes"), store.ErrBadValue, "Blob__c"},
		{"Id value differs", allTypes.Name, row(id(2), "Id", id(9)), store.ErrBadValue, "Id"},
		{"guard column as string", account.Name, row(id(2), "SystemModstamp", "2024-01-01T00:00:00.000Z"), store.ErrBadValue, "SystemModstamp"},
	}
	for _, c := range cases {
		u := store.Upsert{OrgID: org1, Object: c.object, Receipts: []string{"04l-" + c.name},
			Rows: []store.Row{row(id(1)), c.bad, row(id(3))}}
		_, err := h.s.Upsert(h.ctx, u)
		h.wantValueError(c.name, err, c.sentinel, c.object, c.column, id(2))
		h.checkNothingWritten(c.name, c.object, "04l-"+c.name)
	}

	_, err := h.s.Upsert(h.ctx, store.Upsert{OrgID: org1, Object: allTypes.Name, Rows: []store.Row{row(id(1)), row("")}})
	h.wantValueError("empty Id", err, store.ErrBadValue, allTypes.Name, "", "")
	h.checkNothingWritten("empty Id", allTypes.Name, "")

	_, err = h.s.Upsert(h.ctx, store.Upsert{OrgID: org1, Object: `Bad"Name`, Rows: []store.Row{row(id(1))}})
	h.wantValueError("invalid table name", err, store.ErrInvalidName, `Bad"Name`, "", "")

	// The store still works after the failures.
	h.wantUpsert(org1, allTypes.Name, store.UpsertResult{Inserted: 1}, row(id(1), "Text__c", "ok"))
}

func (h *harness) checkNothingWritten(what, object, receipt string) {
	h.t.Helper()
	if n := h.count(org1, object, true); n != 0 {
		h.t.Errorf("%s: %d rows written by a failed batch", what, n)
	}
	if receipt == "" {
		return
	}
	got, err := h.s.HasReceipts(h.ctx, org1, []string{receipt})
	if err != nil {
		h.t.Fatal(err)
	}
	if got[receipt] {
		h.t.Errorf("%s: receipt of a failed batch recorded", what)
	}
}

// testUnknownTable: writing to or reading from a table never ensured is
// store.ErrNotFound, not a driver error.
func testUnknownTable(h *harness) {
	_, err := h.s.Upsert(h.ctx, store.Upsert{OrgID: org1, Object: "Missing__c", Rows: []store.Row{row(id(1))}})
	h.wantErr("Upsert", err, store.ErrNotFound)
	_, err = h.s.Delete(h.ctx, store.Delete{OrgID: org1, Object: "Missing__c", Rows: []store.Tombstone{{ID: id(1)}}})
	h.wantErr("Delete", err, store.ErrNotFound)
	_, err = h.s.Count(h.ctx, org1, "Missing__c", false)
	h.wantErr("Count", err, store.ErrNotFound)
	_, err = h.s.ReadRows(h.ctx, store.ReadQuery{OrgID: org1, Object: "Missing__c"})
	h.wantErr("ReadRows", err, store.ErrNotFound)
	_, err = h.s.IDs(h.ctx, org1, "Missing__c")
	h.wantErr("IDs", err, store.ErrNotFound)
}

// testCanceledContext: a call with a canceled context fails with the
// context's error and writes nothing.
func testCanceledContext(h *harness) {
	h.ensure(account)
	ctx, cancel := contextWithCancel(h)
	cancel()
	_, err := h.s.Upsert(ctx, store.Upsert{OrgID: org1, Object: "Account", Rows: []store.Row{row(id(1))}, Receipts: []string{"n1"}})
	h.wantErr("Upsert", err, errCanceled)
	h.checkNothingWritten("canceled", "Account", "n1")
	err = h.s.SaveJob(ctx, &store.Job{ID: "j1", OrgID: org1})
	h.wantErr("SaveJob", err, errCanceled)
	if _, err := h.s.Job(h.ctx, "j1"); !errors.Is(err, store.ErrNotFound) {
		h.t.Errorf("job saved with a canceled context: %v", err)
	}
}

// testCountReadIDs: Count, ReadRows and IDs see one org's rows of one
// table; ReadRows orders by Id and honours AfterID, Limit and
// IncludeDeleted.
func testCountReadIDs(h *harness) {
	h.ensure(account)
	for i := 1; i <= 5; i++ {
		h.upsert(org1, "Account", row(id(i), "Name", fmt.Sprint(i)))
	}
	h.upsert(org2, "Account", row(id(9)))
	h.del(store.Delete{OrgID: org1, Object: "Account", Rows: []store.Tombstone{{ID: id(2)}}})
	h.wantCount(org1, "Account", false, 4)
	h.wantCount(org1, "Account", true, 5)
	h.wantCount(org2, "Account", false, 1)
	h.wantCount("00D000000000003AAA", "Account", true, 0)
	read := func(q store.ReadQuery) []string {
		h.t.Helper()
		q.OrgID, q.Object = org1, "Account"
		rs, err := h.s.ReadRows(h.ctx, q)
		if err != nil {
			h.t.Fatal(err)
		}
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	h.diff("all", []string{id(1), id(3), id(4), id(5)}, read(store.ReadQuery{}))
	h.diff("with deleted", []string{id(1), id(2), id(3), id(4), id(5)}, read(store.ReadQuery{IncludeDeleted: true}))
	h.diff("after", []string{id(4), id(5)}, read(store.ReadQuery{AfterID: id(3)}))
	h.diff("after, limit", []string{id(2), id(3)}, read(store.ReadQuery{AfterID: id(1), Limit: 2, IncludeDeleted: true}))
	h.diff("past the end", []string(nil), read(store.ReadQuery{AfterID: id(5)}))
	ids, err := h.s.IDs(h.ctx, org1, "Account")
	if err != nil {
		h.t.Fatal(err)
	}
	h.diff("IDs", []string{id(1), id(3), id(4), id(5)}, ids)
}

// testCaseInsensitiveNames: Salesforce API names are case-insensitive (and
// so are SQLite's identifiers), so "account" names the table "Account" and
// "name" its column "Name": EnsureTable with another spelling adds only
// the columns that are really new and never a second table, and every
// method finds the table and its columns whatever the spelling. The first
// spelling is the one kept.
func testCaseInsensitiveNames(h *harness) {
	h.ensure(account)
	h.upsert(org1, "Account", row(id(1), "Name", "a", "SystemModstamp", ts(1)))
	h.ensure(store.Table{Name: "account", Columns: []store.Column{
		{Name: "ID", Type: store.Text},
		{Name: "name", Type: store.Text},
		{Name: "AMOUNT__C", Type: store.Numeric, Precision: 18, Scale: 2},
		{Name: "Extra__c", Type: store.Text},
	}})
	h.ensure(store.Table{Name: "ACCOUNT", Columns: []store.Column{{Name: "extra__C", Type: store.Text}}})
	all, err := h.s.Tables(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(all) != 1 || all[0].Name != "Account" {
		var names []string
		for _, t := range all {
			names = append(names, t.Name)
		}
		h.t.Fatalf("Tables after EnsureTable(Account), (account), (ACCOUNT) = %v, want only Account", names)
	}
	want := append(append([]string{}, accountColumns...), "Extra__c")
	var got []string
	for _, c := range all[0].Columns {
		got = append(got, c.Name)
	}
	sortStrings(want)
	sortStrings(got)
	h.diff("columns after EnsureTable with other spellings", want, got)
	tb, err := h.s.Table(h.ctx, "aCcOuNt")
	if err != nil || tb.Name != "Account" {
		h.t.Errorf("Table(aCcOuNt) = %q, %v, want Account", tb.Name, err)
	}

	h.wantUpsert(org1, "ACCOUNT", store.UpsertResult{Updated: 1, Inserted: 1},
		row(id(1), "NAME", "b", "systemmodstamp", ts(2), "extra__c", "x"),
		row(id(2), "name", "c"))
	h.wantUpsert(org1, "account", store.UpsertResult{Stale: 1},
		row(id(1), "Name", "older", "SYSTEMMODSTAMP", ts(1)))
	h.diff("rows", map[string]map[string]any{
		id(1): {"Id": id(1), "Name": "b", "Amount__c": nil, "IsDeleted": nil, "LastModifiedDate": nil, "SystemModstamp": ts(2), "Extra__c": "x"},
		id(2): {"Id": id(2), "Name": "c", "Amount__c": nil, "IsDeleted": nil, "LastModifiedDate": nil, "SystemModstamp": nil, "Extra__c": nil},
	}, mapFields(h.rows(org1, "account", false)))
	if got := h.del(store.Delete{OrgID: org1, Object: "aCCount", Rows: []store.Tombstone{{ID: id(2)}}}); got.Deleted != 1 {
		h.t.Errorf("Delete(aCCount) = %+v, want 1 deleted", got)
	}
	h.wantCount(org1, "ACCOUNT", false, 1)
	ids, err := h.s.IDs(h.ctx, org1, "account")
	if err != nil {
		h.t.Fatal(err)
	}
	h.diff("IDs(account)", []string{id(1)}, ids)
}
