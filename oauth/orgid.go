package oauth

import (
	"errors"
	"fmt"
)

// ErrBadOrgID is returned (wrapped) by NormalizeOrgID.
var ErrBadOrgID = errors.New("oauth: invalid org id")

const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// NormalizeOrgID returns the 18-character form of a 15- or 18-character
// org ID (SALESFORCE.md 6). It checks that the ID is alphanumeric, starts
// with the Organization prefix 00D and, for 18 characters, that the
// checksum matches (compared case-insensitively, as Salesforce does).
func NormalizeOrgID(id string) (string, error) {
	if len(id) != 15 && len(id) != 18 {
		return "", fmt.Errorf("%w: %d characters, want 15 or 18", ErrBadOrgID, len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", fmt.Errorf("%w: not alphanumeric", ErrBadOrgID)
		}
	}
	if id[:3] != "00D" {
		return "", fmt.Errorf("%w: %q does not start with 00D", ErrBadOrgID, id[:3])
	}
	full := id[:15] + checksum(id[:15])
	if len(id) == 18 && !equalFoldASCII(id[15:], full[15:]) {
		return "", fmt.Errorf("%w: checksum %s, want %s", ErrBadOrgID, id[15:], full[15:])
	}
	return full, nil
}

// checksum computes the 3-character suffix of a 15-character ID.
func checksum(id15 string) string {
	var out [3]byte
	for chunk := range 3 {
		v := 0
		for i := range 5 {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				v |= 1 << i
			}
		}
		out[chunk] = checksumAlphabet[v]
	}
	return string(out[:])
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'a' && x <= 'z' {
			x -= 'a' - 'A'
		}
		if y >= 'a' && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
