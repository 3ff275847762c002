package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// BenchmarkPrepare measures the validation and conversion of one 60-column
// row (the part of an Upsert that a bare INSERT does not do).
func BenchmarkPrepare(b *testing.B) {
	t := store.Table{Name: "Wide__c", Columns: []store.Column{{Name: "Id", Type: store.Text}}}
	kinds := []store.ColumnType{store.Text, store.Text, store.Numeric, store.Real, store.Boolean, store.DateTime, store.Date, store.Integer, store.Text, store.Text, store.Text}
	for i := 1; i < 60; i++ {
		t.Columns = append(t.Columns, store.Column{Name: fmt.Sprintf("F%02d__c", i), Type: kinds[i%len(kinds)], Precision: 18, Scale: 2})
	}
	ti := newTableInfo(t)
	v := map[string]any{}
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	for _, c := range t.Columns[1:] {
		switch c.Type {
		case store.Text:
			v[c.Name] = c.Name + " value 12345 lorem ipsum"
		case store.Numeric:
			v[c.Name] = store.Decimal("12345.67")
		case store.Real:
			v[c.Name] = 1.5
		case store.Boolean:
			v[c.Name] = true
		case store.DateTime:
			v[c.Name] = stamp
		case store.Date:
			v[c.Name] = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
		case store.Integer:
			v[c.Name] = int64(7)
		}
	}
	r := store.Row{ID: "a00000000000001AAA", Values: v}
	scratch := make([]any, len(t.Columns))
	var p prow
	b.ReportAllocs()
	for b.Loop() {
		if err := ti.prepare(r, scratch, &p); err != nil {
			b.Fatal(err)
		}
	}
}
