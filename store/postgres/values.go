package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sfsync/salesforce-sync/store"
)

// encode checks a value of column c with store.CheckValue (the rules
// every backend shares) and converts it into the value pgx sends for the
// column's native type. The conversions are exact: ReadRows returns what
// was given, with decimals at the column's scale.
func encode(c store.Column, v any) (any, error) {
	cv, err := store.CheckValue(c, v)
	if err != nil || cv == nil {
		return nil, err
	}
	switch c.Type {
	case store.Numeric:
		// Kept as checked text: both write paths send it as text, and
		// the server parses it exactly.
		return cv, nil
	case store.Time:
		t, err := encodeTime(cv.(string))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", store.ErrBadValue, err)
		}
		return t, nil
	case store.JSON:
		b := []byte(cv.(json.RawMessage))
		if bytes.Contains(b, nulEscape) && jsonHasNUL(b) {
			return nil, fmt.Errorf(`%w: JSON holds \u0000, which PostgreSQL's jsonb cannot store`, store.ErrBadValue)
		}
		return b, nil
	}
	return cv, nil
}

// encodeFast is encode without its costs in the common case: a value
// already of the Go type and form store.CheckValue would return is kept
// as it came (the same interface value, so nothing is allocated). Every
// other value goes through encode, so the rules stay CheckValue's.
func encodeFast(c store.Column, v any) (any, error) {
	switch c.Type {
	case store.Text:
		if s, ok := v.(string); ok && checkText(s) == nil {
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
		if _, ok := v.(bool); ok {
			return v, nil
		}
	case store.DateTime:
		// CheckValue returns t.UTC().Truncate(time.Millisecond); a time
		// equal to that in every field (location, no monotonic reading)
		// is that value already.
		if t, ok := v.(time.Time); ok {
			if u := t.UTC().Truncate(time.Millisecond); u == t {
				if y := u.Year(); y >= 1 && y <= 9999 {
					return v, nil
				}
			}
		}
	}
	return encode(c, v)
}

// encodeTime parses "15:04:05.000Z" (the fraction and the Z optional).
func encodeTime(s string) (any, error) {
	bad := fmt.Errorf("%q is not a time of day like 15:04:05.000Z", s)
	v := strings.TrimSuffix(s, "Z")
	main, frac, hasFrac := strings.Cut(v, ".")
	if len(main) != 8 || main[2] != ':' || main[5] != ':' {
		return nil, bad
	}
	h, ok1 := twoDigits(main[0:2])
	mi, ok2 := twoDigits(main[3:5])
	sec, ok3 := twoDigits(main[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return nil, bad
	}
	ms := 0
	if hasFrac {
		if frac == "" || len(frac) > 9 {
			return nil, bad
		}
		for i := 0; i < len(frac); i++ {
			if frac[i] < '0' || frac[i] > '9' {
				return nil, bad
			}
			if i < 3 {
				ms = ms*10 + int(frac[i]-'0')
			}
		}
		for i := len(frac); i < 3; i++ {
			ms *= 10
		}
	}
	us := (int64(h)*3600+int64(mi)*60+int64(sec))*1_000_000 + int64(ms)*1000
	return pgtype.Time{Microseconds: us, Valid: true}, nil
}

func twoDigits(s string) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

func formatTime(t pgtype.Time) string {
	ms := t.Microseconds / 1000
	return fmt.Sprintf("%02d:%02d:%02d.%03dZ", ms/3_600_000, ms/60_000%60, ms/1000%60, ms%1000)
}

var nulEscape = []byte(`\u0000`)

func jsonHasNUL(b []byte) bool {
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return true
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch t := v.(type) {
		case string:
			return strings.IndexByte(t, 0) >= 0
		case []any:
			for _, e := range t {
				if walk(e) {
					return true
				}
			}
		case map[string]any:
			for k, e := range t {
				if strings.IndexByte(k, 0) >= 0 || walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(x)
}

// checkText rejects what a PostgreSQL text value cannot hold.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("text is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return errors.New("text holds a NUL character, which PostgreSQL cannot store")
	}
	return nil
}
