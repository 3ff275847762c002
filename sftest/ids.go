package sftest

import "slices"

// base62 digits in ASCII order, so that IDs made from increasing counters
// also sort byte-wise in increasing order (SOQL.md 5.7).
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// checksumAlphabet is the alphabet of the 3-character case-safe suffix
// (SALESFORCE.md 6).
const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// makeID builds an 18-character ID from a 3-character key prefix and a
// counter: prefix, the pod "8c", the counter in base 62 padded to 10
// characters, then the checksum suffix.
func makeID(prefix string, n uint64) string {
	var b [18]byte
	copy(b[:3], prefix)
	b[3], b[4] = '8', 'c'
	for i := 14; i >= 5; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	suffix(b[:15], b[15:])
	return string(b[:])
}

// suffix writes the checksum of the 15-character id15 into out (3 bytes).
func suffix(id15, out []byte) {
	for chunk := 0; chunk < 3; chunk++ {
		v := 0
		for i := 0; i < 5; i++ {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				v |= 1 << i
			}
		}
		out[chunk] = checksumAlphabet[v]
	}
}

// To18 converts a 15-character ID to its 18-character case-safe form. An
// 18-character ID is returned unchanged; anything else returns "" and
// false.
func To18(id string) (string, bool) {
	if !validIDChars(id) {
		return "", false
	}
	switch len(id) {
	case 18:
		return id, true
	case 15:
		var out [3]byte
		suffix([]byte(id), out[:])
		return id + string(out[:]), true
	}
	return "", false
}

// validIDChars reports whether id is 15 or 18 ASCII letters and digits.
func validIDChars(id string) bool {
	if len(id) != 15 && len(id) != 18 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// idCore is the case-sensitive 15-character core of an ID; two IDs name
// the same record when their cores are equal (SALESFORCE.md 6).
func idCore(id string) string {
	if len(id) >= 15 {
		return id[:15]
	}
	return id
}

func slicesSortFunc[T any](s []T, cmp func(a, b T) int) { slices.SortFunc(s, cmp) }
