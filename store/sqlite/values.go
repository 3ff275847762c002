package sqlite

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sfsync/salesforce-sync/store"
)

// How values are stored. Timestamps are UTC text with milliseconds, fixed
// width, so they sort and compare as text in the guard; dates are
// "2006-01-02"; booleans 0 and 1; Numeric is TEXT so "1234.50" keeps its
// digits (a NUMERIC column would turn it into the REAL 1234.5); JSON is
// TEXT, so SQLite's json functions read it; blobs are BLOB.
const (
	dateTimeLayout = "2006-01-02T15:04:05.000Z"
	dateLayout     = "2006-01-02"
)

// sqlType is the declared type of a column. Only TEXT, INTEGER, REAL and
// BLOB are used: their affinities never convert a value we write.
func sqlType(t store.ColumnType) string {
	switch t {
	case store.Integer, store.Boolean:
		return "INTEGER"
	case store.Real:
		return "REAL"
	case store.Blob:
		return "BLOB"
	}
	return "TEXT"
}

// quote quotes an identifier. Names are validated before they get here;
// quoting is still done properly.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// encode converts a value checked by store.CheckValue to what the driver
// stores.
func encode(t store.ColumnType, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case store.Decimal:
		return string(x)
	case time.Time:
		if t == store.Date {
			return x.Format(dateLayout)
		}
		s, _ := formatDateTime(x.UTC().Truncate(time.Millisecond))
		return s
	case json.RawMessage:
		return string(x)
	}
	return v
}

// fmtTime is the stored form of an internal timestamp: NULL for zero.
func fmtTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	s, _ := formatDateTime(t.UTC().Truncate(time.Millisecond))
	return s
}

// parseTime reads fmtTime's form; NULL is the zero time.
func parseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, nil
	case string:
		return time.Parse(dateTimeLayout, x)
	case []byte:
		return time.Parse(dateTimeLayout, string(x))
	}
	return time.Time{}, fmt.Errorf("timestamp stored as %T", v)
}

// decode converts what the driver read back to the column's value type.
func decode(c store.Column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.([]byte); ok && c.Type != store.Blob {
		v = string(b)
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("column %s (%s): stored value %T %v", c.Name, c.Type, v, v)
	}
	switch c.Type {
	case store.Text, store.Time:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case store.Integer:
		if n, ok := v.(int64); ok {
			return n, nil
		}
	case store.Numeric:
		if s, ok := v.(string); ok {
			return store.Decimal(s), nil
		}
	case store.Real:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int64:
			return float64(n), nil
		}
	case store.Boolean:
		if n, ok := v.(int64); ok {
			return n != 0, nil
		}
	case store.Date:
		if s, ok := v.(string); ok {
			t, err := time.Parse(dateLayout, s)
			if err == nil {
				return t, nil
			}
		}
	case store.DateTime:
		if s, ok := v.(string); ok {
			t, err := time.Parse(dateTimeLayout, s)
			if err == nil {
				return t, nil
			}
		}
	case store.JSON:
		if s, ok := v.(string); ok {
			return json.RawMessage(s), nil
		}
	case store.Blob:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
	}
	return bad()
}

var (
	boxedTrue  any = int64(1)
	boxedFalse any = int64(0)
)

// checkEncode is store.CheckValue followed by encode, without the
// intermediate values for the common types (the full-sync path converts
// millions of values). Anything but the documented Go type of a column
// takes the general path, so the rules and errors are CheckValue's.
func checkEncode(c store.Column, v any) (enc any, err error) {
	switch c.Type {
	case store.Text:
		if s, ok := v.(string); ok && plainText(s) {
			return v, nil
		}
	case store.Integer:
		if _, ok := v.(int64); ok {
			return v, nil
		}
	case store.Real:
		if f, ok := v.(float64); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return v, nil
		}
	case store.Boolean:
		if b, ok := v.(bool); ok {
			if b {
				return boxedTrue, nil
			}
			return boxedFalse, nil
		}
	case store.DateTime:
		if x, ok := v.(time.Time); ok {
			if s, ok := formatDateTime(x.UTC()); ok {
				return s, nil
			}
		}
	case store.Date:
		if x, ok := v.(time.Time); ok {
			if s, ok := formatDate(x); ok {
				return s, nil
			}
		}
	case store.Numeric:
		if d, ok := v.(store.Decimal); ok && fitsDecimal(string(d), c.Precision, c.Scale) {
			return string(d), nil
		}
	}
	cv, err := store.CheckValue(c, v)
	if err != nil {
		return nil, err
	}
	return encode(c.Type, cv), nil
}

// plainText is the check of a Text value: valid UTF-8 without NUL bytes.
func plainText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// formatDateTime is t.Format(dateTimeLayout) for a UTC time, truncated to
// the millisecond, several times faster; false outside years 1 to 9999.
func formatDateTime(t time.Time) (string, bool) {
	var b [24]byte
	y, mo, d := t.Date()
	if y < 1 || y > 9999 {
		return "", false
	}
	h, mi, s := t.Clock()
	putDate(b[:], y, int(mo), d)
	b[10] = 'T'
	put(b[11:13], h)
	b[13] = ':'
	put(b[14:16], mi)
	b[16] = ':'
	put(b[17:19], s)
	b[19] = '.'
	put(b[20:23], t.Nanosecond()/1e6)
	b[23] = 'Z'
	return string(b[:]), true
}

// formatDate is the stored form of a Date value: false when t has a clock
// time or a year outside 1 to 9999 (CheckValue rejects those).
func formatDate(t time.Time) (string, bool) {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 1 || y > 9999 || h != 0 || mi != 0 || s != 0 || t.Nanosecond() != 0 {
		return "", false
	}
	var b [10]byte
	putDate(b[:], y, int(mo), d)
	return string(b[:]), true
}

func putDate(b []byte, y, mo, d int) {
	put(b[0:4], y)
	b[4] = '-'
	put(b[5:7], mo)
	b[7] = '-'
	put(b[8:10], d)
}

// put writes n in decimal with leading zeros over all of b.
func put(b []byte, n int) {
	for k := len(b) - 1; k >= 0; k-- {
		b[k] = byte('0' + n%10)
		n /= 10
	}
}

// fitsDecimal reports whether CheckValue accepts s for a Numeric column of
// the given precision and scale, for the common form [-]digits[.digits].
// False sends the value to CheckValue, which decides and explains.
func fitsDecimal(s string, precision, scale int) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	intDigits, frac, i := 0, 0, 0
	lead := true
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		if s[i] != '0' || !lead {
			lead = false
			intDigits++
		}
	}
	whole := i
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			frac++
		}
	}
	if i != len(s) || whole+frac == 0 || len(s) > 1000 {
		return false
	}
	return precision == 0 || frac <= scale && intDigits <= precision-scale
}
