package sftest

import "testing"

func TestTo18(t *testing.T) {
	// Real pairs from captured messages (SALESFORCE.md 6).
	for _, tc := range []struct{ in, want string }{
		{"00De0000000pmu1", "00De0000000pmu1EAA"},
		{"00D8c000002JHMD", "00D8c000002JHMDEA4"},
		{"00DD0000000muCU", "00DD0000000muCUMAY"},
		{"00DD0000000muCUMAY", "00DD0000000muCUMAY"},
	} {
		got, ok := To18(tc.in)
		if !ok || got != tc.want {
			t.Errorf("To18(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	for _, bad := range []string{"", "001", "00D8c000002JHM!", "00D8c000002JHMDEA"} {
		if _, ok := To18(bad); ok {
			t.Errorf("To18(%q) ok, want failure", bad)
		}
	}
}

func TestMakeIDOrderAndChecksum(t *testing.T) {
	prev := ""
	for n := uint64(3_000_000_000); n < 3_000_000_000+5000; n += 7 {
		id := makeID("001", n)
		if len(id) != 18 || id[:3] != "001" {
			t.Fatalf("makeID = %q", id)
		}
		if want, _ := To18(id[:15]); want != id {
			t.Fatalf("checksum of %q: want %q", id, want)
		}
		if id <= prev {
			t.Fatalf("IDs not increasing: %q after %q", id, prev)
		}
		prev = id
	}
}
