package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/sqlite"
)

// Open a database file, create the Account table, upsert two records and
// read them back. The second upsert of the first record is older than the
// stored one, so the timestamp guard skips it.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sfsync-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := sqlite.Open(ctx, filepath.Join(dir, "sfsync.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	err = s.EnsureTable(ctx, store.Table{Name: "Account", Columns: []store.Column{
		{Name: "Id", Type: store.Text},
		{Name: "Name", Type: store.Text},
		{Name: "AnnualRevenue", Type: store.Numeric, Precision: 18, Scale: 2},
		{Name: "SystemModstamp", Type: store.DateTime},
	}})
	if err != nil {
		log.Fatal(err)
	}

	const org = "00D5g000004XyZaEAK"
	stamp := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	res, err := s.Upsert(ctx, store.Upsert{OrgID: org, Object: "Account", Rows: []store.Row{
		{ID: "0015g00000A1bCdAAJ", Values: map[string]any{
			"Name": "Acme", "AnnualRevenue": store.Decimal("1250000.00"), "SystemModstamp": stamp}},
		{ID: "0015g00000A1bCeAAJ", Values: map[string]any{"Name": "Globex", "SystemModstamp": stamp}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("first upsert: %+v\n", res)

	res, err = s.Upsert(ctx, store.Upsert{OrgID: org, Object: "Account", Rows: []store.Row{
		{ID: "0015g00000A1bCdAAJ", Values: map[string]any{"Name": "Acme (old)", "SystemModstamp": stamp.Add(-time.Hour)}},
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("older upsert: %+v\n", res)

	rows, err := s.ReadRows(ctx, store.ReadQuery{OrgID: org, Object: "Account"})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rows {
		fmt.Println(r.ID, r.Values["Name"], r.Values["AnnualRevenue"], r.Values["SystemModstamp"].(time.Time).Format(time.RFC3339))
	}
	// Output:
	// first upsert: {Inserted:2 Updated:0 Stale:0}
	// older upsert: {Inserted:0 Updated:0 Stale:1}
	// 0015g00000A1bCdAAJ Acme 1250000.00 2026-03-01T09:30:00Z
	// 0015g00000A1bCeAAJ Globex <nil> 2026-03-01T09:30:00Z
}
