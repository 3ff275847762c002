package sqlite

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsync/salesforce-sync/store"
)

// FuzzValueRoundTrip: any value the Store accepts for a column comes back
// from its stored form exactly as CheckValue normalised it, and the fast
// path (checkEncode) agrees with CheckValue followed by encode, on
// acceptance and on the stored form.
func FuzzValueRoundTrip(f *testing.F) {
	f.Add("1234.50", int64(0), 1.5, []byte(`{"a":1}`), int64(0))
	f.Add("-0.001", int64(-1), -0.0, []byte(`[1, 2.50]`), int64(1700000000123))
	f.Add("héllo\x00", int64(1<<62), 1e308, []byte(`{`), int64(-62135596800000))
	f.Add("23:59:59.999Z", int64(7), 0.1, []byte(`"x"`), int64(253402300799999))
	f.Fuzz(func(t *testing.T, s string, n int64, x float64, raw []byte, millis int64) {
		tm := time.UnixMilli(millis)
		values := map[store.ColumnType][]any{
			store.Text:     {s},
			store.Time:     {s},
			store.Numeric:  {store.Decimal(s), s, n},
			store.Integer:  {n, s},
			store.Real:     {x, n},
			store.Boolean:  {n%2 == 0},
			store.Date:     {time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC)},
			store.DateTime: {tm, tm.In(time.FixedZone("x", int(n%50000)))},
			store.JSON:     {json.RawMessage(raw), string(raw)},
			store.Blob:     {raw},
		}
		for typ, vs := range values {
			for _, prec := range []int{0, 18} {
				c := store.Column{Name: "C", Type: typ, Precision: prec, Scale: prec / 9}
				for _, v := range vs {
					cv, err := store.CheckValue(c, v)
					enc, ferr := checkEncode(c, v)
					if (err == nil) != (ferr == nil) {
						t.Fatalf("%s %#v: CheckValue error %v, checkEncode error %v", typ, v, err, ferr)
					}
					if err != nil {
						continue
					}
					if d := cmp.Diff(encode(typ, cv), enc); d != "" {
						t.Fatalf("%s %#v: checkEncode differs (-want +got):\n%s", typ, v, d)
					}
					back, err := decode(c, enc)
					if err != nil {
						t.Fatalf("%s %#v: decode %#v: %v", typ, v, enc, err)
					}
					if d := cmp.Diff(cv, back); d != "" {
						t.Fatalf("%s %#v: round trip (-want +got):\n%s", typ, v, d)
					}
				}
			}
		}
	})
}

func TestFormatDateTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC),
		time.Date(2026, 7, 4, 5, 6, 7, 8e6, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if got, _ := formatDateTime(tm); got != tm.Format(dateTimeLayout) {
			want := tm.Format(dateTimeLayout)
			t.Errorf("formatDateTime(%v) = %s, want %s", tm, got, want)
		}
	}
}
