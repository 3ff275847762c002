package sftest

import (
	"strconv"
	"strings"
	"time"
)

func validDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// parseDateTimeLiteral parses a SOQL dateTime literal (SOQL.md 3.3): a
// zone is required (Z, +hh:mm or +hhmm), fractional seconds optional, T
// and Z case-insensitive, and every part range-checked.
func parseDateTimeLiteral(s string) (time.Time, bool) {
	u := strings.ToUpper(s)
	if len(u) < 20 || u[10] != 'T' {
		return time.Time{}, false
	}
	for _, layout := range []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05Z0700",
		"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, u); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

var fixedDateLiterals = map[string]bool{}
var nDateLiterals = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`YESTERDAY TODAY TOMORROW LAST_WEEK THIS_WEEK NEXT_WEEK LAST_MONTH
		THIS_MONTH NEXT_MONTH LAST_90_DAYS NEXT_90_DAYS LAST_QUARTER THIS_QUARTER NEXT_QUARTER LAST_YEAR
		THIS_YEAR NEXT_YEAR LAST_FISCAL_QUARTER THIS_FISCAL_QUARTER NEXT_FISCAL_QUARTER LAST_FISCAL_YEAR
		THIS_FISCAL_YEAR NEXT_FISCAL_YEAR`) {
		fixedDateLiterals[n] = true
	}
	for _, n := range strings.Fields(`LAST_N_DAYS NEXT_N_DAYS N_DAYS_AGO LAST_N_WEEKS NEXT_N_WEEKS
		N_WEEKS_AGO LAST_N_MONTHS NEXT_N_MONTHS N_MONTHS_AGO LAST_N_QUARTERS NEXT_N_QUARTERS
		N_QUARTERS_AGO LAST_N_YEARS NEXT_N_YEARS N_YEARS_AGO LAST_N_FISCAL_QUARTERS NEXT_N_FISCAL_QUARTERS
		N_FISCAL_QUARTERS_AGO LAST_N_FISCAL_YEARS NEXT_N_FISCAL_YEARS N_FISCAL_YEARS_AGO`) {
		nDateLiterals[n] = true
	}
}

// dateLiteralRange turns a date literal (TODAY, LAST_N_DAYS:30, ...) into
// the range [from, to) it names at now (SOQL.md 3.4). The fake's user is
// in UTC, weeks start on Sunday and the fiscal year is the calendar year.
func dateLiteralRange(text string, now time.Time) (from, to time.Time, ok bool) {
	name, nstr, _ := strings.Cut(strings.ToUpper(text), ":")
	n := 0
	if nstr != "" {
		var err error
		if n, err = strconv.Atoi(nstr); err != nil {
			return from, to, false
		}
	}
	name = strings.ReplaceAll(name, "FISCAL_", "")
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	week := today.AddDate(0, 0, -int(today.Weekday()))
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	quarter := time.Date(now.Year(), time.Month((int(now.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	year := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	span := func(start time.Time, y, m, d, k int) (time.Time, time.Time, bool) {
		a := start.AddDate(y*k, m*k, d*k)
		return a, a.AddDate(y, m, d), true
	}
	switch name {
	case "YESTERDAY":
		return span(today, 0, 0, 1, -1)
	case "TODAY":
		return span(today, 0, 0, 1, 0)
	case "TOMORROW":
		return span(today, 0, 0, 1, 1)
	case "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK":
		return span(week, 0, 0, 7, offsetOf(name))
	case "LAST_MONTH", "THIS_MONTH", "NEXT_MONTH":
		return span(month, 0, 1, 0, offsetOf(name))
	case "LAST_QUARTER", "THIS_QUARTER", "NEXT_QUARTER":
		return span(quarter, 0, 3, 0, offsetOf(name))
	case "LAST_YEAR", "THIS_YEAR", "NEXT_YEAR":
		return span(year, 1, 0, 0, offsetOf(name))
	case "LAST_90_DAYS":
		return today.AddDate(0, 0, -90), today.AddDate(0, 0, 1), true
	case "NEXT_90_DAYS":
		return today.AddDate(0, 0, 1), today.AddDate(0, 0, 91), true
	case "LAST_N_DAYS":
		return today.AddDate(0, 0, -n), today.AddDate(0, 0, 1), true
	case "NEXT_N_DAYS":
		return today.AddDate(0, 0, 1), today.AddDate(0, 0, 1+n), true
	case "N_DAYS_AGO":
		return span(today, 0, 0, 1, -n)
	case "LAST_N_WEEKS":
		return week.AddDate(0, 0, -7*n), week, true
	case "NEXT_N_WEEKS":
		return week.AddDate(0, 0, 7), week.AddDate(0, 0, 7+7*n), true
	case "N_WEEKS_AGO":
		return span(week, 0, 0, 7, -n)
	case "LAST_N_MONTHS":
		return month.AddDate(0, -n, 0), month, true
	case "NEXT_N_MONTHS":
		return month.AddDate(0, 1, 0), month.AddDate(0, 1+n, 0), true
	case "N_MONTHS_AGO":
		return span(month, 0, 1, 0, -n)
	case "LAST_N_QUARTERS":
		return quarter.AddDate(0, -3*n, 0), quarter, true
	case "NEXT_N_QUARTERS":
		return quarter.AddDate(0, 3, 0), quarter.AddDate(0, 3+3*n, 0), true
	case "N_QUARTERS_AGO":
		return span(quarter, 0, 3, 0, -n)
	case "LAST_N_YEARS":
		return year.AddDate(-n, 0, 0), year, true
	case "NEXT_N_YEARS":
		return year.AddDate(1, 0, 0), year.AddDate(1+n, 0, 0), true
	case "N_YEARS_AGO":
		return span(year, 1, 0, 0, -n)
	}
	return from, to, false
}

func offsetOf(name string) int {
	switch {
	case strings.HasPrefix(name, "LAST_"):
		return -1
	case strings.HasPrefix(name, "NEXT_"):
		return 1
	}
	return 0
}

// appendDateTime appends t in the REST form 2006-01-02T15:04:05.000+0000
// (SALESFORCE.md 2.2); zulu selects the Bulk/SOAP form ...000Z.
func appendDateTime(b []byte, t time.Time, zulu bool) []byte {
	// Civil date from days since the epoch (H. Hinnant's algorithm): much
	// cheaper than t.Date() plus t.Clock() on the query path.
	sec := t.Unix()
	days := sec / 86400
	rem := int(sec - days*86400)
	if rem < 0 {
		rem += 86400
		days--
	}
	h, mi, s := rem/3600, rem/60%60, rem%60
	ms := t.Nanosecond() / 1e6
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := int(doy - (153*mp+2)/5 + 1)
	mo := int(mp + 3)
	if mo > 12 {
		mo -= 12
	}
	y := int(yoe + era*400)
	if mo <= 2 {
		y++
	}
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, mo)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	b = append2(b, s)
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	if zulu {
		return append(b, 'Z')
	}
	return append(b, "+0000"...)
}

func append2(b []byte, n int) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
func append4(b []byte, n int) []byte {
	return append(b, byte('0'+n/1000%10), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}
