//go:build linux

package outbound

import (
	"syscall"
	"time"
	"unsafe"
)

// cpuTime is the process's CPU time.
func cpuTime() time.Duration { return clock(2) } // CLOCK_PROCESS_CPUTIME_ID

// threadCPUTime is the calling OS thread's CPU time.
func threadCPUTime() time.Duration { return clock(3) } // CLOCK_THREAD_CPUTIME_ID

func clock(id uintptr) time.Duration {
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, id, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
