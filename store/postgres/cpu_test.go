package postgres

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuMeter measures the CPU time a benchmark spends in this process and in
// the PostgreSQL backends serving its Store, so that it can report rows
// per CPU-second: on a shared machine wall-clock rates measure the other
// load as much as the code.
type cpuMeter struct {
	s       *Store
	selfAt  time.Duration
	backend map[int]time.Duration
}

func clockTicks(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the command name (which may hold spaces) in ")".
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, false
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, true // USER_HZ is 100 on Linux
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (m *cpuMeter) backends(tb testing.TB) map[int]time.Duration {
	tb.Helper()
	rows, err := m.s.pool.Query(context.Background(),
		`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, m.s.schema)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			tb.Fatal(err)
		}
		if t, ok := clockTicks(pid); ok {
			out[pid] = t
		}
	}
	return out
}

// startCPU begins measuring; s must have been opened by openMetered.
func startCPU(tb testing.TB, s *Store) *cpuMeter {
	m := &cpuMeter{s: s}
	m.backend = m.backends(tb)
	m.selfAt = selfCPU()
	return m
}

// stop reports rows per CPU-second (this process plus its backends).
func (m *cpuMeter) stop(b *testing.B, rows int64) {
	self := selfCPU() - m.selfAt
	var pg time.Duration
	for pid, t := range m.backends(b) {
		pg += t - m.backend[pid]
	}
	if total := self + pg; total > 0 {
		b.ReportMetric(float64(rows)/total.Seconds(), "rows/cpu-s")
		b.ReportMetric(float64(pg)/float64(total), "pg-share")
	}
}

// openMetered opens a Store on a fresh schema whose connections carry the
// schema name as application_name, for cpuMeter.
func openMetered(b *testing.B, conns int, opts ...Option) *Store {
	b.Helper()
	schema := newSchema(b)
	dsn := testDSN(b)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	if !strings.Contains(dsn, "://") {
		b.Skip("cpu metering needs a URL DSN")
	}
	opts = append([]Option{WithSchema(schema), WithMaxConns(conns)}, opts...)
	s, err := Open(context.Background(), dsn+sep+"application_name="+schema, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
