//go:build !unix

package soql

import "time"

// cpuTime is not measured on this platform; benchmarks then omit the
// per-CPU-second metric.
func cpuTime() time.Duration { return 0 }
