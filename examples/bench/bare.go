package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/sfsync/salesforce-sync/store"
	// The driver ("sqlite3") is registered by store/sqlite, which the
	// bench imports; the bench itself imports no driver.
	_ "github.com/sfsync/salesforce-sync/store/sqlite"
)

// bareBatch is the batch size of the ceiling, the engine's default.
const bareBatch = 2000

// bareInsert measures the ceiling of a full sync into SQLite: the rows
// the sync stored (read back from src), written into a fresh file with
// one prepared INSERT per transaction of bareBatch rows, with the same
// table layout and the same durability (WAL, synchronous=FULL) as
// store/sqlite. Only the inserts and commits are timed, not the reads
// from src nor the value conversion. It returns the rows written and
// the time they took.
func bareInsert(ctx context.Context, dir string, src store.Store, orgID, object string) (int, time.Duration, error) {
	t, err := src.Table(ctx, object)
	if err != nil {
		return 0, 0, fmt.Errorf("table %s: %w", object, err)
	}
	path := filepath.Join(dir, "bare-"+object+".db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=5000&_cache_size=-65536")
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	cols := []string{quoteIdent(store.ColOrgID)}
	defs := []string{quoteIdent(store.ColOrgID) + " TEXT NOT NULL"}
	for _, c := range t.Columns {
		cols = append(cols, quoteIdent(c.Name))
		defs = append(defs, quoteIdent(c.Name)+" "+bareType(c.Type))
	}
	cols = append(cols, quoteIdent(store.ColSyncedAt), quoteIdent(store.ColDeleted))
	defs = append(defs, quoteIdent(store.ColSyncedAt)+" TEXT NOT NULL", quoteIdent(store.ColDeleted)+" TEXT",
		"PRIMARY KEY ("+quoteIdent(store.ColOrgID)+", \"Id\")")
	if _, err := db.ExecContext(ctx, "CREATE TABLE "+quoteIdent(object)+" ("+strings.Join(defs, ", ")+")"); err != nil {
		return 0, 0, fmt.Errorf("create bare table: %w", err)
	}
	q := "INSERT INTO " + quoteIdent(object) + " (" + strings.Join(cols, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"

	var took time.Duration
	n, after := 0, ""
	for range 1 << 20 { // bounded: far more batches than any run has
		rows, err := src.ReadRows(ctx, store.ReadQuery{OrgID: orgID, Object: object, AfterID: after, Limit: bareBatch})
		if err != nil {
			return n, took, fmt.Errorf("read back %s: %w", object, err)
		}
		if len(rows) == 0 {
			return n, took, nil
		}
		args := bareArgs(t, orgID, rows)
		d, err := bareCommit(ctx, db, q, args)
		took += d
		if err != nil {
			return n, took, err
		}
		n += len(rows)
		after = rows[len(rows)-1].ID
	}
	return n, took, fmt.Errorf("read back %s: too many batches", object)
}

// bareCommit inserts one batch in one transaction and returns the time
// it took.
func bareCommit(ctx context.Context, db *sql.DB, q string, args [][]any) (time.Duration, error) {
	start := time.Now()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	for _, a := range args {
		if _, err := st.ExecContext(ctx, a...); err != nil {
			return 0, fmt.Errorf("bare insert: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// bareArgs converts rows to the values store/sqlite binds (its
// documented layout: UTC text timestamps with milliseconds, dates as
// 2006-01-02, booleans 0/1, decimals and JSON as text).
func bareArgs(t store.Table, orgID string, rows []store.Row) [][]any {
	synced := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	out := make([][]any, len(rows))
	for i, r := range rows {
		a := make([]any, 0, len(t.Columns)+3)
		a = append(a, orgID)
		for _, c := range t.Columns {
			a = append(a, bareValue(c.Type, r.Values[c.Name]))
		}
		out[i] = append(a, synced, nil)
	}
	return out
}

func bareValue(ct store.ColumnType, v any) any {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case store.Decimal:
		return string(x)
	case time.Time:
		if ct == store.Date {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case json.RawMessage:
		return string(x)
	}
	return v
}

func bareType(t store.ColumnType) string {
	switch t {
	case store.Integer, store.Boolean:
		return "INTEGER"
	case store.Real:
		return "REAL"
	case store.Blob:
		return "BLOB"
	}
	return "TEXT"
}

func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
