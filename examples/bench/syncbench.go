package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/postgres"
	"github.com/sfsync/salesforce-sync/store/sqlite"
)

// benchObject is the object every sync scenario syncs: sftest's Account
// has 60 fields (compound addresses, custom fields, formulas included).
const benchObject = "Account"

// syncResult is one measured sync.
type syncResult struct {
	Scenario      string         `json:"scenario"` // full, latency, incremental
	Store         string         `json:"store"`    // sqlite, postgres
	API           string         `json:"api"`      // rest, bulk
	Records       int64          `json:"records"`  // records written by the job
	Fields        int            `json:"columns"`  // columns of the table
	Seconds       float64        `json:"seconds"`
	CPUSeconds    float64        `json:"cpu_seconds"` // user+system CPU of the process (fake org included)
	RecordsPerSec float64        `json:"records_per_sec"`
	APICalls      int            `json:"api_calls"`      // counted against the daily limit
	Calls         map[string]int `json:"calls"`          // per endpoint
	PeakRSSMiB    float64        `json:"peak_rss_mib"`   // the process, fake org included
	RSSGrowthMiB  float64        `json:"rss_growth_mib"` // peak minus the RSS when the sync started
	RSSReset      bool           `json:"rss_reset"`      // the peak covers this run only

	// The ceiling (SQLite only): the same rows inserted bare.
	BareRecordsPerSec float64 `json:"bare_records_per_sec,omitempty"`
	Ratio             float64 `json:"ratio_of_ceiling,omitempty"`

	// With injected latency.
	LatencyMS    float64 `json:"latency_ms,omitempty"`
	Requests     int     `json:"requests,omitempty"`      // every request the sync sent, token calls included
	IdealSeconds float64 `json:"ideal_seconds,omitempty"` // requests x latency / concurrency
	Objects      int     `json:"objects,omitempty"`
	Concurrency  int     `json:"concurrency,omitempty"`

	// Incremental.
	Changed   int    `json:"changed,omitempty"`
	TableSize int64  `json:"table_size,omitempty"`
	FullCalls int    `json:"full_api_calls,omitempty"`
	JobID     string `json:"job_id"`
}

// benchEnv is what the sync scenarios share: one fake org, seeded once.
type benchEnv struct {
	sf      *sftest.Server
	dir     string
	pgDSN   string
	records int
	objects []string // synced objects, records of each
	runs    int
	log     func(format string, args ...any)
}

func newBenchEnv(records int, dir, pgDSN string, logf func(string, ...any), objects ...string) (*benchEnv, error) {
	if len(objects) == 0 {
		objects = []string{benchObject}
	}
	per := map[string]int{"User": 20}
	for _, o := range objects {
		per[o] = records
	}
	start := time.Now()
	sf, err := sftest.Start(sftest.Options{RecordsPer: per, Start: time.Now().UTC().Truncate(time.Millisecond)})
	if err != nil {
		return nil, fmt.Errorf("start fake org: %w", err)
	}
	if err := fitSeed(sf.Org); err != nil {
		sf.Close()
		return nil, err
	}
	logf("fake org: %d records of each of %v generated in %s", records, objects, time.Since(start).Round(time.Millisecond))
	return &benchEnv{sf: sf, dir: dir, pgDSN: pgDSN, records: records, objects: objects, log: logf}, nil
}

func (e *benchEnv) close() { e.sf.Close() }

// openStore opens a fresh, empty Store of the named backend, and a
// cleanup that removes what it created; cleanup must run while the
// Store is still open.
func (e *benchEnv) openStore(ctx context.Context, backend string) (store.Store, func(), error) {
	e.runs++
	switch backend {
	case "sqlite":
		path := filepath.Join(e.dir, "run-"+strconv.Itoa(e.runs)+".db")
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		return st, func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(path + suffix)
			}
		}, nil
	case "postgres":
		schema := fmt.Sprintf("sfsync_bench_%d_%d", os.Getpid(), e.runs)
		st, err := postgres.Open(ctx, e.pgDSN, postgres.WithSchema(schema))
		if err != nil {
			return nil, nil, err
		}
		pool := st.Pool()
		return st, func() {
			_, _ = pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+quoteIdent(schema)+" CASCADE")
		}, nil
	}
	return nil, nil, fmt.Errorf("unknown store %q", backend)
}

// syncRun is one app (Store, engine) on the shared org, connected.
type syncRun struct {
	h       *harness
	cleanup func()
}

func (e *benchEnv) newRun(ctx context.Context, backend, api string) (*syncRun, error) {
	st, cleanup, err := e.openStore(ctx, backend)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", backend, err)
	}
	threshold := -1 // never Bulk
	if api == "bulk" {
		threshold = 1
	}
	h, err := newHarness(harnessConfig{shared: e.sf, store: st, engine: func(c *sfsync.Config) {
		c.Objects = e.objects
		c.Concurrency = max(sfsync.DefaultConcurrency, len(e.objects))
		c.BulkThreshold = threshold
	}})
	if err != nil {
		cleanup()
		return nil, err
	}
	h.beforeStoreClose = cleanup
	if err := h.connect(ctx); err != nil {
		h.close()
		return nil, err
	}
	return &syncRun{h: h, cleanup: h.close}, nil
}

// measure runs one sync job and fills the common figures.
func (r *syncRun) measure(ctx context.Context, req sfsync.Request) (syncResult, error) {
	sf := r.h.sf
	sf.ResetCalls()
	runtime.GC()
	reset := resetPeakRSS()
	base := currentRSS()
	cpu0 := cpuTime()
	start := time.Now()
	job, err := r.h.run(ctx, req, store.JobSucceeded)
	took := time.Since(start)
	cpu := cpuTime() - cpu0
	if err != nil {
		return syncResult{}, err
	}
	res := syncResult{Seconds: took.Seconds(), CPUSeconds: cpu.Seconds(), APICalls: sf.APICalls(), Calls: sf.Calls(),
		PeakRSSMiB: mib(peakRSS()), RSSReset: reset, JobID: job.ID}
	res.RSSGrowthMiB = max(0, res.PeakRSSMiB-mib(base))
	for _, p := range job.Progress {
		res.Records += p.Done
	}
	res.RecordsPerSec = float64(res.Records) / took.Seconds()
	if t, err := r.h.st.Table(ctx, benchObject); err == nil {
		res.Fields = len(t.Columns)
	}
	return res, nil
}

// fullSync measures a full sync of benchObject into a fresh Store, with
// the bare-insert ceiling for SQLite. With latency, every request to
// the fake org waits that long first.
func (e *benchEnv) fullSync(ctx context.Context, backend, api string, latency time.Duration) (syncResult, error) {
	run, err := e.newRun(ctx, backend, api)
	if err != nil {
		return syncResult{}, err
	}
	defer run.cleanup()
	e.sf.SetLatency(latency)
	res, err := run.measure(ctx, sfsync.Request{Mode: sfsync.ModeFull})
	e.sf.SetLatency(0)
	if err != nil {
		return res, fmt.Errorf("%s %s full sync: %w", backend, api, err)
	}
	res.Scenario, res.Store, res.API = "full", backend, api
	want := int64(0)
	for _, o := range e.objects {
		want += int64(e.sf.Org.Count(o, false))
	}
	if res.Records < want {
		return res, fmt.Errorf("%s %s full sync wrote %d records, the org has %d", backend, api, res.Records, want)
	}
	if latency > 0 {
		res.Scenario = "latency"
		res.LatencyMS = float64(latency) / float64(time.Millisecond)
		for _, n := range res.Calls {
			res.Requests += n
		}
		// One object is one sequential cursor (the engine fetches the
		// next page while it writes the last); objects sync in parallel.
		res.Objects = len(e.objects)
		res.Concurrency = len(e.objects) // at most Config.Concurrency, set to fit them all
		res.IdealSeconds = float64(res.Requests) * latency.Seconds() / float64(res.Concurrency)
		return res, nil
	}
	if backend == "sqlite" {
		n, took, err := bareInsert(ctx, e.dir, run.h.st, run.h.org, benchObject)
		os.Remove(filepath.Join(e.dir, "bare-"+benchObject+".db"))
		os.Remove(filepath.Join(e.dir, "bare-"+benchObject+".db-wal"))
		os.Remove(filepath.Join(e.dir, "bare-"+benchObject+".db-shm"))
		if err != nil {
			return res, fmt.Errorf("ceiling: %w", err)
		}
		res.BareRecordsPerSec = float64(n) / took.Seconds()
		res.Ratio = res.RecordsPerSec / res.BareRecordsPerSec
	}
	return res, nil
}

// incremental does a full sync into a fresh Store, changes share of the
// records in the fake org, and measures the incremental sync that
// follows.
func (e *benchEnv) incremental(ctx context.Context, backend string, share float64) (syncResult, error) {
	run, err := e.newRun(ctx, backend, "rest")
	if err != nil {
		return syncResult{}, err
	}
	defer run.cleanup()
	// Let every earlier change pass the incremental window's lookback
	// (1 s, plus the Date header's whole seconds), so that the
	// incremental sync sees only the changes made here.
	run.h.settle()
	time.Sleep(time.Second)
	run.h.tick()
	full, err := run.measure(ctx, sfsync.Request{Mode: sfsync.ModeFull})
	if err != nil {
		return full, fmt.Errorf("full sync before incremental: %w", err)
	}
	ids := e.sf.Org.Records(benchObject, false)
	step := max(1, int(1/share))
	changed := 0
	run.h.tick()
	for i := 0; i < len(ids); i += step {
		id := ids[i]["Id"].(string)
		if err := e.sf.Org.Update(benchObject, id, map[string]any{"Phone": fmt.Sprintf("+1 555 %07d", i)}); err != nil {
			return full, fmt.Errorf("change %s: %w", id, err)
		}
		changed++
	}
	run.h.settle()
	res, err := run.measure(ctx, sfsync.Request{Mode: sfsync.ModeIncremental})
	if err != nil {
		return res, fmt.Errorf("incremental sync: %w", err)
	}
	res.Scenario, res.Store, res.API = "incremental", backend, "rest"
	res.Changed, res.FullCalls = changed, full.APICalls
	res.TableSize, _ = run.h.st.Count(ctx, run.h.org, benchObject, false)
	if res.Records < int64(changed) {
		return res, fmt.Errorf("incremental sync wrote %d records, %d changed", res.Records, changed)
	}
	return res, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
