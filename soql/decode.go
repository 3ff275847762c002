package soql

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrDecode marks a response body that is not a well-formed query page.
var ErrDecode = errors.New("soql: malformed response")

// Page is one decoded REST query response (SALESFORCE.md 2.2; Salesforce's
// reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm).
type Page struct {
	// TotalSize is the number of rows the whole query matches, repeated
	// on every page; -1 when the page did not say.
	TotalSize int
	// Done is false while more pages remain at NextRecordsURL.
	Done bool
	// NextRecordsURL is the path of the next page ("" on the last one).
	NextRecordsURL string
	// Records are the page's records in order.
	Records []*Record

	partial bool // some child relationship result has more batches
}

// DecodePage decodes one query response body. It is built for the shape of
// Salesforce records: each record's bytes are copied once into a string
// and every value without escapes is a slice of it, so decoding a page
// allocates little more than the values' interface boxes. The returned
// records do not refer to body, which the caller may reuse. A child
// relationship result with more batches keeps Done false and its
// NextRecordsURL: DecodePage makes no requests, while Cursor.Records
// fetches those batches before it yields the record.
func DecodePage(body []byte) (*Page, error) {
	var d pageDecoder
	p := &Page{}
	if err := d.decode(body, p); err != nil {
		return nil, err
	}
	return p, nil
}

// pageDecoder decodes pages, remembering the field count of the last
// record to size the next one's slice.
type pageDecoder struct {
	hint int
}

func (d *pageDecoder) decode(body []byte, pg *Page) error {
	if len(body) == 0 {
		return fmt.Errorf("%w: empty body", ErrDecode)
	}
	p := parser{s: string(body)}
	pg.TotalSize, pg.Done, pg.NextRecordsURL, pg.partial = -1, false, "", false
	pg.Records = pg.Records[:0]
	seenDone := false
	p.ws()
	if !p.eat('{') {
		return p.fail("expected '{' at start of page")
	}
	for first := true; ; first = false {
		key, end, err := p.member(first, "page")
		if err != nil {
			return err
		}
		if end {
			break
		}
		switch key {
		case "totalSize":
			n, err := p.int()
			if err != nil {
				return err
			}
			pg.TotalSize = n
		case "done":
			b, err := p.boolean()
			if err != nil {
				return err
			}
			pg.Done, seenDone = b, true
		case "nextRecordsUrl":
			if p.peek() == 'n' {
				if _, err := p.value(); err != nil {
					return err
				}
				break
			}
			u, err := p.str()
			if err != nil {
				return err
			}
			pg.NextRecordsURL = strings.Clone(u)
		case "records":
			if err := d.records(&p, pg); err != nil {
				return err
			}
		default:
			if _, err := p.value(); err != nil {
				return err
			}
		}
	}
	p.ws()
	if p.i != len(p.s) {
		return p.fail("data after page")
	}
	if !seenDone {
		return fmt.Errorf("%w: page has no done", ErrDecode)
	}
	if !pg.Done && pg.NextRecordsURL == "" {
		return fmt.Errorf("%w: page not done but has no nextRecordsUrl", ErrDecode)
	}
	return nil
}

func (d *pageDecoder) records(p *parser, pg *Page) error {
	if p.peek() == 'n' {
		_, err := p.value()
		return err
	}
	if !p.eat('[') {
		return p.fail("expected '[' for records")
	}
	for first := true; ; first = false {
		p.ws()
		if p.eat(']') {
			return nil
		}
		if !first && !p.eat(',') {
			return p.fail("expected ',' or ']' in records")
		}
		p.ws()
		if p.peek() != '{' {
			return p.fail("record is not an object")
		}
		end, err := skipObject(p.s, p.i)
		if err != nil {
			return err
		}
		rp := parser{s: strings.Clone(p.s[p.i:end]), hint: d.hint, base: p.i}
		r, err := rp.record()
		if err != nil {
			return err
		}
		rp.ws()
		if rp.i != len(rp.s) {
			return rp.fail("data after record")
		}
		d.hint = len(r.fields)
		pg.partial = pg.partial || rp.partial
		pg.Records = append(pg.Records, r)
		p.i = end
	}
}

// Byte classes for the scanners.
var (
	structural [256]bool // bytes skipObject stops at
	strStop    [256]bool // bytes that end a run of plain string content
)

func init() {
	for _, c := range []byte(`"{}[]`) {
		structural[c] = true
	}
	strStop['"'], strStop['\\'] = true, true
}

// skipObject returns the end of the object or array starting at i,
// skipping strings. The full parse that follows validates it.
func skipObject(s string, i int) (int, error) {
	depth := 0
	for {
		for i < len(s) && !structural[s[i]] {
			i++
		}
		if i >= len(s) {
			return 0, fmt.Errorf("%w: offset %d: unexpected end of input", ErrDecode, i)
		}
		switch s[i] {
		case '"':
			j := i + 1
			for {
				for j < len(s) && !strStop[s[j]] {
					j++
				}
				if j >= len(s) {
					return 0, fmt.Errorf("%w: offset %d: unterminated string", ErrDecode, i)
				}
				if s[j] == '"' {
					break
				}
				j += 2 // a backslash and the byte it escapes
			}
			i = j + 1
			continue
		case '{', '[':
			depth++
		default: // '}' or ']'
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		}
		i++
	}
}

// parser reads JSON from s; values without escapes are slices of s.
type parser struct {
	s       string
	i       int
	hint    int  // expected number of fields of a record
	base    int  // offset of s in the page, for error messages
	partial bool // a child relationship result with done false was seen
}

func (p *parser) fail(msg string) error {
	if p.i >= len(p.s) {
		return fmt.Errorf("%w: offset %d: %s (unexpected end of input)", ErrDecode, p.base+p.i, msg)
	}
	return fmt.Errorf("%w: offset %d: %s (found %q)", ErrDecode, p.base+p.i, msg, p.s[p.i])
}

func (p *parser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\n', '\r', '\t':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// record parses an object as a Record; attributes{type,url} becomes its
// type and URL, every other key a field in order.
func (p *parser) record() (*Record, error) {
	start := p.i
	if !p.eat('{') {
		return nil, p.fail("expected '{'")
	}
	r := &Record{}
	if p.hint > 0 {
		r.fields = make([]Field, 0, p.hint)
	}
	if _, err := p.members(r); err != nil {
		return nil, err
	}
	if start == 0 && p.i == len(p.s) {
		r.raw = p.s
	} else {
		r.raw = p.s[start:p.i]
	}
	return r, nil
}

// members parses the members of an object after '{' into r and reports
// whether it had attributes (which make it a record).
func (p *parser) members(r *Record) (bool, error) {
	attrs := false
	for first := true; ; first = false {
		key, end, err := p.member(first, "object")
		if err != nil {
			return false, err
		}
		if end {
			return attrs, nil
		}
		if key == "attributes" && p.peek() == '{' {
			if err := p.attributes(r); err != nil {
				return false, err
			}
			attrs = true
			continue
		}
		v, err := p.value()
		if err != nil {
			return false, err
		}
		r.fields = append(r.fields, Field{Name: key, Value: v})
	}
}

func (p *parser) attributes(r *Record) error {
	p.i++ // '{'
	for first := true; ; first = false {
		key, end, err := p.member(first, "attributes")
		if err != nil {
			return err
		}
		if end {
			return nil
		}
		v, err := p.value()
		if err != nil {
			return err
		}
		s, _ := v.(string)
		switch key {
		case "type":
			r.typ = s
		case "url":
			r.url = s
		}
	}
}

func (p *parser) value() (any, error) {
	switch c := p.peek(); {
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return s, nil
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == 't' || c == 'f':
		return p.boolean()
	case c == 'n':
		if strings.HasPrefix(p.s[p.i:], "null") {
			p.i += 4
			return nil, nil
		}
		return nil, p.fail("invalid literal")
	case c == '-' || isDigit(c):
		n, err := p.number()
		if err != nil {
			return nil, err
		}
		return n, nil
	}
	return nil, p.fail("invalid value")
}

// object parses a nested object: a *Record when it has attributes, a
// *Subquery when it is a child query result, else a map[string]any.
func (p *parser) object() (any, error) {
	start := p.i
	p.i++
	var tmp [8]Field
	r := Record{fields: tmp[:0]}
	isRecord, err := p.members(&r)
	if err != nil {
		return nil, err
	}
	if isRecord {
		rec := &Record{typ: r.typ, url: r.url, raw: p.s[start:p.i]}
		rec.fields = append(make([]Field, 0, len(r.fields)), r.fields...)
		return rec, nil
	}
	if sq, ok := subquery(r.fields); ok {
		if !sq.Done {
			p.partial = true
		}
		return sq, nil
	}
	m := make(map[string]any, len(r.fields))
	for _, f := range r.fields {
		m[f.Name] = f.Value
	}
	return m, nil
}

// subquery recognises {"totalSize":n,"done":b,"records":[...]}.
func subquery(fs []Field) (*Subquery, bool) {
	if len(fs) < 3 || len(fs) > 4 {
		return nil, false
	}
	sq := &Subquery{}
	seen := 0
	for _, f := range fs {
		switch f.Name {
		case "totalSize":
			n, ok := f.Value.(json.Number)
			if !ok {
				return nil, false
			}
			v, err := strconv.Atoi(string(n))
			if err != nil {
				return nil, false
			}
			sq.TotalSize = v
			seen |= 1
		case "done":
			b, ok := f.Value.(bool)
			if !ok {
				return nil, false
			}
			sq.Done = b
			seen |= 2
		case "records":
			arr, ok := f.Value.([]any)
			if !ok && f.Value != nil {
				return nil, false
			}
			for _, a := range arr {
				rec, ok := a.(*Record)
				if !ok {
					return nil, false
				}
				sq.Records = append(sq.Records, rec)
			}
			seen |= 4
		case "nextRecordsUrl":
			s, ok := f.Value.(string)
			if !ok {
				return nil, false
			}
			sq.NextRecordsURL = s
		default:
			return nil, false
		}
	}
	return sq, seen == 7
}

func (p *parser) array() (any, error) {
	p.i++
	out := []any{}
	for first := true; ; first = false {
		p.ws()
		if p.eat(']') {
			return out, nil
		}
		if !first && !p.eat(',') {
			return nil, p.fail("expected ',' or ']' in array")
		}
		p.ws()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func (p *parser) boolean() (bool, error) {
	switch {
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return false, nil
	}
	return false, p.fail("expected true or false")
}

func (p *parser) int() (int, error) {
	v, err := p.number()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, fmt.Errorf("%w: offset %d: %q is not an integer", ErrDecode, p.base+p.i, v)
	}
	return n, nil
}

// number parses a JSON number and returns its text.
func (p *parser) number() (json.Number, error) {
	s, start := p.s, p.i
	i := start
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		p.i = i
		return "", p.fail("invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == j {
			p.i = i
			return "", p.fail("invalid number")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == j {
			p.i = i
			return "", p.fail("invalid number")
		}
	}
	p.i = i
	return json.Number(s[start:i]), nil
}

// str parses a string at p.i. Without escapes it is a slice of p.s.
func (p *parser) str() (string, error) {
	if !p.eat('"') {
		return "", p.fail("expected string")
	}
	s := p.s
	start := p.i
	j := start
	for j < len(s) && !strStop[s[j]] {
		j++
	}
	switch {
	case j >= len(s):
		p.i = len(s)
		return "", p.fail("unterminated string")
	case s[j] == '"':
		p.i = j + 1
		return s[start:j], nil
	}
	return p.unescape(start)
}

func (p *parser) unescape(start int) (string, error) {
	s := p.s
	end := start
	for end < len(s) && s[end] != '"' {
		if s[end] == '\\' {
			end++
		}
		end++
	}
	// The decoded text is never longer than the escaped one.
	var b strings.Builder
	b.Grow(min(end, len(s)) - start)
	i := start
	for {
		k := i
		for k < len(s) && !strStop[s[k]] {
			k++
		}
		b.WriteString(s[i:k])
		i = k
		if i >= len(s) {
			p.i = i
			return "", p.fail("unterminated string")
		}
		if s[i] == '"' {
			p.i = i + 1
			return b.String(), nil
		}
		if i+1 >= len(s) {
			p.i = i
			return "", p.fail("unterminated string")
		}
		e := s[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i)
			if !ok {
				p.i = i
				return "", p.fail("invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(s, i+2); ok && strings.HasPrefix(s[i:], `\u`) {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
		default:
			p.i = i - 1
			return "", p.fail("invalid escape")
		}
	}
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i:i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

// member reads the key of an object's next member, leaving the parser at
// its value, or reports end at the closing '}'. first says whether no
// member was read yet (no ',' expected); where names the object in errors.
func (p *parser) member(first bool, where string) (key string, end bool, err error) {
	p.ws()
	if p.eat('}') {
		return "", true, nil
	}
	if !first && !p.eat(',') {
		return "", false, p.fail("expected ',' or '}' in " + where)
	}
	p.ws()
	if key, err = p.str(); err != nil {
		return "", false, err
	}
	p.ws()
	if !p.eat(':') {
		return "", false, p.fail("expected ':'")
	}
	p.ws()
	return key, false, nil
}
