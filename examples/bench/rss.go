package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// resetPeakRSS resets the kernel's peak-RSS mark of this process
// (Linux: writing 5 to /proc/self/clear_refs), so that the next
// peakRSS reading covers only what ran in between. It reports whether
// the reset worked; when it did not, peakRSS is the peak since start.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS returns the process's peak resident set size in bytes
// (VmHWM of /proc/self/status), or 0 where that is not available.
func peakRSS() int64 { return statusKB("VmHWM:") }

// currentRSS returns the process's resident set size in bytes (VmRSS),
// or 0 where that is not available.
func currentRSS() int64 { return statusKB("VmRSS:") }

func statusKB(key string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), key)
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// cpuTime returns the user and system CPU time this process used so
// far (getrusage), or 0 where that is not available. On a shared
// machine it moves far less with the load than the wall clock does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
