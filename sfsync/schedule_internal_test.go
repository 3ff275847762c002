package sfsync

import (
	"testing"
	"time"
)

// TestScheduleDefaultsAndJitter: the scheduled sync defaults to every 15
// minutes, and each run is put off by a random share of up to a tenth.
func TestScheduleDefaultsAndJitter(t *testing.T) {
	c := (&Config{}).withDefaults()
	if c.Interval != 15*time.Minute {
		t.Fatalf("default interval %v", c.Interval)
	}
	s := &Syncer{cfg: c}
	seen := map[time.Duration]bool{}
	for range 200 {
		j := s.jitter()
		if j < 0 || j > c.Interval/10 {
			t.Fatalf("jitter %v outside 0..%v", j, c.Interval/10)
		}
		seen[j] = true
	}
	if len(seen) < 100 {
		t.Fatalf("jitter took only %d values in 200 draws", len(seen))
	}
}
