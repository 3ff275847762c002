package outbound

import (
	"bytes"
	"unicode/utf8"
	"unsafe"
)

// This file is the fast path of Decode. It reads the plain layout every
// Salesforce delivery uses straight into a Message, without a tree. It
// accepts only a strict subset of XML and of the message rules: on
// anything else (comments, CDATA, numeric character references, a SOAP
// Header, unknown elements, any rule broken) it gives up, and Decode
// parses the document again with etree, which then decides and reports
// the error. So the fast path never returns an error and, for what it
// accepts, gives exactly what the etree path gives (FuzzDecodeFastPath
// checks this). It enforces the element and attribute limits itself and
// reads only a fixed depth, so it runs before prescan.

type fastParser struct {
	b      []byte
	s      string // b as a string: names and plain values are substrings
	i      int
	slab   []string   // backing for Field.Value pointers, in chunks
	scopes []fastDecl // namespace declarations in scope, innermost last
	attrs  []fastAttr // attributes of the current start tag
	budget int        // elements still allowed (Decoder.MaxElements)
}

type fastDecl struct {
	prefix, uri []byte
	depth       int
}

type fastAttr struct{ prefix, local, value []byte }

// fastTag is a parsed start tag; its attributes are p.attrs until the
// next start tag.
type fastTag struct {
	prefix, local []byte
	empty         bool // <x/>
	depth         int
}

var (
	bNSSOAP    = []byte(NamespaceSOAP)
	bNSOut     = []byte(NamespaceOutbound)
	bNSSObject = []byte(NamespaceSObject)
	bNSXSI     = []byte(NamespaceXSI)
	bXMLNS     = []byte("xmlns")
)

// fastDecode returns the message and true, or false to fall back to etree.
// The message's strings share b's memory: b must never change afterwards.
func fastDecode(b []byte, maxElements int) (*Message, bool) {
	if len(b) == 0 {
		return nil, false
	}
	// b is never written once decoding starts (callers own it: Decode's
	// and the handler's read buffers), so the string can share it.
	p := &fastParser{b: b, s: unsafe.String(unsafe.SliceData(b), len(b)), budget: maxElements}
	if !p.prolog() {
		return nil, false
	}
	env, ok := p.start(0)
	if !ok || env.empty || !p.is(&env, bNSSOAP, "Envelope") {
		return nil, false
	}
	body, found, ok := p.childStart(1)
	if !ok || !found || body.empty || !p.is(&body, bNSSOAP, "Body") {
		return nil, false
	}
	ns, found, ok := p.childStart(2)
	if !ok || !found || ns.empty || !p.is(&ns, bNSOut, "notifications") {
		return nil, false
	}
	m, ok := p.notifications()
	if !ok || !p.end(&ns) {
		return nil, false
	}
	if !p.closeAfterSpace(&body) || !p.closeAfterSpace(&env) {
		return nil, false
	}
	p.space()
	return m, p.i == len(p.b)
}

// prolog skips an optional plain UTF-8 XML declaration and whitespace.
func (p *fastParser) prolog() bool {
	if bytes.HasPrefix(p.b, []byte("<?xml")) {
		end := bytes.Index(p.b, []byte("?>"))
		if end < 0 {
			return false
		}
		decl := p.b[5:end]
		switch string(bytes.TrimSpace(decl)) {
		case `version="1.0" encoding="UTF-8"`, `version="1.0" encoding="utf-8"`, `version="1.0"`:
		default:
			return false
		}
		if len(decl) == 0 || !isSpace(decl[0]) {
			return false
		}
		p.i = end + 2
	}
	p.space()
	return true
}

func (p *fastParser) notifications() (*Message, bool) {
	m := &Message{}
	var seen [5]bool
	for {
		tag, found, ok := p.childStart(3)
		t := &tag
		if !ok {
			return nil, false
		}
		if !found {
			break
		}
		if !p.in(t, bNSOut) {
			return nil, false
		}
		if string(t.local) == "Notification" {
			if len(m.Notifications) == MaxNotifications || t.empty {
				return nil, false
			}
			if m.Notifications == nil {
				m.Notifications = make([]Notification, 0, 8)
			}
			n, ok := p.notification(t)
			if !ok {
				return nil, false
			}
			m.Notifications = append(m.Notifications, n)
			continue
		}
		var k int
		switch string(t.local) {
		case "OrganizationId":
			k = 0
		case "ActionId":
			k = 1
		case "SessionId":
			k = 2
		case "EnterpriseUrl":
			k = 3
		case "PartnerUrl":
			k = 4
		default:
			return nil, false
		}
		if seen[k] {
			return nil, false
		}
		seen[k] = true
		v, ok := p.leaf(t)
		if !ok {
			return nil, false
		}
		if v == nil {
			continue
		}
		switch k {
		case 0:
			m.OrganizationID = *v
		case 1:
			m.ActionID = *v
		case 2:
			s := Secret(*v)
			m.SessionID = &s
		case 3:
			m.EnterpriseURL = *v
		case 4:
			m.PartnerURL = *v
		}
	}
	if m.OrganizationID == "" || m.ActionID == "" {
		return nil, false
	}
	return m, true
}

func (p *fastParser) notification(nt *fastTag) (Notification, bool) {
	var n Notification
	haveObj := false
	for {
		tag, found, ok := p.childStart(4)
		t := &tag
		if !ok {
			return n, false
		}
		if !found {
			break
		}
		if !p.in(t, bNSOut) {
			return n, false
		}
		switch string(t.local) {
		case "Id":
			v, ok := p.leaf(t)
			if !ok || v == nil || n.ID != "" {
				return n, false
			}
			n.ID = *v
		case "sObject":
			if haveObj || t.empty {
				return n, false
			}
			o, ok := p.sobject(t)
			if !ok {
				return n, false
			}
			n.SObject, haveObj = o, true
		default:
			return n, false
		}
	}
	if !p.end(nt) || n.ID == "" || !haveObj {
		return n, false
	}
	return n, true
}

func (p *fastParser) sobject(ot *fastTag) (SObject, bool) {
	var o SObject
	typ, ok := p.xsiType()
	if !ok {
		return o, false
	}
	o.Type = typ
	o.Fields = make([]Field, 0, 24)
	var names nameSet
	var nulls []string
	hasID, sorted, last := false, true, ""
	for {
		tag, found, ok := p.childStart(5)
		t := &tag
		if !ok {
			return o, false
		}
		if !found {
			break
		}
		if !p.in(t, bNSSObject) {
			return o, false
		}
		isNil := p.xsiNil()
		v, ok := p.leaf(t)
		if !ok {
			return o, false
		}
		if isNil {
			v = nil
		}
		if string(t.local) == "fieldsToNull" {
			if v != nil {
				nulls = append(nulls, *v)
			}
			continue
		}
		name := p.str(t.local)
		if !validName(name) {
			return o, false
		}
		// Salesforce sends Id, then the other fields in ascending order:
		// while that holds, a name above the last one cannot repeat.
		switch {
		case name == "Id" && !hasID && names.m == nil:
		case sorted && name > last && names.m == nil && name != "Id":
			last = name
		default:
			sorted = false
			if names.add(name, o.Fields) {
				return o, false
			}
		}
		if name == "Id" {
			if v == nil {
				return o, false
			}
			hasID = true
		}
		o.Fields = append(o.Fields, Field{Name: name, Value: v})
	}
	if !p.end(ot) || !hasID {
		return o, false
	}
	for _, name := range nulls {
		name = string(bytes.TrimSpace([]byte(name)))
		if validName(name) && !names.add(name, o.Fields) {
			o.Fields = append(o.Fields, Field{Name: name})
		}
	}
	return o, true
}

// xsiType reads the current tag's xsi:type as decodeSObject does.
func (p *fastParser) xsiType() (string, bool) {
	for _, a := range p.attrs {
		if string(a.local) != "type" || len(a.prefix) == 0 || bytes.Equal(a.prefix, bXMLNS) {
			continue
		}
		if uri, ok := p.resolve(a.prefix); !ok || !bytes.Equal(uri, bNSXSI) {
			continue
		}
		v := bytes.TrimSpace(a.value)
		prefix, local, found := bytes.Cut(v, []byte(":"))
		if !found {
			prefix, local = nil, prefix
		}
		uri, ok := p.resolve(prefix)
		if !ok || !bytes.Equal(uri, bNSSObject) {
			return "", false
		}
		s := p.str(local)
		return s, validName(s)
	}
	return "", false
}

// xsiNil reports whether the current tag carries xsi:nil true or 1.
func (p *fastParser) xsiNil() bool {
	for _, a := range p.attrs {
		if string(a.local) != "nil" || len(a.prefix) == 0 || bytes.Equal(a.prefix, bXMLNS) {
			continue
		}
		if uri, ok := p.resolve(a.prefix); ok && bytes.Equal(uri, bNSXSI) {
			switch string(bytes.TrimSpace(a.value)) {
			case "true", "1":
				return true
			}
		}
	}
	return false
}

// childStart skips whitespace and reads the next child start tag at depth,
// or returns nil at its parent's end tag (left unread).
func (p *fastParser) childStart(depth int) (t fastTag, found, ok bool) {
	p.space()
	if p.i+1 < len(p.b) && p.b[p.i] == '<' && p.b[p.i+1] == '/' {
		return t, false, true
	}
	t, ok = p.start(depth)
	return t, ok, ok
}

// start reads a start tag and pushes its namespace declarations.
func (p *fastParser) start(depth int) (fastTag, bool) {
	p.popScopes(depth)
	t := fastTag{depth: depth}
	if p.i >= len(p.b) || p.b[p.i] != '<' {
		return t, false
	}
	p.i++
	if p.budget--; p.budget < 0 {
		return t, false
	}
	var ok bool
	if t.prefix, t.local, ok = p.name(); !ok {
		return t, false
	}
	p.attrs = p.attrs[:0]
	for {
		sp := p.space()
		if p.i >= len(p.b) {
			return t, false
		}
		switch p.b[p.i] {
		case '>':
			p.i++
			return t, true
		case '/':
			if p.i+1 >= len(p.b) || p.b[p.i+1] != '>' {
				return t, false
			}
			p.i += 2
			t.empty = true
			return t, true
		}
		if !sp || !p.attr(depth) {
			return t, false
		}
	}
}

// attr reads name="value" (no references, no line ends in the value).
func (p *fastParser) attr(depth int) bool {
	prefix, local, ok := p.name()
	if !ok {
		return false
	}
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '=' {
		return false
	}
	p.i++
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '"' && p.b[p.i] != '\'' {
		return false
	}
	q := p.b[p.i]
	p.i++
	end := bytes.IndexByte(p.b[p.i:], q)
	if end < 0 {
		return false
	}
	v := p.b[p.i : p.i+end]
	p.i += end + 1
	if bytes.ContainsAny(v, "<&\r\n\t") || !plainText(v) {
		return false
	}
	if len(p.attrs) == maxAttrs {
		return false
	}
	for _, a := range p.attrs {
		if bytes.Equal(a.prefix, prefix) && bytes.Equal(a.local, local) {
			return false
		}
	}
	p.attrs = append(p.attrs, fastAttr{prefix, local, v})
	switch {
	case prefix == nil && bytes.Equal(local, bXMLNS):
		p.scopes = append(p.scopes, fastDecl{nil, v, depth})
	case bytes.Equal(prefix, bXMLNS):
		p.scopes = append(p.scopes, fastDecl{local, v, depth})
	}
	return true
}

// name reads an ASCII name with at most one colon.
func (p *fastParser) name() (prefix, local []byte, ok bool) {
	start, colon := p.i, -1
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch k := nameChars[c]; {
		case k == nameStart:
		case k == nameRest:
			if p.i == start || p.i == colon+1 {
				return nil, nil, false
			}
		case c == ':':
			if colon >= 0 || p.i == start {
				return nil, nil, false
			}
			colon = p.i
		default:
			goto done
		}
		p.i++
	}
done:
	switch {
	case p.i == start || colon == p.i-1:
		return nil, nil, false
	case colon < 0:
		return nil, p.b[start:p.i], true
	}
	return p.b[start:colon], p.b[colon+1 : p.i], true
}

// Classes of the ASCII name characters the fast path accepts: letters and
// '_' anywhere, digits, '-' and '.' only after the first character of a
// prefix or local name. ':' is handled apart.
const (
	nameStart = 1 + iota
	nameRest
)

var nameChars = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = nameStart, nameStart
	}
	t['_'] = nameStart
	for c := '0'; c <= '9'; c++ {
		t[c] = nameRest
	}
	t['-'], t['.'] = nameRest, nameRest
	return t
}()

// leaf reads the text content and end tag of t; nil means empty. Anything
// but plain text (a child, a comment, CDATA) gives up.
func (p *fastParser) leaf(t *fastTag) (*string, bool) {
	if t.empty {
		return nil, true
	}
	end := bytes.IndexByte(p.b[p.i:], '<')
	if end < 0 {
		return nil, false
	}
	start := p.i
	raw := p.b[start : start+end]
	p.i += end
	if !p.end(t) {
		return nil, false
	}
	if len(raw) == 0 {
		return nil, true
	}
	v := p.value()
	special, ok := scanText(raw)
	if !ok {
		return nil, false
	}
	if !special {
		*v = p.s[start : start+end]
		return v, true
	}
	s, ok := unescapeChecked(raw) // scanText checked the characters
	if !ok {
		return nil, false
	}
	*v = s
	return v, true
}

// value returns a new string slot for a Field.Value, from chunks so that
// values do not each cost an allocation.
func (p *fastParser) value() *string {
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]string, 0, 256)
	}
	p.slab = p.slab[:len(p.slab)+1]
	return &p.slab[len(p.slab)-1]
}

// str returns b, which must be a slice of p.b, as the same substring of
// p.s, without a copy.
func (p *fastParser) str(b []byte) string {
	off := cap(p.b) - cap(b)
	if off < 0 || off+len(b) > len(p.s) {
		return string(b)
	}
	return p.s[off : off+len(b)]
}

// end reads t's end tag and drops t's namespace declarations.
func (p *fastParser) end(t *fastTag) bool {
	// Compare the end tag's name with t's in place: it must be exactly
	// prefix:local (or local), not followed by another name character.
	rest := p.b[p.i:]
	if len(rest) < 2 || rest[0] != '<' || rest[1] != '/' {
		return false
	}
	rest = rest[2:]
	n := 0
	if len(t.prefix) > 0 {
		if !bytes.HasPrefix(rest, t.prefix) || len(rest) <= len(t.prefix) || rest[len(t.prefix)] != ':' {
			return false
		}
		n = len(t.prefix) + 1
	}
	if !bytes.HasPrefix(rest[n:], t.local) {
		return false
	}
	n += len(t.local)
	if n < len(rest) && (nameChars[rest[n]] != 0 || rest[n] == ':') {
		return false
	}
	p.i += 2 + n
	p.space()
	if p.i >= len(p.b) || p.b[p.i] != '>' {
		return false
	}
	p.i++
	p.popScopes(t.depth)
	return true
}

func (p *fastParser) closeAfterSpace(t *fastTag) bool {
	p.space()
	return p.end(t)
}

// popScopes drops declarations made at depth or deeper.
func (p *fastParser) popScopes(depth int) {
	n := len(p.scopes)
	for n > 0 && p.scopes[n-1].depth >= depth {
		n--
	}
	p.scopes = p.scopes[:n]
}

func (p *fastParser) resolve(prefix []byte) ([]byte, bool) {
	for i := len(p.scopes) - 1; i >= 0; i-- {
		if bytes.Equal(p.scopes[i].prefix, prefix) {
			return p.scopes[i].uri, true
		}
	}
	if len(prefix) == 0 {
		return nil, true
	}
	return nil, false // "xml" and undeclared prefixes: let etree decide
}

func (p *fastParser) in(t *fastTag, uri []byte) bool {
	got, ok := p.resolve(t.prefix)
	return ok && bytes.Equal(got, uri)
}

func (p *fastParser) is(t *fastTag, uri []byte, local string) bool {
	return string(t.local) == local && p.in(t, uri)
}

// space skips XML whitespace and reports whether there was any.
func (p *fastParser) space() bool {
	start := p.i
	for p.i < len(p.b) && isSpace(p.b[p.i]) {
		p.i++
	}
	return p.i > start
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// unescapeChecked replaces the five predefined entity references and
// normalises line ends (CRLF and CR to LF) as encoding/xml does, in text
// whose characters scanText has checked (allowed, no "]]>"). Any other
// reference (numeric, or an unknown name) makes the fast path give up.
func unescapeChecked(raw []byte) (string, bool) {
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return string(raw), true
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\r':
			out = append(out, '\n')
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
			continue
		case '&':
			semi := bytes.IndexByte(raw[i:], ';')
			if semi < 0 {
				return "", false
			}
			switch string(raw[i+1 : i+semi]) {
			case "lt":
				out = append(out, '<')
			case "gt":
				out = append(out, '>')
			case "amp":
				out = append(out, '&')
			case "quot":
				out = append(out, '"')
			case "apos":
				out = append(out, '\'')
			default:
				return "", false
			}
			i += semi
			continue
		}
		out = append(out, c)
	}
	return string(out), true
}

// scanText checks in one pass that raw is text the fast path may take as
// is: valid UTF-8 of characters XML allows, without "]]>". special
// reports an '&' or '\r' (unescape needed).
func scanText(raw []byte) (special, ok bool) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c >= 0x20 && c < utf8.RuneSelf {
			switch c {
			case '&':
				special = true
			case ']':
				if i+2 < len(raw) && raw[i+1] == ']' && raw[i+2] == '>' {
					return false, false
				}
			}
			i++
			continue
		}
		switch {
		case c == '\r':
			special = true
		case c == '\t' || c == '\n':
		case c < 0x20:
			return false, false
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
				return false, false
			}
			i += size
			continue
		}
		i++
	}
	return special, true
}

// plainText reports whether b is valid UTF-8 made only of characters XML
// allows.
func plainText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}
