package outbound

import (
	"errors"
	"testing"
)

func TestNormalizeID(t *testing.T) {
	tests := []struct{ in, want string }{
		// Real pairs from captured messages (SALESFORCE.md 6).
		{"00De0000000pmu1", "00De0000000pmu1EAA"},
		{"00D8c000002JHMD", "00D8c000002JHMDEA4"},
		{"00DD0000000muCU", "00DD0000000muCUMAY"},
		{"00De0000000pmu1EAA", "00De0000000pmu1EAA"},
		// 18-character IDs are case-insensitive: the checksum restores case.
		{"00de0000000pmu1eaa", "00De0000000pmu1EAA"},
		{"00DE0000000PMU1EAA", "00De0000000pmu1EAA"},
		{"00dd0000000mucumay", "00DD0000000muCUMAY"},
		{"000000000000000", "000000000000000AAA"},
		{"ABCDEABCDEABCDE", "ABCDEABCDEABCDE555"},
	}
	for _, tt := range tests {
		got, err := NormalizeID(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeID(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "00De0000000pmu", "00De0000000pmu1EA", "00De0000000pmu1!AA", "00De0000000pmu1EA9",
		"0123456789ABCDENNN", // the edited sample: N marks digits as upper case
	} {
		if got, err := NormalizeID(bad); !errors.Is(err, ErrBadID) {
			t.Errorf("NormalizeID(%q) = %q, %v; want ErrBadID", bad, got, err)
		}
	}
}

func TestSameID(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"00De0000000pmu1", "00De0000000pmu1EAA", true},
		{"00De0000000pmu1EAA", "00de0000000pmu1eaa", true},
		{"00De0000000pmu1", "00DE0000000PMU1", false}, // 15-character IDs are case-sensitive
		{"00De0000000pmu1", "00DD0000000muCU", false},
		{"not-an-id", "not-an-id", true},
		{"not-an-id", "NOT-AN-ID", false},
		{"", "00De0000000pmu1", false},
	}
	for _, tt := range tests {
		if got := SameID(tt.a, tt.b); got != tt.want {
			t.Errorf("SameID(%q, %q) = %v", tt.a, tt.b, got)
		}
		if got := SameID(tt.b, tt.a); got != tt.want {
			t.Errorf("SameID(%q, %q) = %v", tt.b, tt.a, got)
		}
	}
}
