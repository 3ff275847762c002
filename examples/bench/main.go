// Command bench measures sfsync against a fake org (package sftest)
// served over real HTTP on loopback, and runs its fault drills:
//
//	go run ./examples/bench                   # the benchmark, as a table
//	go run ./examples/bench -json             # the same, as JSON
//	go run ./examples/bench -records 1000000  # the large size
//	go run ./examples/bench -drills           # the fault drills, pass/fail
//
// The benchmark measures a full sync of one 60-field object (sftest's
// Account) through REST and through Bulk API 2.0 into SQLite (and
// PostgreSQL when -pg or SFSYNC_POSTGRES_DSN names a database), beside
// the bare SQLite insert rate of the same rows (the ceiling); the same
// full sync with latency injected per request, and four objects synced
// in parallel with that latency, against the ideal (requests x latency /
// concurrency); an incremental sync after a share of the records
// changed; and Outbound Message ingest by 8 to 32 concurrent senders.
// With -count N each figure is the median of N runs.
//
// The fake org runs in the same process, so peak RSS and CPU time
// include the fake org's; the report gives the fake org's RSS.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	records        int
	latency        time.Duration
	latencyRecords int
	multiObjects   []string
	multiRecords   int
	change         float64
	senders        []int
	messages       int
	perMessage     int
	pg             string
	apis           []string
	asJSON         bool
	drills         bool
	only           string
	dir            string
	timeout        time.Duration
	verbose        bool
	cpuProfile     string
	count          int
}

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.records, "records", 100_000, "records of the synced object (1000000 for the large run)")
	fs.DurationVar(&o.latency, "latency", 200*time.Millisecond, "latency injected per request in the latency scenario (0 skips it)")
	fs.IntVar(&o.latencyRecords, "latency-records", 0, "records synced in the latency scenario (0: -records)")
	multi := fs.String("latency-objects", "Account,Contact,Opportunity,Case", "objects synced in parallel in the second latency scenario (one object skips it)")
	fs.IntVar(&o.multiRecords, "latency-objects-records", 20_000, "records of each object of -latency-objects")
	fs.Float64Var(&o.change, "change", 0.01, "share of the records changed before the incremental sync")
	senders := fs.String("senders", "8,16,32", "comma-separated concurrent webhook sender counts")
	fs.IntVar(&o.messages, "messages", 300, "Outbound Messages posted per sender count")
	fs.IntVar(&o.count, "count", 1, "run each measurement this many times and report the median run (by seconds)")
	fs.IntVar(&o.perMessage, "notifications", 100, "notifications per Outbound Message (Salesforce sends up to 100)")
	fs.StringVar(&o.pg, "pg", "", "PostgreSQL DSN to measure too (default $SFSYNC_POSTGRES_DSN, not shown here as it may hold a password; none skips PostgreSQL)")
	apis := fs.String("apis", "rest,bulk", "extract APIs to measure: rest, bulk")
	fs.BoolVar(&o.asJSON, "json", false, "print JSON instead of tables")
	fs.BoolVar(&o.drills, "drills", false, "run the fault drills instead of the benchmark")
	fs.StringVar(&o.only, "drill", "", "with -drills, run only the drills whose name contains this")
	fs.StringVar(&o.dir, "dir", "", "directory for database files (default: a new temporary directory)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up after this long")
	fs.BoolVar(&o.verbose, "v", false, "log progress to stderr")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the benchmark to this file")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: bench [flags]\n\nMeasures sfsync against an in-process fake org over loopback HTTP, or with -drills runs the fault drills.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.pg == "" {
		o.pg = os.Getenv("SFSYNC_POSTGRES_DSN")
	}
	for m := range strings.SplitSeq(*multi, ",") {
		if m = strings.TrimSpace(m); m != "" && !slices.Contains(o.multiObjects, m) {
			o.multiObjects = append(o.multiObjects, m)
		}
	}
	for s := range strings.SplitSeq(*senders, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("-senders: %q is not a count between 1 and 1024", s)
		}
		o.senders = append(o.senders, n)
	}
	for a := range strings.SplitSeq(*apis, ",") {
		if a = strings.TrimSpace(a); a != "rest" && a != "bulk" {
			return nil, fmt.Errorf("-apis: %q is neither rest nor bulk", a)
		}
		o.apis = append(o.apis, strings.TrimSpace(a))
	}
	switch {
	case o.records < 1 || o.records > 10_000_000:
		return nil, errors.New("-records: want 1 to 10000000")
	case !(o.change > 0 && o.change <= 1): // NaN too
		return nil, errors.New("-change: want a share in (0, 1]")
	case o.latency < 0:
		return nil, errors.New("-latency: want 0 or more")
	case o.latencyRecords < 0 || o.latencyRecords > 10_000_000:
		return nil, errors.New("-latency-records: want 0 (same as -records) to 10000000")
	case o.perMessage < 1 || o.perMessage > 100:
		return nil, errors.New("-notifications: want 1 to 100")
	case o.multiRecords < 1 || o.multiRecords > 10_000_000:
		return nil, errors.New("-latency-objects-records: want 1 to 10000000")
	case o.count < 1 || o.count > 100:
		return nil, errors.New("-count: want 1 to 100")
	case o.messages < 1 || o.messages > 100_000:
		return nil, errors.New("-messages: want 1 to 100000")
	}
	if o.latencyRecords == 0 {
		o.latencyRecords = o.records
	}
	return o, nil
}

func main() {
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	if o.dir == "" {
		d, err := os.MkdirTemp("", "sfsync-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.dir = d
	}
	logf := func(format string, args ...any) {
		if o.verbose {
			fmt.Fprintf(stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
		}
	}
	if o.drills {
		results := runDrills(ctx, o.dir, o.only, logf)
		if o.asJSON {
			return writeJSON(stdout, map[string]any{"machine": machineInfo(), "drills": results})
		}
		printDrills(stdout, results)
		for _, r := range results {
			if r.Status == statusFail {
				return errors.New("a drill failed")
			}
		}
		return nil
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := benchmark(ctx, o, logf)
	if err != nil {
		return err
	}
	if o.asJSON {
		return writeJSON(stdout, rep)
	}
	printReport(stdout, rep)
	return nil
}

// report is everything the benchmark measured.
type report struct {
	Machine     machine         `json:"machine"`
	Command     string          `json:"command"`
	Full        []syncResult    `json:"full_sync"`
	Latency     []syncResult    `json:"latency"`
	Incremental []syncResult    `json:"incremental"`
	Webhook     []webhookResult `json:"webhook"`
	// OrgRSSMiB is the process's RSS once the fake org is seeded: the
	// share of every peak that is the fake org's, not the engine's.
	OrgRSSMiB float64 `json:"fake_org_rss_mib"`
}

func benchmark(ctx context.Context, o *options, logf func(string, ...any)) (*report, error) {
	rep := &report{Command: commandLine(os.Args[1:])}
	rep.Machine = machineInfo()
	backends := []string{"sqlite"}
	if o.pg != "" {
		backends = append(backends, "postgres")
	}
	env, err := newBenchEnv(o.records, o.dir, o.pg, logf)
	if err != nil {
		return nil, err
	}
	defer env.close()
	runtime.GC()
	rep.OrgRSSMiB = mib(currentRSS())

	for _, b := range backends {
		for _, api := range o.apis {
			logf("full sync %s %s", b, api)
			r, err := medianOf(o.count, func() (syncResult, error) { return env.fullSync(ctx, b, api, 0) })
			if err != nil {
				return rep, err
			}
			rep.Full = append(rep.Full, r)
		}
	}
	if o.latency > 0 {
		lenv := env
		if o.latencyRecords != o.records {
			if lenv, err = newBenchEnv(o.latencyRecords, o.dir, o.pg, logf); err != nil {
				return rep, err
			}
			defer lenv.close()
		}
		for _, api := range o.apis {
			logf("latency %s %s", api, o.latency)
			r, err := medianOf(o.count, func() (syncResult, error) { return lenv.fullSync(ctx, "sqlite", api, o.latency) })
			if err != nil {
				return rep, err
			}
			rep.Latency = append(rep.Latency, r)
		}
		if len(o.multiObjects) > 1 {
			menv, err := newBenchEnv(o.multiRecords, o.dir, o.pg, logf, o.multiObjects...)
			if err != nil {
				return rep, err
			}
			logf("latency rest %s, %d objects in parallel", o.latency, len(o.multiObjects))
			r, err := medianOf(o.count, func() (syncResult, error) { return menv.fullSync(ctx, "sqlite", "rest", o.latency) })
			menv.close()
			if err != nil {
				return rep, err
			}
			rep.Latency = append(rep.Latency, r)
		}
	}
	for _, b := range backends {
		logf("incremental %s", b)
		r, err := medianOf(o.count, func() (syncResult, error) { return env.incremental(ctx, b, o.change) })
		if err != nil {
			return rep, err
		}
		rep.Incremental = append(rep.Incremental, r)
	}
	logf("webhook ingest")
	for _, n := range o.senders {
		w, err := medianOf(o.count, func() (webhookResult, error) {
			rs, err := env.webhookBench(ctx, []int{n}, o.messages, o.perMessage)
			if err != nil {
				return webhookResult{}, err
			}
			return rs[0], nil
		})
		if err != nil {
			return rep, err
		}
		rep.Webhook = append(rep.Webhook, w)
	}
	rep.Machine.LoadAfter = loadAverage()
	return rep, nil
}

// machine describes where the numbers were measured.
type machine struct {
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	CPUs       int    `json:"cpus"`
	GoVersion  string `json:"go"`
	CPU        string `json:"cpu,omitempty"`
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after,omitempty"`
	Date       string `json:"date"`
}

func machineInfo() machine {
	m := machine{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(),
		GoVersion: runtime.Version(), LoadBefore: loadAverage(), Date: time.Now().UTC().Format(time.RFC3339)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// loadAverage is the 1, 5 and 15 minute load of the machine.
func loadAverage() string {
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			return strings.Join(f[:3], " ")
		}
	}
	if out, err := exec.Command("uptime").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return "unknown"
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// commandLine is the command that ran, with a -pg DSN (which may carry
// a password) replaced by a placeholder.
func commandLine(args []string) string {
	out := []string{"go", "run", "./examples/bench"}
	redactNext := false
	for _, a := range args {
		switch {
		case redactNext:
			a, redactNext = "[dsn]", false
		case a == "-pg" || a == "--pg":
			redactNext = true
		case strings.HasPrefix(a, "-pg=") || strings.HasPrefix(a, "--pg="):
			a = a[:strings.Index(a, "=")+1] + "[dsn]"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

// seconder is a measurement with a duration.
type seconder interface{ seconds() float64 }

func (r syncResult) seconds() float64    { return r.Seconds }
func (r webhookResult) seconds() float64 { return r.Seconds }

// medianOf runs f n times and returns the run with the median duration
// (the lower middle one for an even n), so that one disturbed run on a
// shared machine does not make the figure.
func medianOf[T seconder](n int, f func() (T, error)) (T, error) {
	runs := make([]T, 0, n)
	for range n {
		r, err := f()
		if err != nil {
			return r, err
		}
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(a, b T) int { return cmp.Compare(a.seconds(), b.seconds()) })
	return runs[(len(runs)-1)/2], nil
}
