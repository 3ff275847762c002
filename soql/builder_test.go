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

// tokenize lexes SOQL per SOQL.md 1 and 2: it decodes string literals with
// the documented escapes (\% and \_ only when like is set for that
// literal), and fails on anything else.
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
				if ch == '\n' || ch == '\r' || ch == 0 {
					return nil, fmt.Errorf("raw control character in string at %d", j)
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
					b.WriteByte('\\')
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

// checkOneString builds a query around lit and checks that the tokenizer
// reads exactly the expected tokens with the string decoded to want.
func checkOneString(t *testing.T, e Expr, wantOp string, want string) {
	t.Helper()
	q, err := Select{Fields: []string{"Id"}, From: "Account", Where: e}.Build()
	if err != nil {
		return // refusing is safe
	}
	toks, err := tokenize(q)
	if err != nil {
		t.Fatalf("query %q does not lex: %v", q, err)
	}
	wantToks := []token{{"word", "SELECT"}, {"word", "Id"}, {"word", "FROM"}, {"word", "Account"},
		{"word", "WHERE"}, {"word", "Name"}, {wordOrPunct(wantOp), wantOp}, {"string", want}}
	if diff := cmp.Diff(wantToks, toks, cmp.AllowUnexported(token{})); diff != "" {
		t.Fatalf("query %q tokens (-want +got):\n%s", q, diff)
	}
}

func wordOrPunct(op string) string {
	if isLetter(op[0]) {
		return "word"
	}
	return "punct"
}

// likeEscaped is how a LIKE literal's text reads after decoding SOQL
// escapes but before wildcard interpretation: % and _ from the input are
// still escaped.
func likeEscaped(s string) string {
	r := strings.NewReplacer(`%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

var fuzzSeeds = []string{
	"", "plain", "O'Brien", `back\slash`, `trailing\`, `\'`, `\\'`, "' OR Name != '",
	"a\nb\r\nc\t", "50% _off", "\x00\x01\x1f\x7f", "Müller 中 😀", `"quoted"`,
	"') OR (Id != '", `\u0027`, "\\", "''", "%", "_", "\uFFFE",
}

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
		checkOneString(t, Like("Name", Exactly(s)), "LIKE", likeEscaped(s))
		checkOneString(t, Like("Name", Contains(s)), "LIKE", "%"+likeEscaped(s)+"%")
	})
}

func TestStringLiteralSeeds(t *testing.T) {
	for _, s := range fuzzSeeds {
		t.Run(strconv.Quote(s), func(t *testing.T) {
			checkOneString(t, Cmp("Name", Eq, String(s)), "=", s)
			checkOneString(t, Like("Name", HasPrefix(s)), "LIKE", likeEscaped(s)+"%")
		})
	}
}
