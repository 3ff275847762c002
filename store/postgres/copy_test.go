package postgres

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

func TestDateDays(t *testing.T) {
	for _, d := range []time.Time{
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
	} {
		want := int32((d.Unix() - pgEpoch.Unix()) / 86400)
		if got := dateDays(d); got != want {
			t.Errorf("dateDays(%s) = %d, want %d", d.Format(time.DateOnly), got, want)
		}
	}
}

// TestCopyRowsError: a value the encoder refuses aborts the stream with a
// *store.ValueError instead of ending it early.
func TestCopyRowsError(t *testing.T) {
	ti := newTableInfo("T", []store.Column{{Name: "Id", Type: store.Text}, {Name: "N__c", Type: store.Numeric}})
	src := &copyRows{ti: ti, set: []int{1}, org: "o", rows: []*prepRow{
		{id: "a", set: []int{1}, vals: []any{store.Decimal("1.5")}},
		{id: "b", set: []int{1}, vals: []any{store.Decimal("x")}},
	}}
	_, err := io.ReadAll(src)
	var ve *store.ValueError
	if !errors.As(err, &ve) || ve.RowID != "b" || !errors.Is(err, store.ErrBadValue) {
		t.Errorf("err = %v, want a ValueError for row b", err)
	}
}
