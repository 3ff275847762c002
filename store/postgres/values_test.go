package postgres

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sfsync/salesforce-sync/store"
)

// FuzzTimeOfDay: every time text the shared check accepts is stored as
// PostgreSQL time and formatted back unchanged.
func FuzzTimeOfDay(f *testing.F) {
	for _, s := range []string{"00:00:00.000Z", "23:59:59.999Z", "12:34:56.789Z", "24:00:00.000Z", "1:2:3"} {
		f.Add(s)
	}
	col := store.Column{Name: "T__c", Type: store.Time}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := store.CheckValue(col, s); err != nil {
			return
		}
		v, err := encodeTime(s)
		if err != nil {
			t.Fatalf("encodeTime(%q): %v", s, err)
		}
		if got := formatTime(v.(pgtype.Time)); got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
	})
}

func TestJSONHasNUL(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`"a\u0000b"`, true},
		{`{"k\u0000":1}`, true},
		{`["x",{"y":"\u0000"}]`, true},
		{`"a\\u0000b"`, false},
		{`{"a":"b"}`, false},
	}
	for _, tc := range tests {
		if got := jsonHasNUL([]byte(tc.in)); got != tc.want {
			t.Errorf("jsonHasNUL(%s) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzAppendNumeric: every decimal text the shared check accepts is
// encoded as a binary numeric that pgx decodes to exactly its value, with
// its scale.
func FuzzAppendNumeric(f *testing.F) {
	for _, s := range []string{"0", "-0.001", "1234.50", "+7", ".5", "5.", "00042.000", "-0", "0.0001", "0.00001",
		"123456789012345678901234567890.123456789", "-99999999999999.99", "10000", "99990000.00001"} {
		f.Add(s)
	}
	col := store.Column{Name: "N__c", Type: store.Numeric}
	m := pgtype.NewMap()
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := store.CheckValue(col, store.Decimal(s)); err != nil {
			return
		}
		b, err := appendNumeric(nil, s)
		if err != nil {
			t.Fatalf("appendNumeric(%q): %v", s, err)
		}
		var n pgtype.Numeric
		if err := m.Scan(pgtype.NumericOID, pgtype.BinaryFormatCode, b, &n); err != nil {
			t.Fatalf("decode %q: %v", s, err)
		}
		got := new(big.Rat).SetInt(n.Int)
		exp := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n.Exp))), nil))
		if n.Exp < 0 {
			got.Quo(got, exp)
		} else {
			got.Mul(got, exp)
		}
		want, ok := new(big.Rat).SetString(strings.TrimPrefix(s, "+"))
		if !ok {
			t.Fatalf("big.Rat cannot parse %q", s)
		}
		if got.Cmp(want) != 0 {
			t.Errorf("appendNumeric(%q) decodes to %s", s, got.RatString())
		}
		_, frac, _ := strings.Cut(s, ".")
		if scale := int(binary.BigEndian.Uint16(b[6:8])); scale != len(frac) {
			t.Errorf("appendNumeric(%q) has scale %d, want %d", s, scale, len(frac))
		}
	})
}

func abs(n int32) int32 {
	if n < 0 {
		return -n
	}
	return n
}

// TestEncodeFastMatchesEncode: the shortcut keeps CheckValue's rules.
func TestEncodeFastMatchesEncode(t *testing.T) {
	local := time.FixedZone("X", 3600)
	when := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	tests := []struct {
		typ store.ColumnType
		v   any
	}{
		{store.Text, "plain"}, {store.Text, "nul\x00"}, {store.Text, "\xff"}, {store.Text, 3},
		{store.Integer, int64(-1)}, {store.Integer, 7}, {store.Integer, "7"},
		{store.Real, 1.5}, {store.Real, math.NaN()}, {store.Real, math.Inf(1)}, {store.Real, int64(2)},
		{store.Boolean, true}, {store.Boolean, "true"},
		{store.DateTime, when}, {store.DateTime, when.Add(123)}, {store.DateTime, when.In(local)},
		{store.DateTime, time.Now()}, {store.DateTime, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{store.DateTime, time.Time{}}, {store.DateTime, "2026-01-02"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/%#v", tc.typ, tc.v), func(t *testing.T) {
			c := store.Column{Name: "C", Type: tc.typ}
			want, wantErr := encode(c, tc.v)
			got, err := encodeFast(c, tc.v)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("error %v, encode says %v", err, wantErr)
			}
			if wt, ok := want.(time.Time); ok {
				gt, _ := got.(time.Time)
				if !gt.Equal(wt) || gt.Location() != wt.Location() {
					t.Errorf("got %v, want %v", got, want)
				}
				return
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool {
				return a == b || (math.IsNaN(a) && math.IsNaN(b))
			})); diff != "" {
				t.Errorf("(-encode +encodeFast):\n%s", diff)
			}
		})
	}
}
