package store

import (
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzCheckDecimal: a decimal that CheckValue accepts parses as a number
// and fits the column's precision and scale without rounding; one it
// refuses is an ErrBadValue.
func FuzzCheckDecimal(f *testing.F) {
	for _, s := range []string{"0", "-12.50", "+1.000", "99999999999999.99", "1e5", ".5", "5.", "", "-", "1.2.3", "0001.10"} {
		f.Add(s, 16, 2)
	}
	f.Fuzz(func(t *testing.T, s string, prec, scale int) {
		c := Column{Name: "X__c", Type: Numeric, Precision: prec % 40, Scale: scale % 40}
		v, err := CheckValue(c, s)
		if err != nil {
			if !errors.Is(err, ErrBadValue) {
				t.Fatalf("CheckValue(%q) error %v, want ErrBadValue", s, err)
			}
			return
		}
		d, ok := v.(Decimal)
		if !ok || string(d) != s {
			t.Fatalf("CheckValue(%q) = %#v", s, v)
		}
		r, ok := new(big.Rat).SetString(strings.TrimPrefix(s, "+"))
		if !ok {
			t.Fatalf("accepted %q, which is not a number", s)
		}
		if c.Precision > 0 && c.Scale >= 0 && c.Scale <= c.Precision {
			// Scaled by 10^scale the value must be an integer of at most
			// precision digits.
			scaled := new(big.Rat).Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(c.Scale)), nil)))
			if !scaled.IsInt() {
				t.Fatalf("accepted %q for numeric(%d,%d): more fractional digits than the scale", s, c.Precision, c.Scale)
			}
			if n := new(big.Int).Abs(scaled.Num()); n.Sign() != 0 && len(n.String()) > c.Precision {
				t.Fatalf("accepted %q for numeric(%d,%d): more digits than the precision", s, c.Precision, c.Scale)
			}
		}
	})
}

// FuzzCheckText: accepted text is valid UTF-8 without NUL; accepted
// names contain only ASCII letters, digits and underscores.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"Account", "acme__Shipment__c", "_org_id", "a\x00b", "\xff", "Ünicode", "15:04:05.000Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := CheckValue(Column{Name: "T", Type: Text}, s); err == nil {
			if v != s || strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
				t.Fatalf("CheckValue(text %q) = %#v: want only valid UTF-8 without NUL, unchanged", s, v)
			}
		} else if !errors.Is(err, ErrBadValue) {
			t.Fatalf("text %q: error %v", s, err)
		}
		if ValidName(s) {
			for i := 0; i < len(s); i++ {
				c := s[i]
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '_')) {
					t.Fatalf("ValidName(%q) accepts byte %q", s, c)
				}
			}
		}
		if _, err := CheckValue(Column{Name: "T", Type: Time}, s); err == nil {
			if _, perr := time.Parse("15:04:05.000Z", s); perr != nil {
				t.Fatalf("accepted time %q: %v", s, perr)
			}
		}
		if _, err := CheckValue(Column{Name: "J", Type: JSON}, s); err != nil && !errors.Is(err, ErrBadValue) {
			t.Fatalf("json %q: error %v", s, err)
		}
	})
}
