package soql

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestLiterals(t *testing.T) {
	tests := []struct {
		name string
		lit  Literal
		want string
	}{
		{"plain", String("Acme"), `'Acme'`},
		{"quote", String("Bob's BBQ"), `'Bob\'s BBQ'`},
		{"backslash first", String(`a\'b`), `'a\\\'b'`},
		{"trailing backslash", String(`x\`), `'x\\'`},
		{"newlines", String("a\nb\rc\td"), `'a\nb\rc\td'`},
		{"double quote", String(`say "hi"`), `'say \"hi\"'`},
		{"wildcards untouched outside LIKE", String("50%_off"), `'50%_off'`},
		{"control char", String("a\x01b\x0cc\x08"), `'a\u0001b\u000cc\u0008'`},
		{"unicode", String("Müller 中"), `'Müller 中'`},
		{"injection", String("' OR Name != '"), `'\' OR Name != \''`},
		{"id 18", ID("001000000000001AAA"), `'001000000000001AAA'`},
		{"int", Int(-42), `-42`},
		{"float small", Float(0.000001), `0.000001`},
		{"float big", Float(1e21), `1000000000000000000000`},
		{"decimal", Decimal("-12.50"), `-12.50`},
		{"bool", Bool(true), `true`},
		{"null", Null, `null`},
		{"date keeps calendar day", Date(time.Date(2024, 2, 29, 23, 0, 0, 0, time.FixedZone("x", -5*3600))), `2024-02-29`},
		{"datetime utc", DateTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))), `2024-01-02T02:04:05Z`},
		{"datetime millis", DateTime(time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)), `2024-01-02T03:04:05.123Z`},
		{"relative", RelativeDate("last_n_days", 30), `LAST_N_DAYS:30`},
		{"relative plain", RelativeDate("today"), `TODAY`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.lit.err(); err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if got := tt.lit.soql(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestLiteralsRefused(t *testing.T) {
	tests := []struct {
		name string
		lit  Literal
	}{
		{"invalid utf8", String("a\xffb")},
		{"noncharacter", String("a\uffffb")},
		{"too long", String(strings.Repeat("x", MaxStringLiteral+1))},
		{"id length", ID("001")},
		{"id chars", ID("001000000000001'A")},
		{"nan", Float(math.NaN())},
		{"inf", Float(math.Inf(1))},
		{"decimal exponent", Decimal("1e5")},
		{"decimal trailing dot", Decimal("5.")},
		{"decimal space", Decimal("- 5")},
		{"unknown date literal", RelativeDate("SOMEDAY")},
		{"date literal needs n", RelativeDate("LAST_N_DAYS")},
		{"date literal negative n", RelativeDate("LAST_N_DAYS", -1)},
		{"date literal takes no n", RelativeDate("TODAY", 1)},
		{"year out of range", DateTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.lit.err(); !errors.Is(err, ErrInvalidLiteral) {
				t.Fatalf("err = %v, want ErrInvalidLiteral", err)
			}
			_, err := Select{Fields: []string{"Id"}, From: "Account", Where: Cmp("Name", Eq, tt.lit)}.Build()
			if !errors.Is(err, ErrInvalidLiteral) {
				t.Fatalf("Build err = %v, want ErrInvalidLiteral", err)
			}
		})
	}
}

func TestBuild(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name string
		s    Select
		want string
	}{
		{"simple", Select{Fields: []string{"Id", "Name"}, From: "Account"}, "SELECT Id,Name FROM Account"},
		{"relationship path", Select{Fields: []string{"Id", "Owner.Name", "Account__r.Owner.Profile.Name"}, From: "Contact"},
			"SELECT Id,Owner.Name,Account__r.Owner.Profile.Name FROM Contact"},
		{"where and", Select{Fields: []string{"Id"}, From: "Account", Where: And(
			Cmp("SystemModstamp", Gt, DateTime(at)), Cmp("IsDeleted", Eq, Bool(false)))},
			"SELECT Id FROM Account WHERE (SystemModstamp > 2026-01-02T03:04:05Z AND IsDeleted = false)"},
		{"nested or and not", Select{Fields: []string{"Id"}, From: "Lead", Where: And(
			Or(Cmp("Status", Eq, String("Open")), Cmp("Status", Eq, Null)), Not(Cmp("Name", Ne, Null)))},
			"SELECT Id FROM Lead WHERE ((Status = 'Open' OR Status = null) AND (NOT Name != null))"},
		{"in", Select{Fields: []string{"Id"}, From: "Case", Where: In("Id", ID("500000000000001"), ID("500000000000002"))},
			"SELECT Id FROM Case WHERE Id IN ('500000000000001', '500000000000002')"},
		{"empty in matches nothing", Select{Fields: []string{"Id"}, From: "Case", Where: In("Status")},
			"SELECT Id FROM Case WHERE Id = null"},
		{"empty not in matches all", Select{Fields: []string{"Id"}, From: "Case", Where: NotIn("Status")},
			"SELECT Id FROM Case WHERE Id != null"},
		{"includes", Select{Fields: []string{"Id"}, From: "Invoice__c", Where: Includes("Tags__c", String("a;b"), String("c"))},
			"SELECT Id FROM Invoice__c WHERE Tags__c INCLUDES ('a;b', 'c')"},
		{"like contains escapes wildcards", Select{Fields: []string{"Id"}, From: "Account", Where: Like("Name", Contains("50%_off"))},
			`SELECT Id FROM Account WHERE Name LIKE '%50\%\_off%'`},
		{"like wildcard", Select{Fields: []string{"Id"}, From: "Account", Where: Like("Name", Wildcard(`A%b_c\`))},
			`SELECT Id FROM Account WHERE Name LIKE 'A%b_c\\'`},
		{"empty and is no where", Select{Fields: []string{"Id"}, From: "Account", Where: And()}, "SELECT Id FROM Account"},
		{"order adds id", Select{Fields: []string{"Id"}, From: "Account", OrderBy: []Order{{Field: "Name", Desc: true, NullsLast: true}}, Limit: 10, Offset: 20},
			"SELECT Id FROM Account ORDER BY Name DESC NULLS LAST,Id LIMIT 10 OFFSET 20"},
		{"order by id", Select{Fields: []string{"Id"}, From: "Account", OrderBy: []Order{{Field: "Id"}}}, "SELECT Id FROM Account ORDER BY Id"},
		{"group and order objects", Select{Fields: []string{"Id"}, From: "Group"}, "SELECT Id FROM Group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.Build()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestBuildRefuses(t *testing.T) {
	tests := []struct {
		name string
		s    Select
		want error
	}{
		{"no fields", Select{From: "Account"}, ErrInvalidQuery},
		{"bad object", Select{Fields: []string{"Id"}, From: "Account WHERE"}, ErrInvalidIdentifier},
		{"quoted field", Select{Fields: []string{"'Name'"}, From: "Account"}, ErrInvalidIdentifier},
		{"leading underscore", Select{Fields: []string{"_x"}, From: "Account"}, ErrInvalidIdentifier},
		{"reserved word", Select{Fields: []string{"Id"}, From: "Select"}, ErrInvalidIdentifier},
		{"empty segment", Select{Fields: []string{"Owner..Name"}, From: "Account"}, ErrInvalidIdentifier},
		{"too deep", Select{Fields: []string{"a.b.c.d.e.f.g"}, From: "Account"}, ErrInvalidIdentifier},
		{"duplicate", Select{Fields: []string{"Id", "id"}, From: "Account"}, ErrInvalidQuery},
		{"space in field", Select{Fields: []string{"Id", "Name FROM User"}, From: "Account"}, ErrInvalidIdentifier},
		{"bad where field", Select{Fields: []string{"Id"}, From: "Account", Where: Cmp("Name) OR (Id", Eq, String("x"))}, ErrInvalidIdentifier},
		{"bad op", Select{Fields: []string{"Id"}, From: "Account", Where: Cmp("Name", Op("<>"), String("x"))}, ErrInvalidQuery},
		{"null with lt", Select{Fields: []string{"Id"}, From: "Account", Where: Cmp("Name", Lt, Null)}, ErrInvalidQuery},
		{"offset over 2000", Select{Fields: []string{"Id"}, From: "Account", Offset: 2001}, ErrInvalidQuery},
		{"negative limit", Select{Fields: []string{"Id"}, From: "Account", Limit: -1}, ErrInvalidQuery},
		{"nil literal", Select{Fields: []string{"Id"}, From: "Account", Where: Cmp("Name", Eq, nil)}, ErrInvalidLiteral},
		{"zero pattern", Select{Fields: []string{"Id"}, From: "Account", Where: Like("Name", Pattern{})}, ErrInvalidLiteral},
		{"too long", Select{Fields: longFields(), From: "Account"}, ErrInvalidQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := tt.s.Build()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Build = %q, %v; want %v", q, err, tt.want)
			}
		})
	}
}

func longFields() []string {
	var fs []string
	for i := 0; len(fs)*20 < MaxStatementLength+100; i++ {
		fs = append(fs, fmt.Sprintf("Field_Number_%05d__c", i))
	}
	return fs
}

// token is a lexeme of the small SOQL tokenizer the tests use to read
// the builder's output back.
type token struct {
	kind string // "word", "string", "number", "punct"
	text string // for strings, the decoded value
}

// The decoded text of a LIKE literal marks the wildcards with bytes that
// valid UTF-8 never holds, so that a wildcard and an escaped, literal %
// or _ can be told apart.
const (
	anyRun = "\xff" // an unescaped % in a LIKE literal
	anyOne = "\xfe" // an unescaped _ in a LIKE literal
)

// tokenize lexes SOQL per SOQL.md 1 and 2: it decodes string literals with
// the documented escapes (\% and \_ only in a LIKE literal, where raw % and
// _ become anyRun and anyOne), and fails on anything else, a raw control
// character inside a literal included (guarantee 2 of "What a builder must
// guarantee").
func tokenize(q string) ([]token, error) {
	var out []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ':
			i++
		case isLetter(c):
			j := i
			for j < len(q) && (isAlnum(q[j]) || q[j] == '_' || q[j] == '.' || q[j] == ':') {
				j++
			}
			out = append(out, token{"word", q[i:j]})
			i = j
		case isDigit(c) || c == '-' && i+1 < len(q) && isDigit(q[i+1]):
			j := i + 1
			for j < len(q) && (isDigit(q[j]) || q[j] == '.' || q[j] == ':' || q[j] == 'T' || q[j] == 'Z') {
				j++
			}
			out = append(out, token{"number", q[i:j]})
			i = j
		case c == '\'':
			like := len(out) > 0 && out[len(out)-1].text == "LIKE"
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(q) {
					return nil, fmt.Errorf("unterminated string at %d", i)
				}
				ch := q[j]
				if ch == '\'' {
					break
				}
				if ch < 0x20 || ch == 0x7f {
					return nil, fmt.Errorf("raw control character %q in string at %d", ch, j)
				}
				if strings.HasPrefix(q[j:], "\uffff") || strings.HasPrefix(q[j:], "\ufffe") {
					return nil, fmt.Errorf("raw noncharacter in string at %d", j)
				}
				if like && (ch == '%' || ch == '_') {
					if ch == '%' {
						b.WriteString(anyRun)
					} else {
						b.WriteString(anyOne)
					}
					j++
					continue
				}
				if ch != '\\' {
					b.WriteByte(ch)
					j++
					continue
				}
				if j+1 >= len(q) {
					return nil, fmt.Errorf("dangling backslash at %d", j)
				}
				e := q[j+1]
				j += 2
				switch e {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case 'b':
					b.WriteByte('\b')
				case 'f':
					b.WriteByte('\f')
				case '"', '\'', '\\':
					b.WriteByte(e)
				case '%', '_':
					if !like {
						return nil, fmt.Errorf(`\%c outside LIKE at %d`, e, j)
					}
					b.WriteByte(e)
				case 'u':
					if j+4 > len(q) {
						return nil, fmt.Errorf("short \\u at %d", j)
					}
					n, err := strconv.ParseUint(q[j:j+4], 16, 32)
					if err != nil || n == 0xFFFF {
						return nil, fmt.Errorf("bad \\u at %d", j)
					}
					b.WriteRune(rune(n))
					j += 4
				default:
					return nil, fmt.Errorf("illegal escape \\%c at %d", e, j)
				}
			}
			out = append(out, token{"string", b.String()})
			i = j + 1
		case strings.ContainsRune("(),=", rune(c)):
			out = append(out, token{"punct", string(c)})
			i++
		case c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(q) && q[j] == '=' {
				j++
			}
			out = append(out, token{"punct", q[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at %d", c, i)
		}
	}
	return out, nil
}

// checkTokens builds SELECT Id FROM Account WHERE e and checks that the
// tokenizer reads the fixed head, then exactly tail: no extra token, and
// every string literal decoded back to the intended value. A Build that
// refuses is safe and passes.
func checkTokens(t *testing.T, e Expr, tail ...token) {
	t.Helper()
	q, err := Select{Fields: []string{"Id"}, From: "Account", Where: e}.Build()
	if err != nil {
		return
	}
	toks, err := tokenize(q)
	if err != nil {
		t.Fatalf("query %q does not lex: %v", q, err)
	}
	want := append([]token{{"word", "SELECT"}, {"word", "Id"}, {"word", "FROM"}, {"word", "Account"},
		{"word", "WHERE"}}, tail...)
	if diff := cmp.Diff(want, toks, cmp.AllowUnexported(token{})); diff != "" {
		t.Fatalf("query %q tokens (-want +got):\n%s", q, diff)
	}
}

// checkOneString checks Name <op> <one string literal decoded to want>.
func checkOneString(t *testing.T, e Expr, wantOp string, want string) {
	t.Helper()
	checkTokens(t, e, token{"word", "Name"}, token{wordOrPunct(wantOp), wantOp}, token{"string", want})
}

func wordOrPunct(op string) string {
	if isLetter(op[0]) {
		return "word"
	}
	return "punct"
}

// wildcards is what a Wildcard pattern of s decodes to: its % and _ are
// wildcards, everything else literal.
func wildcards(s string) string {
	return strings.NewReplacer("%", anyRun, "_", anyOne).Replace(s)
}

var fuzzSeeds = []string{
	"", "plain", "O'Brien", `back\slash`, `trailing\`, `\'`, `\\'`, "' OR Name != '",
	"a\nb\r\nc\t", "50% _off", "\x00\x01\x1f\x7f", "Müller 中 😀", `"quoted"`,
	"') OR (Id != '", `\u0027`, "\\", "''", "%", "_", "\uFFFE", `\%`, `\_`, "a\x08\x0cb",
}

// FuzzStringLiteral is the builder's acceptance check (SOQL.md, "What a
// builder must guarantee", 13): for any input, every literal it emits, in
// =, IN and LIKE positions, reads back as exactly that input and adds no
// token; or the builder refuses the input.
func FuzzStringLiteral(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		valid := utf8.ValidString(s) && !strings.ContainsAny(s, "\uffff\ufffe") && utf8.RuneCountInString(s) <= MaxStringLiteral
		lit := String(s)
		if (lit.err() == nil) != valid {
			t.Fatalf("String(%q) err = %v, valid = %v", s, lit.err(), valid)
		}
		checkOneString(t, Cmp("Name", Eq, lit), "=", s)
		checkTokens(t, In("Name", lit, String("x")), token{"word", "Name"}, token{"word", "IN"}, token{"punct", "("},
			token{"string", s}, token{"punct", ","}, token{"string", "x"}, token{"punct", ")"})
		checkOneString(t, Like("Name", Exactly(s)), "LIKE", s)
		checkOneString(t, Like("Name", Contains(s)), "LIKE", anyRun+s+anyRun)
		checkOneString(t, Like("Name", HasSuffix(s)), "LIKE", anyRun+s)
		checkOneString(t, Like("Name", Wildcard(s)), "LIKE", wildcards(s))
	})
}

func TestStringLiteralSeeds(t *testing.T) {
	for _, s := range fuzzSeeds {
		t.Run(strconv.Quote(s), func(t *testing.T) {
			checkOneString(t, Cmp("Name", Eq, String(s)), "=", s)
			checkOneString(t, Like("Name", HasPrefix(s)), "LIKE", s+anyRun)
			checkOneString(t, Like("Name", Wildcard(s)), "LIKE", wildcards(s))
		})
	}
}
