package sfsync_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/memory"
	"github.com/sfsync/salesforce-sync/store/sqlite"
)

// BenchmarkFullSync measures a full extract of one object of 5,000
// records over real HTTP (sftest), through REST and through Bulk, into
// the in-memory Store and into a SQLite file. It reports records/s and
// the API calls per sync.
func BenchmarkFullSync(b *testing.B) {
	const n = 5000
	for _, api := range []string{"rest", "bulk"} {
		for _, backend := range []string{"memory", "sqlite"} {
			b.Run(fmt.Sprintf("%s/%s", api, backend), func(b *testing.B) {
				var st store.Store = memory.New()
				if backend == "sqlite" {
					s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
					if err != nil {
						b.Fatal(err)
					}
					st = s
				}
				e := newEnvStore(b, st, sftest.Options{RecordsPer: map[string]int{"Invoice__c": n}}, func(c *sfsync.Config) {
					c.Objects = []string{"Invoice__c"}
					c.Progress = nil
					if api == "bulk" {
						c.BulkThreshold = 1
					} else {
						c.BulkThreshold = -1
					}
				})
				e.connect()
				e.sf.ResetCalls()
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					job, err := e.sync.Sync(context.Background(), sfsync.Request{OrgID: e.org, Mode: sfsync.ModeFull})
					if err != nil || job.State != store.JobSucceeded {
						b.Fatalf("sync: %+v %v", job, err)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(e.sf.APICalls())/float64(b.N), "api-calls/op")
			})
		}
	}
}

// BenchmarkApply measures applying Outbound Messages of 100 Account
// notifications (10 fields each, timestamps present, field list known)
// through the engine into the in-memory Store and a SQLite file.
func BenchmarkApply(b *testing.B) {
	for _, backend := range []string{"memory", "sqlite"} {
		b.Run(backend, func(b *testing.B) {
			var st store.Store = memory.New()
			if backend == "sqlite" {
				s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
				if err != nil {
					b.Fatal(err)
				}
				st = s
			}
			e := newEnvStore(b, st, sftest.Options{RecordsPer: map[string]int{"Account": 100}}, func(c *sfsync.Config) {
				c.Objects = []string{"Account"}
				c.Progress = nil
			})
			e.connect()
			e.run(sfsync.Request{}, store.JobSucceeded)
			fields := []string{"Id", "Name", "Phone", "Industry", "Rating", "Tier__c", "AnnualRevenue", "NumberOfEmployees", "Website", "SystemModstamp"}
			const action = "04k000000000001AAA"
			e.sync.SetAction(action, outboundAction("Account", fields))
			recs := e.sf.Org.Records("Account", false)
			str := func(s string) *string { return &s }
			b.ReportAllocs()
			b.ResetTimer()
			seq := 0
			for b.Loop() {
				m := &outbound.Message{OrganizationID: e.org, ActionID: action}
				stamp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
				for i, r := range recs {
					seq++
					m.Notifications = append(m.Notifications, outbound.Notification{
						ID: fmt.Sprintf("04l%012d", seq),
						SObject: outbound.SObject{Type: "Account", Fields: []outbound.Field{
							{Name: "Id", Value: str(r["Id"].(string))}, {Name: "Name", Value: str(fmt.Sprint("Acme ", i))},
							{Name: "Phone", Value: str("+1 555 0100")}, {Name: "Industry", Value: str("Energy")},
							{Name: "Rating", Value: str("Hot")}, {Name: "Tier__c", Value: str("Gold")},
							{Name: "AnnualRevenue", Value: str("1250000")}, {Name: "NumberOfEmployees", Value: str("42")},
							{Name: "Website", Value: str("https://example.com")}, {Name: "SystemModstamp", Value: str(stamp)},
						}},
					})
				}
				if err := e.sync.Apply(context.Background(), m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "notifications/s")
		})
	}
}
