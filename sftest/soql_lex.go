package sftest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the SOQL lexer of the fake org, written from SOQL.md
// sections 1-3: case-insensitive keywords, single-quoted strings with the
// escape list of 2.2 only, unsigned decimal numbers without exponents,
// unquoted date and datetime literals with a mandatory zone, and no
// comments.

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tDate
	tDateTime
	tPunct
)

type token struct {
	kind tokKind
	text string // source text (for strings: the raw content between quotes)
	str  string // decoded string value; for LIKE, % and _ escapes are kept as \% and \_
	pct  bool   // the string used \% or \_ (legal only in LIKE)
	pos  int    // byte offset in the query
}

// queryError is a SOQL failure in Salesforce's error shape (SOQL.md 8.2).
type queryError struct {
	code string
	msg  string
}

func (e *queryError) Error() string { return e.code + ": " + e.msg }

// errAt builds an error whose message carries Salesforce's position
// prefix: the fragment, a caret, "ERROR at Row:r:Column:c", the detail.
func errAt(q string, pos int, code, detail string) *queryError {
	if pos < 0 {
		return &queryError{code: code, msg: detail}
	}
	pos = min(pos, len(q))
	row, lineStart := 1, 0
	for i := 0; i < pos; i++ {
		if q[i] == '\n' {
			row++
			lineStart = i + 1
		}
	}
	lineEnd := strings.IndexByte(q[lineStart:], '\n')
	if lineEnd < 0 {
		lineEnd = len(q)
	} else {
		lineEnd += lineStart
	}
	col := utf8.RuneCountInString(q[lineStart:pos]) + 1
	// A window of about 30 characters either side, widened to whole words.
	from := max(lineStart, pos-30)
	for from > lineStart && q[from-1] != ' ' {
		from--
	}
	to := min(lineEnd, pos+30)
	for to < lineEnd && q[to] != ' ' {
		to++
	}
	frag := strings.TrimRight(q[from:to], "\r")
	caret := strings.Repeat(" ", utf8.RuneCountInString(q[from:pos]))
	msg := fmt.Sprintf("\n%s\n%s^\nERROR at Row:%d:Column:%d\n%s", frag, caret, row, col, detail)
	return &queryError{code: code, msg: msg}
}

func malformed(q string, pos int, detail string) *queryError {
	return errAt(q, pos, "MALFORMED_QUERY", detail)
}

func unexpected(q string, t token) *queryError {
	text := t.text
	switch t.kind {
	case tEOF:
		text = "<EOF>"
	case tString:
		text = "'" + t.text + "'"
	}
	return malformed(q, t.pos, "unexpected token: '"+text+"'")
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// lex splits q into tokens.
func lex(q string) ([]token, *queryError) {
	var toks []token
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case isLetter(c):
			j := i + 1
			for j < len(q) && (isLetter(q[j]) || isDigit(q[j]) || q[j] == '_' || q[j] == '.') {
				j++
			}
			toks = append(toks, token{kind: tIdent, text: q[i:j], pos: i})
			i = j
		case c == '\'':
			t, n, err := lexString(q, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = n
		case isDigit(c) || (c == '.' || c == '-' || c == '+') && i+1 < len(q) && isDigit(q[i+1]):
			t, n, err := lexNumberOrDate(q, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = n
		case c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(q) && (q[j] == '=' || c == '<' && q[j] == '>') {
				j++
			}
			if c == '!' && j == i+1 {
				return nil, malformed(q, i, "line 1:"+strconv.Itoa(i)+" no viable alternative at character '!'")
			}
			toks = append(toks, token{kind: tPunct, text: q[i:j], pos: i})
			i = j
		case c == '=' || c == '(' || c == ')' || c == ',' || c == ':':
			toks = append(toks, token{kind: tPunct, text: q[i : i+1], pos: i})
			i++
		default:
			r, _ := utf8.DecodeRuneInString(q[i:])
			return nil, malformed(q, i, fmt.Sprintf("line 1:%d no viable alternative at character '%c'", i, r))
		}
	}
	toks = append(toks, token{kind: tEOF, pos: len(q)})
	return toks, nil
}

// lexString reads a single-quoted literal at q[i] (SOQL.md 2.1-2.2).
func lexString(q string, i int) (token, int, *queryError) {
	var b strings.Builder
	pct := false
	j := i + 1
	for {
		if j >= len(q) {
			return token{}, 0, malformed(q, i, "line 1:"+strconv.Itoa(i)+" mismatched character '<EOF>' expecting '''")
		}
		c := q[j]
		if c == '\'' {
			break
		}
		if c == '\n' {
			return token{}, 0, malformed(q, i, "line 1:"+strconv.Itoa(j)+" mismatched character '\\n' expecting '''")
		}
		if c != '\\' {
			b.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(q) {
			return token{}, 0, malformed(q, i, "line 1:"+strconv.Itoa(i)+" mismatched character '<EOF>' expecting '''")
		}
		e := q[j+1]
		switch e {
		case 'n', 'N':
			b.WriteByte('\n')
		case 'r', 'R':
			b.WriteByte('\r')
		case 't', 'T':
			b.WriteByte('\t')
		case 'b', 'B':
			b.WriteByte('\b')
		case 'f', 'F':
			b.WriteByte('\f')
		case '"', '\'', '\\':
			b.WriteByte(e)
		case '%', '_':
			b.WriteByte('\\')
			b.WriteByte(e)
			pct = true
		case 'u', 'U':
			hex := q[j+2 : min(j+6, len(q))]
			n, err := strconv.ParseUint(hex, 16, 32)
			if len(hex) != 4 || err != nil || n == 0xFFFF {
				end := strings.IndexByte(q[j:], '\'')
				if end < 0 {
					end = len(q) - j
				}
				return token{}, 0, malformed(q, i, fmt.Sprintf("Invalid string literal '%s'. Illegal unicode sequence. '%s' in string literal.",
					rawUntilQuote(q, i+1), q[j:j+end]))
			}
			b.WriteRune(rune(n))
			j += 4
		default:
			return token{}, 0, malformed(q, i, fmt.Sprintf("Invalid string literal '%s'. Illegal character sequence '\\%c' in string literal.",
				rawUntilQuote(q, i+1), e))
		}
		j += 2
	}
	return token{kind: tString, text: q[i+1 : j], str: b.String(), pct: pct, pos: i}, j + 1, nil
}

// rawUntilQuote returns the raw literal text from i to the closing quote.
func rawUntilQuote(q string, i int) string {
	for j := i; j < len(q); j++ {
		if q[j] == '\\' {
			j++
			continue
		}
		if q[j] == '\'' {
			return q[i:j]
		}
	}
	return q[i:]
}

// lexNumberOrDate reads a number, a date (2006-01-02) or a datetime
// (2006-01-02T15:04:05[.000](Z|+hh:mm|+hhmm)).
func lexNumberOrDate(q string, i int) (token, int, *queryError) {
	j := i
	if q[j] == '-' || q[j] == '+' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(q) && isDigit(q[j]) {
			j++
		}
		return j - k
	}
	n := digits()
	if n == 4 && i == j-4 && j < len(q) && q[j] == '-' && j+6 <= len(q) && isDigit(q[j+1]) {
		return lexDate(q, i)
	}
	if j < len(q) && q[j] == '.' {
		j++
		if digits() == 0 {
			return token{}, 0, malformed(q, j-1, "unexpected token: '.'")
		}
	}
	return token{kind: tNumber, text: q[i:j], pos: i}, j, nil
}

func lexDate(q string, i int) (token, int, *queryError) {
	j := i
	for j < len(q) && (isDigit(q[j]) || strings.IndexByte("-+:.TtZz", q[j]) >= 0) {
		j++
	}
	text := q[i:j]
	if len(text) == 10 {
		if !validDate(text) {
			return token{}, 0, malformed(q, i, "Invalid date: "+text)
		}
		return token{kind: tDate, text: text, pos: i}, j, nil
	}
	if _, ok := parseDateTimeLiteral(text); !ok {
		return token{}, 0, malformed(q, i, "Invalid datetime: "+text)
	}
	return token{kind: tDateTime, text: text, pos: i}, j, nil
}
