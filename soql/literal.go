package soql

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits the builder enforces (SOQL.md 8.1).
const (
	MaxStatementLength = 100_000 // characters in one SOQL statement
	MaxStringLiteral   = 4_000   // characters in one string literal in WHERE
	MaxOffset          = 2_000
	MaxPathDepth       = 5 // relationship levels in a field path
)

// Errors of the builder; test them with errors.Is.
var (
	ErrInvalidIdentifier = errors.New("soql: invalid identifier")
	ErrInvalidLiteral    = errors.New("soql: invalid literal")
	ErrInvalidQuery      = errors.New("soql: invalid query")
)

// Literal is a value in SOQL form. Only this package's constructors make
// Literals, so every value reaching a query was escaped or formatted by
// them. A constructor that cannot represent its input returns a Literal
// that makes Build fail.
type Literal interface {
	soql() string
	err() error
}

type literal struct {
	text string
	bad  error
	null bool
}

func (l literal) soql() string { return l.text }
func (l literal) err() error   { return l.bad }

func badLiteral(format string, args ...any) literal {
	return literal{bad: fmt.Errorf("%w: %s", ErrInvalidLiteral, fmt.Sprintf(format, args...))}
}

// Null is the null literal; it may only be compared with Eq or Ne.
var Null Literal = literal{text: "null", null: true}

// String is a quoted string literal, escaped as SOQL requires (SOQL.md 2.4):
// backslash first, then the quote, then control characters. It refuses
// invalid UTF-8, U+FFFF and strings over MaxStringLiteral characters.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_quotedstringescapes.htm
func String(s string) Literal {
	e, err := escape(s, false)
	if err != nil {
		return literal{bad: err}
	}
	return literal{text: "'" + e + "'"}
}

// ID is an Id literal: 15 or 18 ASCII letters and digits, quoted.
func ID(s string) Literal {
	if len(s) != 15 && len(s) != 18 {
		return badLiteral("id %q must have 15 or 18 characters", s)
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return badLiteral("id %q has a character that is not a letter or digit", s)
		}
	}
	return literal{text: "'" + s + "'"}
}

// Int is an integer literal.
func Int(n int64) Literal { return literal{text: strconv.FormatInt(n, 10)} }

// Float is a number literal in plain decimal notation (never an exponent).
// NaN and infinities are refused.
func Float(f float64) Literal {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return badLiteral("%v is not a finite number", f)
	}
	return literal{text: strconv.FormatFloat(f, 'f', -1, 64)}
}

// Decimal is a number literal from exact decimal text such as "-12.50".
// Only an optional minus sign, digits and one decimal point are accepted.
func Decimal(s string) Literal {
	t := strings.TrimPrefix(s, "-")
	ip, fp, dot := strings.Cut(t, ".")
	if ip == "" || !digits(ip) || dot && (fp == "" || !digits(fp)) {
		return badLiteral("%q is not a decimal number", s)
	}
	return literal{text: s}
}

// Bool is true or false.
func Bool(b bool) Literal { return literal{text: strconv.FormatBool(b)} }

// Date is a date literal (2006-01-02) of t's calendar date in t's own
// location, so that a date held as midnight UTC stays that date.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm
func Date(t time.Time) Literal {
	if t.Year() < 1 || t.Year() > 9999 {
		return badLiteral("year %d out of range", t.Year())
	}
	return literal{text: t.Format("2006-01-02")}
}

// DateTime is a datetime literal in UTC: 2006-01-02T15:04:05Z, with
// milliseconds (.000) when t has a fraction of a second; finer precision
// is truncated.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm
func DateTime(t time.Time) Literal {
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return badLiteral("year %d out of range", t.Year())
	}
	if t.Nanosecond()/int(time.Millisecond) != 0 {
		return literal{text: t.Format("2006-01-02T15:04:05.000Z")}
	}
	return literal{text: t.Format("2006-01-02T15:04:05Z")}
}

// dateLiterals is the closed set of relative date literals (SOQL.md 3.4):
// true for the forms that take :n.
var dateLiterals = map[string]bool{
	"YESTERDAY": false, "TODAY": false, "TOMORROW": false,
	"LAST_WEEK": false, "THIS_WEEK": false, "NEXT_WEEK": false,
	"LAST_MONTH": false, "THIS_MONTH": false, "NEXT_MONTH": false,
	"LAST_90_DAYS": false, "NEXT_90_DAYS": false,
	"LAST_QUARTER": false, "THIS_QUARTER": false, "NEXT_QUARTER": false,
	"LAST_YEAR": false, "THIS_YEAR": false, "NEXT_YEAR": false,
	"LAST_FISCAL_QUARTER": false, "THIS_FISCAL_QUARTER": false, "NEXT_FISCAL_QUARTER": false,
	"LAST_FISCAL_YEAR": false, "THIS_FISCAL_YEAR": false, "NEXT_FISCAL_YEAR": false,
	"LAST_N_DAYS": true, "NEXT_N_DAYS": true, "N_DAYS_AGO": true,
	"LAST_N_WEEKS": true, "NEXT_N_WEEKS": true, "N_WEEKS_AGO": true,
	"LAST_N_MONTHS": true, "NEXT_N_MONTHS": true, "N_MONTHS_AGO": true,
	"LAST_N_QUARTERS": true, "NEXT_N_QUARTERS": true, "N_QUARTERS_AGO": true,
	"LAST_N_YEARS": true, "NEXT_N_YEARS": true, "N_YEARS_AGO": true,
	"LAST_N_FISCAL_QUARTERS": true, "NEXT_N_FISCAL_QUARTERS": true, "N_FISCAL_QUARTERS_AGO": true,
	"LAST_N_FISCAL_YEARS": true, "NEXT_N_FISCAL_YEARS": true, "N_FISCAL_YEARS_AGO": true,
}

// RelativeDate is a relative date literal such as TODAY or LAST_N_DAYS:30.
// name must be one of the 44 SOQL names (any case); n is used, and must be
// non-negative, exactly for the names that take one (the _N_ forms).
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm
func RelativeDate(name string, n ...int) Literal {
	up := strings.ToUpper(name)
	takesN, ok := dateLiterals[up]
	switch {
	case !ok:
		return badLiteral("unknown date literal %q", name)
	case takesN && (len(n) != 1 || n[0] < 0):
		return badLiteral("date literal %s needs one non-negative n", up)
	case !takesN && len(n) != 0:
		return badLiteral("date literal %s takes no n", up)
	case takesN:
		return literal{text: up + ":" + strconv.Itoa(n[0])}
	}
	return literal{text: up}
}

// escape writes s in the form of a SOQL string body (without quotes).
// With like, % and _ are escaped too so they match themselves.
func escape(s string, like bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: string is not valid UTF-8", ErrInvalidLiteral)
	}
	if n := utf8.RuneCountInString(s); n > MaxStringLiteral {
		return "", fmt.Errorf("%w: string of %d characters exceeds %d", ErrInvalidLiteral, n, MaxStringLiteral)
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\'':
			b.WriteString(`\'`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case like && r == '%':
			b.WriteString(`\%`)
		case like && r == '_':
			b.WriteString(`\_`)
		case r == 0xFFFF || r == 0xFFFE:
			return "", fmt.Errorf("%w: string contains the noncharacter U+%04X", ErrInvalidLiteral, r)
		case r < 0x20 || r == 0x7F:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// Pattern is the right side of LIKE. Make one with Contains, HasPrefix,
// HasSuffix, Exactly or Wildcard.
//
// Salesforce reference (LIKE and its escapes): https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_comparisonoperators.htm
type Pattern struct {
	text string
	bad  error
}

func pattern(pre, s, post string) Pattern {
	e, err := escape(s, true)
	if err != nil {
		return Pattern{bad: err}
	}
	return Pattern{text: "'" + pre + e + post + "'"}
}

// Contains matches values containing s; % and _ in s match themselves.
func Contains(s string) Pattern { return pattern("%", s, "%") }

// HasPrefix matches values starting with s.
func HasPrefix(s string) Pattern { return pattern("", s, "%") }

// HasSuffix matches values ending with s.
func HasSuffix(s string) Pattern { return pattern("%", s, "") }

// Exactly matches s alone (case-insensitively, as LIKE does).
func Exactly(s string) Pattern { return pattern("", s, "") }

// Wildcard is a caller-written pattern: % matches any run of characters
// and _ one character; every other character, backslash included,
// matches itself.
func Wildcard(s string) Pattern {
	var b strings.Builder
	for i, part := range strings.Split(s, "%") {
		if i > 0 {
			b.WriteString("%")
		}
		for j, sub := range strings.Split(part, "_") {
			if j > 0 {
				b.WriteString("_")
			}
			e, err := escape(sub, true)
			if err != nil {
				return Pattern{bad: err}
			}
			b.WriteString(e)
		}
	}
	if n := utf8.RuneCountInString(s); n > MaxStringLiteral {
		return Pattern{bad: fmt.Errorf("%w: pattern of %d characters exceeds %d", ErrInvalidLiteral, n, MaxStringLiteral)}
	}
	return Pattern{text: "'" + b.String() + "'"}
}

// reserved are words that cannot be identifiers (SOQL.md 1.4). GROUP and
// ORDER are left out: Group and Order are real objects.
var reserved = map[string]bool{
	"AND": true, "ASC": true, "DESC": true, "EXCLUDES": true, "FIRST": true,
	"FROM": true, "HAVING": true, "IN": true, "INCLUDES": true, "LAST": true,
	"LIKE": true, "LIMIT": true, "NOT": true, "NULL": true, "NULLS": true,
	"OR": true, "SELECT": true, "USING": true, "WHERE": true, "WITH": true,
	"TRUE": true, "FALSE": true, "FOR": true, "ELSE": true, "ROLLUP": true,
	"CUBE": true, "BY": true, "LOOKUP": true, "AS": true, "UPDATE": true,
	"BIND": true, "HIERARCHICAL": true,
}

// ValidName reports whether s is a single API name: an ASCII letter, then
// letters, digits and underscores, and not a reserved word.
//
// Salesforce reference (reserved words): https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_reservedcharacters.htm
func ValidName(s string) bool {
	if s == "" || len(s) > 255 || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '_' {
			return false
		}
	}
	return !reserved[strings.ToUpper(s)]
}

// checkPath validates a field path: names joined by dots, at most
// MaxPathDepth relationship levels.
func checkPath(p string) error {
	parts := strings.Split(p, ".")
	if len(parts) > MaxPathDepth+1 {
		return fmt.Errorf("%w: %q is deeper than %d levels", ErrInvalidIdentifier, p, MaxPathDepth)
	}
	for _, s := range parts {
		if !ValidName(s) {
			return fmt.Errorf("%w: %q", ErrInvalidIdentifier, p)
		}
	}
	return nil
}

func checkName(s string) error {
	if !ValidName(s) {
		return fmt.Errorf("%w: %q", ErrInvalidIdentifier, s)
	}
	return nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool  { return isLetter(c) || isDigit(c) }

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
