package outbound

import (
	"errors"
	"fmt"
)

// ErrBadID is returned by NormalizeID for a string that is not a
// Salesforce ID.
var ErrBadID = errors.New("outbound: not a Salesforce ID")

const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// NormalizeID returns the 18-character form of a 15- or 18-character
// Salesforce ID (SALESFORCE.md 6). A 15-character ID is case-sensitive
// and gains its 3-character checksum; an 18-character ID is
// case-insensitive, so its first 15 characters get back the case the
// checksum encodes ("00de0000000pmu1eaa" gives "00De0000000pmu1EAA"). An
// 18-character ID whose checksum cannot match its letters is refused.
func NormalizeID(id string) (string, error) {
	switch len(id) {
	case 15, 18:
	default:
		return "", fmt.Errorf("%d characters: %w", len(id), ErrBadID)
	}
	b := []byte(id)
	for _, c := range b {
		if !isAlnum(c) {
			return "", fmt.Errorf("character %q: %w", c, ErrBadID)
		}
	}
	if len(b) == 18 {
		if err := restoreCase(b); err != nil {
			return "", err
		}
	}
	return string(b[:15]) + checksum(b[:15]), nil
}

// restoreCase sets the case of the letters of b[:15] from the checksum in
// b[15:18], and checks that the checksum does not mark a digit as upper
// case.
func restoreCase(b []byte) error {
	for chunk := 0; chunk < 3; chunk++ {
		c := upper(b[15+chunk])
		bits := indexByte(checksumAlphabet, c)
		if bits < 0 {
			return fmt.Errorf("checksum character %q: %w", b[15+chunk], ErrBadID)
		}
		for i := 0; i < 5; i++ {
			p := &b[chunk*5+i]
			isUpper := bits&(1<<i) != 0
			switch {
			case isLetter(*p) && isUpper:
				*p = upper(*p)
			case isLetter(*p):
				*p = lower(*p)
			case isUpper:
				return fmt.Errorf("checksum does not match: %w", ErrBadID)
			}
		}
	}
	return nil
}

// checksum computes the 3-character suffix of a 15-character ID.
func checksum(id15 []byte) string {
	var out [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		bits := 0
		for i := 0; i < 5; i++ {
			if c := id15[chunk*5+i]; c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		out[chunk] = checksumAlphabet[bits]
	}
	return string(out[:])
}

// SameID reports whether a and b name the same Salesforce record (or
// org): the 15- and 18-character forms of one ID are the same, and
// 18-character IDs compare regardless of case. Strings that are not IDs
// are the same only when they are equal.
func SameID(a, b string) bool {
	if a == b {
		return true
	}
	na, errA := NormalizeID(a)
	nb, errB := NormalizeID(b)
	return errA == nil && errB == nil && na == nb
}

func isAlnum(c byte) bool { return isLetter(c) || c >= '0' && c <= '9' }

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c - 'A' + 'a'
	}
	return c
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
