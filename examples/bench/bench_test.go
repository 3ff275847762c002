package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/sftest"
)

// TestBuildMessageDecodes: the benchmark's Outbound Messages are what
// Salesforce sends, as the outbound decoder reads them: the org, the
// action, one notification per record, null fields left out.
func TestBuildMessageDecodes(t *testing.T) {
	org, _ := sftest.To18("00D000000000001")
	action, _ := sftest.To18("04k000000000001")
	modstamp := time.Date(2026, 3, 1, 12, 0, 0, 123e6, time.UTC)
	recs := []map[string]any{
		{"Id": "001000000000001AAA", "Name": "Acme & Sons <Ltd>", "Phone": nil, "AnnualRevenue": 1.5e6, "SystemModstamp": modstamp},
		{"Id": "001000000000002AAA", "Name": "Globex", "Phone": "+1 555 0100", "SystemModstamp": modstamp},
	}
	fields := []string{"Id", "Name", "Phone", "AnnualRevenue", "SystemModstamp"}
	m := buildMessage(org, action, "http://127.0.0.1:1", &idSeq{prefix: "04l"}, "Account", recs, fields)
	got, err := outbound.Decode(bytes.NewReader(m.body))
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, m.body)
	}
	if got.OrganizationID != org || got.ActionID != action || len(got.Notifications) != 2 {
		t.Fatalf("message %s %s with %d notifications", got.OrganizationID, got.ActionID, len(got.Notifications))
	}
	var ids []string
	for i, n := range got.Notifications {
		ids = append(ids, n.ID)
		if n.SObject.Type != "Account" || n.SObject.ID() != recs[i]["Id"] {
			t.Errorf("notification %d: %s %s", i, n.SObject.Type, n.SObject.ID())
		}
	}
	if diff := cmp.Diff(m.notifs, ids); diff != "" {
		t.Errorf("notification ids (-built +decoded):\n%s", diff)
	}
	tests := []struct {
		rec           int
		field, want   string
		present, null bool
	}{
		{0, "Name", "Acme & Sons <Ltd>", true, false},
		{0, "Phone", "", false, false}, // null: left out, as Salesforce does
		{0, "AnnualRevenue", "1500000", true, false},
		{0, "SystemModstamp", "2026-03-01T12:00:00.123Z", true, false},
		{1, "Phone", "+1 555 0100", true, false},
		{1, "AnnualRevenue", "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			v, present, null := got.Notifications[tt.rec].SObject.Get(tt.field)
			if v != tt.want || present != tt.present || null != tt.null {
				t.Errorf("record %d %s = %q present %v null %v; want %q %v %v", tt.rec, tt.field, v, present, null, tt.want, tt.present, tt.null)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", ms(7), 0.99, 7 * time.Millisecond},
		{"median of unsorted", ms(5, 1, 3, 2, 4), 0.5, 3 * time.Millisecond},
		{"p99 of 100", ms(seq(100)...), 0.99, 99 * time.Millisecond},
		{"max", ms(3, 9, 1), 1, 9 * time.Millisecond},
		{"min", ms(3, 9, 1), 0, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantile(tt.in, tt.q); got != tt.want {
				t.Errorf("quantile(%v, %v) = %v, want %v", tt.in, tt.q, got, tt.want)
			}
		})
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(*options) bool
	}{
		{"defaults", nil, "", func(o *options) bool {
			return o.records == 100_000 && o.latency == 200*time.Millisecond && o.latencyRecords == 100_000 &&
				cmp.Equal(o.senders, []int{8, 16, 32}) && cmp.Equal(o.apis, []string{"rest", "bulk"}) && o.perMessage == 100
		}},
		{"large", []string{"-records", "1000000"}, "", func(o *options) bool { return o.records == 1_000_000 }},
		{"senders", []string{"-senders", "4, 64"}, "", func(o *options) bool { return cmp.Equal(o.senders, []int{4, 64}) }},
		{"bad senders", []string{"-senders", "8,x"}, "-senders", nil},
		{"zero senders", []string{"-senders", "0"}, "-senders", nil},
		{"bad api", []string{"-apis", "soap"}, "-apis", nil},
		{"too many notifications", []string{"-notifications", "101"}, "-notifications", nil},
		{"no records", []string{"-records", "0"}, "-records", nil},
		{"bad change", []string{"-change", "2"}, "-change", nil},
		{"NaN change", []string{"-change", "NaN"}, "-change", nil},
		{"negative latency", []string{"-latency", "-1s"}, "-latency", nil},
		{"no count", []string{"-count", "0"}, "-count", nil},
		{"count", []string{"-count", "3"}, "", func(o *options) bool { return o.count == 3 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseOptions(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(o) {
				t.Errorf("options %+v", o)
			}
		})
	}
}

func TestMedianOf(t *testing.T) {
	tests := []struct {
		name string
		secs []float64
		want float64
	}{
		{"one", []float64{4}, 4},
		{"odd", []float64{9, 1, 5}, 5},
		{"even takes the lower middle", []float64{8, 2, 6, 4}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := 0
			got, err := medianOf(len(tt.secs), func() (syncResult, error) {
				i++
				return syncResult{Seconds: tt.secs[i-1]}, nil
			})
			if err != nil || got.Seconds != tt.want || i != len(tt.secs) {
				t.Errorf("median of %v = %v (%d runs, %v), want %v", tt.secs, got.Seconds, i, err, tt.want)
			}
		})
	}
}

func TestCommandLineHidesDSN(t *testing.T) {
	got := commandLine([]string{"-records", "10", "-pg", "postgres://u:secret@h/db", "-pg=postgres://u:secret@h/db"})
	want := "go run ./examples/bench -records 10 -pg [dsn] -pg=[dsn]"
	if got != want {
		t.Errorf("commandLine = %q, want %q", got, want)
	}
}

// TestBenchmarkSmall runs the whole benchmark at a tiny size and checks
// that each figure is measured and consistent, not that it is fast.
func TestBenchmarkSmall(t *testing.T) {
	o, err := parseOptions([]string{"-records", "600", "-latency", "20ms", "-messages", "4", "-senders", "2,3",
		"-notifications", "50", "-change", "0.05", "-latency-objects-records", "200", "-pg", os.Getenv("SFSYNC_POSTGRES_DSN")}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.dir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := benchmark(ctx, o, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	wantFull := 2
	if o.pg != "" {
		wantFull = 4
	}
	if len(rep.Full) != wantFull || len(rep.Latency) != 3 || len(rep.Incremental) != wantFull/2 || len(rep.Webhook) != 2 {
		t.Fatalf("report rows: %d full, %d latency, %d incremental, %d webhook", len(rep.Full), len(rep.Latency), len(rep.Incremental), len(rep.Webhook))
	}
	for _, r := range append(rep.Full, rep.Latency...) {
		want := int64(600)
		if r.Objects > 1 {
			want = int64(200 * r.Objects)
		}
		if r.Records != want || r.APICalls == 0 || r.RecordsPerSec <= 0 || r.Fields < 50 {
			t.Errorf("%s %s %s: %d records, %d calls, %.0f/s, %d columns", r.Scenario, r.Store, r.API, r.Records, r.APICalls, r.RecordsPerSec, r.Fields)
		}
		if r.Store == "sqlite" && r.Scenario == "full" && (r.BareRecordsPerSec <= 0 || r.Ratio <= 0) {
			t.Errorf("sqlite %s: no ceiling measured: %+v", r.API, r)
		}
		if r.Scenario == "latency" && (r.IdealSeconds <= 0 || r.Seconds < r.IdealSeconds || r.Concurrency != r.Objects) {
			t.Errorf("latency %s: %.2fs against an ideal of %.2fs", r.API, r.Seconds, r.IdealSeconds)
		}
	}
	for _, r := range rep.Incremental {
		if r.Changed != 30 || r.Records != 30 || r.APICalls >= r.FullCalls+3 {
			t.Errorf("incremental %s: %d changed, %d written, %d calls (full %d)", r.Store, r.Changed, r.Records, r.APICalls, r.FullCalls)
		}
	}
	for _, r := range rep.Webhook {
		if r.Acked != 200 || r.Notifications != 200 || r.P99MS < r.P50MS || r.P50MS <= 0 {
			t.Errorf("webhook %d senders: %+v", r.Senders, r)
		}
	}
	var out bytes.Buffer
	printReport(&out, rep)
	for _, s := range []string{"Full sync", "bare SQLite", "latency", "Incremental", "Webhook", "p99"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, out.String())
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(o.dir, "*.db")); len(entries) != 0 {
		t.Errorf("database files left behind: %v", entries)
	}
}

// BenchmarkFullSync is the full-sync scenario at 10,000 records into
// SQLite: records/s of the sync itself, its API calls, and the bare
// insert ceiling of the same rows.
func BenchmarkFullSync(b *testing.B) {
	for _, api := range []string{"rest", "bulk"} {
		b.Run(api, func(b *testing.B) {
			env, err := newBenchEnv(10_000, b.TempDir(), "", b.Logf)
			if err != nil {
				b.Fatal(err)
			}
			defer env.close()
			b.ReportAllocs()
			var recs int64
			var secs, bare float64
			calls := 0
			for b.Loop() {
				r, err := env.fullSync(context.Background(), "sqlite", api, 0)
				if err != nil {
					b.Fatal(err)
				}
				recs, secs, calls, bare = recs+r.Records, secs+r.Seconds, calls+r.APICalls, bare+r.BareRecordsPerSec
			}
			b.ReportMetric(float64(recs)/secs, "records/s")
			b.ReportMetric(bare/float64(b.N), "bare-records/s")
			b.ReportMetric(float64(calls)/float64(b.N), "api-calls/op")
		})
	}
}

// BenchmarkWebhookIngest posts 20 Outbound Messages of 100
// notifications per iteration from 16 senders.
func BenchmarkWebhookIngest(b *testing.B) {
	env, err := newBenchEnv(5_000, b.TempDir(), "", b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	defer env.close()
	b.ReportAllocs()
	var notifs int
	var secs, p99 float64
	for b.Loop() {
		rs, err := env.webhookBench(context.Background(), []int{16}, 20, 100)
		if err != nil {
			b.Fatal(err)
		}
		notifs, secs, p99 = notifs+rs[0].Notifications, secs+rs[0].Seconds, max(p99, rs[0].P99MS)
	}
	b.ReportMetric(float64(notifs)/secs, "notifications/s")
	b.ReportMetric(p99, "ack-p99-ms")
}

// FuzzParseOptions: any command line either parses into options the
// benchmark can run with, or is refused with an error; never a panic.
func FuzzParseOptions(f *testing.F) {
	f.Add("-records 1000 -senders 8,16,32 -apis rest,bulk")
	f.Add("-senders ,, -notifications 0")
	f.Add("-change NaN -latency -1s")
	f.Add("-records 1000000 -pg postgres://x -json -drills")
	f.Fuzz(func(t *testing.T, line string) {
		o, err := parseOptions(strings.Fields(line), io.Discard)
		if err != nil {
			return
		}
		if o.records < 1 || o.latency < 0 || o.latencyRecords < 1 || o.perMessage < 1 || o.perMessage > 100 || len(o.senders) == 0 || len(o.apis) == 0 || !(o.change > 0 && o.change <= 1) {
			t.Fatalf("accepted unusable options %+v from %q", o, line)
		}
		for _, s := range o.senders {
			if s < 1 {
				t.Fatalf("accepted %d senders from %q", s, line)
			}
		}
	})
}
