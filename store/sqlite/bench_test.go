package sqlite_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/sqlite"
)

var big = flag.Bool("sfsync.big", false, "run the memory benchmark with 1,000,000 rows (default 100,000)")

const org = "00D000000000001AAA"

// wideTable has 60 columns of the usual mix of a Salesforce object.
func wideTable() store.Table {
	t := store.Table{Name: "Wide__c", Columns: []store.Column{
		{Name: "Id", Type: store.Text}, {Name: "Name", Type: store.Text},
		{Name: "SystemModstamp", Type: store.DateTime}, {Name: "LastModifiedDate", Type: store.DateTime},
		{Name: "IsDeleted", Type: store.Boolean},
	}}
	kinds := []store.ColumnType{store.Text, store.Text, store.Numeric, store.Real, store.Boolean, store.DateTime, store.Date, store.Integer, store.Text, store.Text, store.Text}
	for i := len(t.Columns); i < 60; i++ {
		k := kinds[i%len(kinds)]
		c := store.Column{Name: fmt.Sprintf("F%02d__c", i), Type: k}
		if k == store.Numeric {
			c.Precision, c.Scale = 18, 2
		}
		t.Columns = append(t.Columns, c)
	}
	return t
}

// wideRow builds row n of the wide table with every column set.
func wideRow(t store.Table, n int, stamp time.Time) store.Row {
	v := make(map[string]any, len(t.Columns))
	for _, c := range t.Columns {
		switch c.Type {
		case store.Text:
			v[c.Name] = fmt.Sprintf("%s value %d lorem ipsum", c.Name, n)
		case store.Numeric:
			v[c.Name] = store.Decimal(fmt.Sprintf("%d.%02d", n, n%100))
		case store.Real:
			v[c.Name] = float64(n) * 1.5
		case store.Boolean:
			v[c.Name] = n%2 == 0
		case store.DateTime:
			v[c.Name] = stamp
		case store.Date:
			v[c.Name] = time.Date(2026, 1, 1+n%28, 0, 0, 0, 0, time.UTC)
		case store.Integer:
			v[c.Name] = int64(n)
		}
	}
	id := fmt.Sprintf("a00%012dAAA", n)
	v["Id"] = id
	return store.Row{ID: id, Values: v}
}

func wideBatches(t store.Table, rows, batch int) [][]store.Row {
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	var out [][]store.Row
	for start := 0; start < rows; start += batch {
		var b []store.Row
		for n := start; n < min(start+batch, rows); n++ {
			b = append(b, wideRow(t, n, stamp))
		}
		out = append(out, b)
	}
	return out
}

// bareArgs turns the rows into the argument lists a hand-written INSERT
// binds, in column order, converted as the driver needs them. It is done
// before the clock starts: the baseline is only the driver and SQLite.
func bareArgs(t store.Table, batches [][]store.Row) [][][]any {
	synced := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	out := make([][][]any, len(batches))
	for i, b := range batches {
		for _, r := range b {
			args := []any{org}
			for _, c := range t.Columns {
				x := r.Values[c.Name]
				switch v := x.(type) {
				case time.Time:
					if c.Type == store.Date {
						x = v.Format("2006-01-02")
					} else {
						x = v.Format("2006-01-02T15:04:05.000Z")
					}
				case store.Decimal:
					x = string(v)
				case bool:
					x = 0
					if v {
						x = 1
					}
				}
				args = append(args, x)
			}
			out[i] = append(out[i], append(args, synced, nil))
		}
	}
	return out
}

// bareInsert writes the rows with one prepared INSERT per batch
// transaction into a fresh file with the same table definition and the
// same durability settings as the Store.
func bareInsert(b *testing.B, dir string, t store.Table, args [][][]any) time.Duration {
	path := filepath.Join(dir, fmt.Sprintf("bare-%d.db", rand.Int64()))
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1&_busy_timeout=5000&_cache_size=-65536")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	cols := []string{`"_org_id"`}
	defs := []string{`"_org_id" TEXT NOT NULL`}
	for _, c := range t.Columns {
		typ := map[store.ColumnType]string{store.Integer: "INTEGER", store.Boolean: "INTEGER", store.Real: "REAL", store.Blob: "BLOB"}[c.Type]
		if typ == "" {
			typ = "TEXT"
		}
		cols = append(cols, `"`+c.Name+`"`)
		defs = append(defs, `"`+c.Name+`" `+typ)
	}
	cols = append(cols, `"_synced_at"`, `"_deleted_at"`)
	defs = append(defs, `"_synced_at" TEXT NOT NULL`, `"_deleted_at" TEXT`, `PRIMARY KEY ("_org_id", "Id")`)
	if _, err := db.Exec(`CREATE TABLE "Wide__c" (` + strings.Join(defs, ", ") + `)`); err != nil {
		b.Fatal(err)
	}
	q := `INSERT INTO "Wide__c" (` + strings.Join(cols, ", ") + `) VALUES (` + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + `)`
	start := time.Now()
	for _, batch := range args {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		st, err := tx.Prepare(q)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range batch {
			if _, err := st.Exec(a...); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

func storeInsert(b *testing.B, dir string, t store.Table, batches [][]store.Row) time.Duration {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(dir, fmt.Sprintf("store-%d.db", rand.Int64())))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.EnsureTable(ctx, t); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for _, batch := range batches {
		res, err := s.Upsert(ctx, store.Upsert{OrgID: org, Object: t.Name, Rows: batch})
		if err != nil {
			b.Fatal(err)
		}
		if res.Inserted != len(batch) {
			b.Fatalf("inserted %d of %d", res.Inserted, len(batch))
		}
	}
	return time.Since(start)
}

// BenchmarkFullSync is the full-sync shape: 60-column rows in batches of
// 2,000 into a fresh file. Each iteration writes the same 20,000 rows with
// the Store and with a bare prepared INSERT (a hand-written loop that binds
// pre-converted values: the cost of SQLite itself), alternating, and
// reports both rates and their ratio.
func BenchmarkFullSync(b *testing.B) { compareValidation(b, benchFullSync) }

func benchFullSync(b *testing.B) {
	const rows, batch = 20_000, 2_000
	t := wideTable()
	batches := wideBatches(t, rows, batch)
	args := bareArgs(t, batches)
	dir := b.TempDir()
	var bare, st time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			bare += bareInsert(b, dir, t, args)
			st += storeInsert(b, dir, t, batches)
		} else {
			st += storeInsert(b, dir, t, batches)
			bare += bareInsert(b, dir, t, args)
		}
	}
	n := float64(rows * b.N)
	b.ReportMetric(n/bare.Seconds(), "bare-rows/s")
	b.ReportMetric(n/st.Seconds(), "store-rows/s")
	b.ReportMetric(bare.Seconds()/st.Seconds(), "store/bare")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkWebhook is the webhook shape: 32 goroutines, each upserting 1
// to 100 rows at a time, every call a durable commit (synchronous=FULL);
// group commit shares the syncs. It reports rows/s and the p50 and p99
// latency of a call.
func BenchmarkWebhook(b *testing.B) { compareValidation(b, benchWebhook) }

// compareValidation runs bench with rows validated on the caller's
// goroutine (the Store's behaviour) and, for comparison in the same run,
// inside the writer (the former behaviour).
func compareValidation(b *testing.B, bench func(*testing.B)) {
	for _, m := range []struct {
		name     string
		inWriter bool
	}{{"validate=caller", false}, {"validate=writer", true}} {
		b.Run(m.name, func(b *testing.B) {
			sqlite.SetValidateInWriter(m.inWriter)
			defer sqlite.SetValidateInWriter(false)
			bench(b)
		})
	}
}

func benchWebhook(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "webhook.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	t := store.Table{Name: "Account", Columns: []store.Column{
		{Name: "Id", Type: store.Text}, {Name: "Name", Type: store.Text}, {Name: "SystemModstamp", Type: store.DateTime},
		{Name: "AnnualRevenue", Type: store.Numeric, Precision: 18, Scale: 2}, {Name: "Industry", Type: store.Text},
		{Name: "NumberOfEmployees", Type: store.Integer}, {Name: "IsDeleted", Type: store.Boolean},
		{Name: "Description", Type: store.Text}, {Name: "Phone", Type: store.Text}, {Name: "Website", Type: store.Text},
	}}
	if err := s.EnsureTable(ctx, t); err != nil {
		b.Fatal(err)
	}
	const workers = 32
	var calls, rowsDone atomic.Int64
	lat := make([][]time.Duration, workers)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for calls.Add(1) <= int64(b.N) {
				n := 1 + rng.IntN(100)
				rows := make([]store.Row, n)
				for i := range rows {
					k := rng.IntN(200_000)
					rows[i] = store.Row{ID: fmt.Sprintf("001%012dAAA", k), Values: map[string]any{
						"Name": fmt.Sprintf("Account %d", k), "SystemModstamp": base.Add(time.Duration(rng.IntN(1e6)) * time.Millisecond),
						"AnnualRevenue": store.Decimal("1250000.00"), "Industry": "Manufacturing", "NumberOfEmployees": int64(k),
						"Description": "a webhook update", "Phone": "+1 555 0100", "Website": "https://example.com",
					}}
				}
				t0 := time.Now()
				if _, err := s.Upsert(ctx, store.Upsert{OrgID: org, Object: "Account", Rows: rows,
					Receipts: []string{fmt.Sprintf("04l%d-%d", w, rng.Int64())}}); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
				rowsDone.Add(int64(n))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*50/100].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[min(len(all)-1, len(all)*99/100)].Microseconds())/1000, "p99-ms")
	}
	b.ReportMetric(float64(rowsDone.Load())/elapsed.Seconds(), "rows/s")
	st := s.Stats()
	if st.Commits > 0 {
		b.ReportMetric(float64(st.Requests)/float64(st.Commits), "calls/commit")
	}
}

// BenchmarkHeap upserts many rows in batches of 2,000 (100,000, or
// 1,000,000 with -sfsync.big), generating them as it goes, and reports
// HeapInuse after the first tenth and after the last batch (after a GC
// each time, with one batch of rows live):
// a flat heap means nothing grows with the number of rows written.
func BenchmarkHeap(b *testing.B) {
	total := 100_000
	if *big {
		total = 1_000_000
	}
	const batch = 2_000
	ctx := context.Background()
	t := wideTable()
	t.Columns = t.Columns[:20]
	stamp := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), fmt.Sprintf("heap-%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		if err := s.EnsureTable(ctx, t); err != nil {
			b.Fatal(err)
		}
		var early, late uint64
		rows := make([]store.Row, 0, batch)
		start := time.Now()
		for n := 0; n < total; n += batch {
			rows = rows[:0]
			for k := n; k < n+batch; k++ {
				rows = append(rows, wideRow(t, k, stamp))
			}
			if _, err := s.Upsert(ctx, store.Upsert{OrgID: org, Object: t.Name, Rows: rows}); err != nil {
				b.Fatal(err)
			}
			// Both measured at the same point, with one batch of rows live.
			switch n + batch {
			case total / 10:
				early = heapInuse()
			case total:
				late = heapInuse()
			}
		}
		elapsed := time.Since(start)
		s.Close()
		b.ReportMetric(float64(early)/(1<<20), "heap-early-MiB")
		b.ReportMetric(float64(late)/(1<<20), "heap-end-MiB")
		b.ReportMetric(float64(total)/elapsed.Seconds(), "rows/s")
	}
}

func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// BenchmarkWebhookDuringFullSync is the two shapes at once: 16 goroutines
// upserting 1 to 100 narrow rows at a time (b.N calls in all) while one
// goroutine upserts 60-column rows in batches of 2,000, as a full sync
// does alongside webhooks. It reports the webhook calls' p50 and p99
// latency and both row rates: a full-sync batch holds the writer, so it
// is what webhook latency waits for.
func BenchmarkWebhookDuringFullSync(b *testing.B) { compareValidation(b, benchMixed) }

func benchMixed(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "mixed.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	wide := wideTable()
	narrow := store.Table{Name: "Account", Columns: []store.Column{
		{Name: "Id", Type: store.Text}, {Name: "Name", Type: store.Text}, {Name: "SystemModstamp", Type: store.DateTime},
		{Name: "NumberOfEmployees", Type: store.Integer},
	}}
	for _, t := range []store.Table{wide, narrow} {
		if err := s.EnsureTable(ctx, t); err != nil {
			b.Fatal(err)
		}
	}
	batches := wideBatches(wide, 20_000, 2_000)
	const workers = 16
	var calls, hookRows, syncRows atomic.Int64
	lat := make([][]time.Duration, workers)
	stamp := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	stop := make(chan struct{})
	syncDone := make(chan struct{})
	b.ResetTimer()
	start := time.Now()
	go func() {
		defer close(syncDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			batch := batches[i%len(batches)]
			if _, err := s.Upsert(ctx, store.Upsert{OrgID: org, Object: wide.Name, Rows: batch}); err != nil {
				b.Error(err)
				return
			}
			syncRows.Add(int64(len(batch)))
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			for calls.Add(1) <= int64(b.N) {
				rows := make([]store.Row, 1+rng.IntN(100))
				for i := range rows {
					k := rng.IntN(200_000)
					rows[i] = store.Row{ID: fmt.Sprintf("001%012dAAA", k), Values: map[string]any{
						"Name": fmt.Sprintf("Account %d", k), "NumberOfEmployees": int64(k),
						"SystemModstamp": stamp.Add(time.Duration(rng.IntN(1e6)) * time.Millisecond)}}
				}
				t0 := time.Now()
				if _, err := s.Upsert(ctx, store.Upsert{OrgID: org, Object: narrow.Name, Rows: rows}); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
				hookRows.Add(int64(len(rows)))
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-syncDone
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*50/100].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[min(len(all)-1, len(all)*99/100)].Microseconds())/1000, "p99-ms")
	}
	b.ReportMetric(float64(hookRows.Load())/elapsed.Seconds(), "hook-rows/s")
	b.ReportMetric(float64(syncRows.Load())/elapsed.Seconds(), "sync-rows/s")
	b.ReportMetric(0, "ns/op")
}
