package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// wideTable is a 60-column object like a real Account or Opportunity:
// text, numbers, decimals, flags, dates and the timestamps.
func wideTable() store.Table {
	t := store.Table{Name: "Wide__c", Columns: []store.Column{
		{Name: "Id", Type: store.Text},
		{Name: "SystemModstamp", Type: store.DateTime},
		{Name: "LastModifiedDate", Type: store.DateTime},
		{Name: "IsDeleted", Type: store.Boolean},
	}}
	for i := len(t.Columns); i < 60; i++ {
		var c store.Column
		switch i % 6 {
		case 0, 1:
			c = store.Column{Name: fmt.Sprintf("Text%02d__c", i), Type: store.Text}
		case 2:
			c = store.Column{Name: fmt.Sprintf("Amount%02d__c", i), Type: store.Numeric, Precision: 18, Scale: 2}
		case 3:
			c = store.Column{Name: fmt.Sprintf("Flag%02d__c", i), Type: store.Boolean}
		case 4:
			c = store.Column{Name: fmt.Sprintf("Count%02d__c", i), Type: store.Integer}
		case 5:
			c = store.Column{Name: fmt.Sprintf("When%02d__c", i), Type: store.DateTime}
		}
		t.Columns = append(t.Columns, c)
	}
	return t
}

func wideValues(t store.Table, n int, stamp time.Time) map[string]any {
	v := make(map[string]any, len(t.Columns))
	for _, c := range t.Columns[1:] {
		switch c.Type {
		case store.Text:
			v[c.Name] = fmt.Sprintf("value %d of %s with some length", n, c.Name)
		case store.Numeric:
			v[c.Name] = store.Decimal(fmt.Sprintf("%d.%02d", n*37, n%100))
		case store.Boolean:
			v[c.Name] = n%2 == 0
		case store.Integer:
			v[c.Name] = int64(n)
		case store.DateTime:
			v[c.Name] = stamp
		}
	}
	return v
}

// BenchmarkFullSyncCopy upserts new 60-column rows in batches of 2,000
// (the shape of a full sync), each batch through COPY and one merge.
func BenchmarkFullSyncCopy(b *testing.B) {
	for _, mode := range []string{"insert", "update"} {
		b.Run(mode, func(b *testing.B) {
			s := openMetered(b, 4)
			tbl := wideTable()
			mustEnsure(b, s, tbl)
			const batch = 2000
			stamp := ms("2026-01-01T00:00:00.000Z")
			rows := make([]store.Row, batch)
			for i := range rows {
				rows[i] = store.Row{Values: wideValues(tbl, i, stamp)}
			}
			ctx := context.Background()
			setIDs := func(k int) {
				for i := range rows {
					rows[i].ID = fmt.Sprintf("a00%06d%09d", k, i)
				}
			}
			if mode == "update" {
				setIDs(0)
				mustUpsert(b, s, store.Upsert{OrgID: org1, Object: tbl.Name, Rows: rows})
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU(b, s)
			var n int
			for k := 0; k < b.N; k++ {
				if mode == "insert" {
					b.StopTimer()
					setIDs(k)
					b.StartTimer()
				}
				res, err := s.Upsert(ctx, store.Upsert{OrgID: org1, Object: tbl.Name, Rows: rows})
				if err != nil {
					b.Fatal(err)
				}
				n += res.Inserted + res.Updated
			}
			if n != b.N*batch {
				b.Fatalf("%d rows written, want %d", n, b.N*batch)
			}
			b.StopTimer()
			cpu.stop(b, int64(n))
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkWebhookConcurrent: 32 goroutines each upsert 1 to 100
// 60-column rows at a time with a receipt, as Outbound Messages arrive;
// every batch is a durable transaction of single statements.
func BenchmarkWebhookConcurrent(b *testing.B) {
	for _, conns := range []int{4, DefaultMaxConns} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			benchWebhook(b, openMetered(b, conns))
		})
	}
}

func benchWebhook(b *testing.B, s *Store) {
	tbl := wideTable()
	mustEnsure(b, s, tbl)
	stamp := ms("2026-01-01T00:00:00.000Z")
	const workers = 32
	// Values are built before the clock starts; each batch takes 1 to
	// 100 of them under random Ids.
	pool := make([]map[string]any, 100)
	for i := range pool {
		pool[i] = wideValues(tbl, i, stamp)
	}
	var (
		next      atomic.Int64
		rowsDone  atomic.Int64
		mu        sync.Mutex
		latencies []time.Duration
		wg        sync.WaitGroup
	)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU(b, s)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			var mine []time.Duration
			rows := make([]store.Row, 100)
			for {
				k := next.Add(1)
				if k > int64(b.N) {
					break
				}
				n := 1 + rng.IntN(100)
				for i := range n {
					rows[i] = store.Row{ID: fmt.Sprintf("a00%015d", rng.IntN(1_000_000)), Values: pool[i]}
				}
				rows := rows[:n]
				start := time.Now()
				_, err := s.Upsert(context.Background(), store.Upsert{OrgID: org1, Object: tbl.Name, Rows: rows,
					Receipts: []string{fmt.Sprintf("04l%d-%d", w, k)}})
				if err != nil {
					b.Error(err)
					return
				}
				mine = append(mine, time.Since(start))
				rowsDone.Add(int64(n))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	cpu.stop(b, rowsDone.Load())
	b.ReportMetric(float64(rowsDone.Load())/b.Elapsed().Seconds(), "rows/s")
	if len(latencies) > 0 {
		slices.Sort(latencies)
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	}
}
