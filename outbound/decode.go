package outbound

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"
)

// XML namespaces of an Outbound Message (SALESFORCE.md 5.2). Elements are
// matched by these URIs, never by prefix.
const (
	NamespaceSOAP     = "http://schemas.xmlsoap.org/soap/envelope/"
	NamespaceOutbound = "http://soap.sforce.com/2005/09/outbound"
	NamespaceSObject  = "urn:sobject.enterprise.soap.sforce.com"
	NamespaceXSI      = "http://www.w3.org/2001/XMLSchema-instance"
	nsXML             = "http://www.w3.org/XML/1998/namespace"
)

// Errors of Decode and DecodeJSON, to branch on with errors.Is. The
// returned error wraps one of them with the place it was found. None of
// them quotes a field value or the session id.
var (
	ErrNotXML               = errors.New("outbound: not well-formed XML")
	ErrNotJSON              = errors.New("outbound: not well-formed JSON")
	ErrDoctype              = errors.New("outbound: document type declarations are not allowed")
	ErrTooLarge             = errors.New("outbound: message too large")
	ErrLimit                = errors.New("outbound: message exceeds a structural limit")
	ErrNotEnvelope          = errors.New("outbound: not a SOAP 1.1 envelope")
	ErrNotNotifications     = errors.New("outbound: body is not an outbound notifications element")
	ErrMalformed            = errors.New("outbound: malformed notifications element")
	ErrTooManyNotifications = errors.New("outbound: more than 100 notifications")
	ErrBadNotification      = errors.New("outbound: notification without Id or sObject")
	ErrBadSObject           = errors.New("outbound: sObject without a type or an Id")
)

// Default limits of a Decoder.
const (
	// DefaultMaxBytes bounds a message's size. 100 notifications of 50
	// ordinary fields take about 1 MiB; 16 MiB leaves room for long text
	// areas (up to 131,072 characters each), e.g. one nearly full long
	// text field per notification plus many others. Raise it for actions
	// that select several large long text or rich text fields.
	DefaultMaxBytes = 16 << 20
	// DefaultMaxDepth bounds element nesting. A message needs 6 levels
	// (Envelope, Body, notifications, Notification, sObject, field).
	DefaultMaxDepth = 32
	// DefaultMaxElements bounds the element count: 100 notifications of
	// 1,000 fields (more than an object can have) plus the envelope.
	DefaultMaxElements = 1 << 17
	// maxTagBytes bounds one start tag, and so its attributes. A message's
	// tags carry at most a few namespace declarations.
	maxTagBytes = 16 << 10
	// maxAttrs bounds the attributes of one element, so that resolving
	// namespaces stays cheap; a message's tags have at most four.
	maxAttrs = 64
)

// Decoder decodes Outbound Messages with limits against hostile input. The
// zero value uses the defaults; Decode uses the zero value.
type Decoder struct {
	MaxBytes    int64 // 0 means DefaultMaxBytes
	MaxDepth    int   // 0 means DefaultMaxDepth
	MaxElements int   // 0 means DefaultMaxElements
}

// Decode reads one Outbound Message (a SOAP 1.1 envelope, SALESFORCE.md
// 5.2) with the default limits. See Decoder.Decode.
func Decode(r io.Reader) (*Message, error) {
	return Decoder{}.Decode(r)
}

// Decode reads one Outbound Message from r.
//
// Namespaces are matched by URI, whatever the prefixes and wherever they
// are declared; whitespace, comments, an XML declaration, a UTF-8 byte
// order mark and CRLF line ends are accepted. The sObject type comes from
// xsi:type, its prefix resolved through the declarations in scope. Each
// field keeps document order; xsi:nil="true" or an empty element gives a
// nil Value; unknown elements under notifications and Notification are
// ignored, but every child of sObject must be a field in the sObject
// namespace with text content only.
//
// Hostile input: a document type declaration is refused (so there are no
// external entities and no entity expansion beyond the five predefined
// ones), as is any encoding other than UTF-8; size, depth, element count
// and tag length are bounded before the tree is built.
func (d Decoder) Decode(r io.Reader) (*Message, error) {
	b, err := readLimited(r, d.maxBytes())
	if err != nil {
		return nil, err
	}
	return d.decodeBytes(b)
}

func (d Decoder) maxBytes() int64 {
	if d.MaxBytes > 0 {
		return d.MaxBytes
	}
	return DefaultMaxBytes
}

func (d Decoder) maxDepth() int {
	if d.MaxDepth > 0 {
		return d.MaxDepth
	}
	return DefaultMaxDepth
}

func (d Decoder) maxElements() int {
	if d.MaxElements > 0 {
		return d.MaxElements
	}
	return DefaultMaxElements
}

// readLimited reads all of r, failing with ErrTooLarge past max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	if l, ok := r.(interface{ Len() int }); ok && int64(l.Len()) <= max {
		buf.Grow(l.Len() + bytes.MinRead) // bytes.Reader, strings.Reader, bytes.Buffer
	}
	_, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	b := buf.Bytes()
	if int64(len(b)) > max {
		return nil, fmt.Errorf("over %d bytes: %w", max, ErrTooLarge)
	}
	return b, nil
}

// decodeBytes decodes b, which the caller must never modify afterwards:
// the message may share its memory.
func (d Decoder) decodeBytes(b []byte) (*Message, error) {
	if int64(len(b)) > d.maxBytes() {
		return nil, fmt.Errorf("over %d bytes: %w", d.maxBytes(), ErrTooLarge)
	}
	b = trimBOM(b)
	if !disableFastPath {
		if m, ok := fastDecode(b, d.maxElements()); ok {
			return m, nil
		}
	}
	if err := prescan(b, d.maxElements()); err != nil {
		return nil, err
	}
	return d.decodeTree(b)
}

// disableFastPath makes tests exercise the etree path alone.
var disableFastPath = false

// decodeTree is the general path: an etree document, then the rules.
func (d Decoder) decodeTree(b []byte) (*Message, error) {
	doc, err := d.parseTree(b)
	if err != nil {
		return nil, err
	}
	return decodeDocument(doc)
}

// parseTree builds the tree of a document with exactly one root element.
func (d Decoder) parseTree(b []byte) (*etree.Document, error) {
	doc := etree.NewDocument()
	doc.ReadSettings = etree.ReadSettings{
		CharsetReader: utf8Only,
		MaxDepth:      d.maxDepth(),
	}
	if err := doc.ReadFromBytes(b); err != nil {
		if errors.Is(err, etree.ErrMaxDepth) {
			return nil, fmt.Errorf("deeper than %d elements: %w", d.maxDepth(), ErrLimit)
		}
		return nil, fmt.Errorf("%w: %s", ErrNotXML, syntaxText(err))
	}
	if n := len(childElements(&doc.Element)); n != 1 {
		return nil, fmt.Errorf("%w: %d root elements", ErrNotXML, n)
	}
	return doc, nil
}

// syntaxText is the parser's message without any text of the document
// beyond element names: encoding/xml quotes the name of a bad entity
// reference ("AT&T" gives "&T"), which is part of a field value.
func syntaxText(err error) string {
	msg := strings.TrimPrefix(err.Error(), "xml: ")
	const entity = "invalid character entity"
	if i := strings.Index(msg, entity); i >= 0 {
		msg = msg[:i+len(entity)]
	}
	return msg
}

// errCharset is returned by utf8Only; etree reports it as a parse error.
var errCharset = errors.New("encoding other than UTF-8")

// utf8Only accepts the encodings that are UTF-8 (encoding/xml does not ask
// for "utf-8" itself) and refuses the rest rather than misread them.
func utf8Only(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf8", "us-ascii", "ascii":
		return r, nil
	}
	return nil, errCharset
}

// prescan walks the raw markup once, cheaply, before any tree is built: it
// refuses document type declarations (and every other <! declaration but
// comments and CDATA) and counts elements and tag lengths. On malformed
// input it may stop early; the parser then reports the error.
func prescan(b []byte, maxElements int) error {
	elements := 0
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 {
			return nil
		}
		b = b[i+1:]
		if len(b) == 0 {
			return nil
		}
		switch b[0] {
		case '!':
			switch {
			case bytes.HasPrefix(b, []byte("!--")):
				b = skipPast(b[3:], "-->")
			case bytes.HasPrefix(b, []byte("![CDATA[")):
				b = skipPast(b[8:], "]]>")
			default:
				return ErrDoctype
			}
		case '?':
			b = skipPast(b[1:], "?>")
		case '/':
			b = skipPast(b[1:], ">")
		default:
			elements++
			if elements > maxElements {
				return fmt.Errorf("more than %d elements: %w", maxElements, ErrLimit)
			}
			n, attrs := startTagLen(b)
			if n > maxTagBytes {
				return fmt.Errorf("a start tag over %d bytes: %w", maxTagBytes, ErrLimit)
			}
			if attrs > maxAttrs {
				return fmt.Errorf("a start tag with over %d attributes: %w", maxAttrs, ErrLimit)
			}
			b = b[n:]
		}
	}
}

// skipPast returns b after the first sep, or nil if there is none.
func skipPast(b []byte, sep string) []byte {
	i := bytes.Index(b, []byte(sep))
	if i < 0 {
		return nil
	}
	return b[i+len(sep):]
}

// startTagLen returns the length of the start tag at the beginning of b
// up to its closing '>', skipping quoted attribute values, and the number
// of attributes (quoted values) in it.
func startTagLen(b []byte) (n, attrs int) {
	var quote byte
	for i, c := range b {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
			attrs++
		case c == '>':
			return i + 1, attrs
		}
		if i > maxTagBytes {
			return i, attrs
		}
	}
	return len(b), attrs
}

// decodeDocument maps the parsed tree onto a Message.
func decodeDocument(doc *etree.Document) (*Message, error) {
	env := doc.Root()
	if !is(env, NamespaceSOAP, "Envelope") {
		return nil, fmt.Errorf("root is %s: %w", describe(env), ErrNotEnvelope)
	}
	body, err := soapBody(env)
	if err != nil {
		return nil, err
	}

	parts := childElements(body)
	if len(parts) != 1 || !is(parts[0], NamespaceOutbound, "notifications") {
		if len(parts) == 1 {
			return nil, fmt.Errorf("body holds %s: %w", describe(parts[0]), ErrNotNotifications)
		}
		return nil, fmt.Errorf("body holds %d elements: %w", len(parts), ErrNotNotifications)
	}
	return decodeNotifications(parts[0])
}

// soapBody returns the envelope's one Body (an optional Header may
// precede it).
func soapBody(env *etree.Element) (*etree.Element, error) {
	var body *etree.Element
	for _, c := range childElements(env) {
		switch {
		case is(c, NamespaceSOAP, "Header"):
		case is(c, NamespaceSOAP, "Body"):
			if body != nil {
				return nil, fmt.Errorf("two Body elements: %w", ErrNotEnvelope)
			}
			body = c
		default:
			return nil, fmt.Errorf("envelope holds %s: %w", describe(c), ErrNotEnvelope)
		}
	}
	if body == nil {
		return nil, fmt.Errorf("no Body: %w", ErrNotEnvelope)
	}
	return body, nil
}

func decodeNotifications(ns *etree.Element) (*Message, error) {
	m := &Message{}
	seen := make(map[string]bool, 5)
	for _, c := range childElements(ns) {
		if !inNamespace(c, NamespaceOutbound) {
			continue // not ours: tolerated, as SOAP allows extensions
		}
		if c.Tag == "Notification" {
			if len(m.Notifications) == MaxNotifications {
				return nil, ErrTooManyNotifications
			}
			if m.Notifications == nil {
				m.Notifications = make([]Notification, 0, countTag(ns, "Notification"))
			}
			n, err := decodeNotification(c, len(m.Notifications)+1)
			if err != nil {
				return nil, err
			}
			m.Notifications = append(m.Notifications, n)
			continue
		}
		var dst *string
		switch c.Tag {
		case "OrganizationId":
			dst = &m.OrganizationID
		case "ActionId":
			dst = &m.ActionID
		case "EnterpriseUrl":
			dst = &m.EnterpriseURL
		case "PartnerUrl":
			dst = &m.PartnerURL
		case "SessionId":
		default:
			continue
		}
		if seen[c.Tag] {
			return nil, fmt.Errorf("%w: two %s elements", ErrMalformed, c.Tag)
		}
		seen[c.Tag] = true
		v, err := textValue(c)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, c.Tag, err)
		}
		switch {
		case dst != nil && v != nil:
			*dst = *v
		case dst == nil && v != nil:
			s := Secret(*v)
			m.SessionID = &s
		}
	}
	if m.OrganizationID == "" {
		return nil, fmt.Errorf("%w: no OrganizationId", ErrMalformed)
	}
	if m.ActionID == "" {
		return nil, fmt.Errorf("%w: no ActionId", ErrMalformed)
	}
	return m, nil
}

func decodeNotification(e *etree.Element, nth int) (Notification, error) {
	var n Notification
	var obj *etree.Element
	for _, c := range childElements(e) {
		if !inNamespace(c, NamespaceOutbound) {
			continue
		}
		switch c.Tag {
		case "Id":
			v, err := textValue(c)
			if err != nil || v == nil || n.ID != "" {
				return n, fmt.Errorf("notification %d: bad or repeated Id: %w", nth, ErrBadNotification)
			}
			n.ID = *v
		case "sObject":
			if obj != nil {
				return n, fmt.Errorf("notification %d: two sObject elements: %w", nth, ErrBadNotification)
			}
			obj = c
		}
	}
	if n.ID == "" {
		return n, fmt.Errorf("notification %d: no Id: %w", nth, ErrBadNotification)
	}
	if obj == nil {
		return n, fmt.Errorf("notification %d: no sObject: %w", nth, ErrBadNotification)
	}
	o, err := decodeSObject(obj)
	if err != nil {
		return n, fmt.Errorf("notification %d: %w", nth, err)
	}
	n.SObject = o
	return n, nil
}

func decodeSObject(e *etree.Element) (SObject, error) {
	var o SObject
	typ, err := xsiType(e)
	if err != nil {
		return o, err
	}
	o.Type = typ

	children := childElements(e)
	o.Fields = make([]Field, 0, len(children))
	var nulls []string // from fieldsToNull, kept in order
	var names nameSet
	hasID := false
	for _, c := range children {
		if !inNamespace(c, NamespaceSObject) {
			return o, fmt.Errorf("%s is not in the sObject namespace: %w", describe(c), ErrBadSObject)
		}
		v, err := fieldValue(c)
		if err != nil {
			return o, fmt.Errorf("field %s: %v: %w", clip(c.Tag), err, ErrBadSObject)
		}
		if c.Tag == "fieldsToNull" {
			if v != nil {
				nulls = append(nulls, *v)
			}
			continue
		}
		if !validName(c.Tag) {
			return o, fmt.Errorf("field name %q is not an API name: %w", clip(c.Tag), ErrBadSObject)
		}
		if names.add(c.Tag, o.Fields) {
			return o, fmt.Errorf("field %s appears twice: %w", c.Tag, ErrBadSObject)
		}
		if c.Tag == "Id" {
			if v == nil {
				return o, fmt.Errorf("field Id is empty: %w", ErrBadSObject)
			}
			hasID = true
		}
		o.Fields = append(o.Fields, Field{Name: c.Tag, Value: v})
	}
	if !hasID {
		return o, fmt.Errorf("%s has no Id: %w", clip(typ), ErrBadSObject)
	}
	for _, name := range nulls {
		name = strings.TrimSpace(name)
		if validName(name) && !names.add(name, o.Fields) {
			o.Fields = append(o.Fields, Field{Name: name})
		}
	}
	return o, nil
}

// xsiType returns the local part of the sObject's xsi:type after checking
// that its prefix resolves to the sObject namespace.
func xsiType(e *etree.Element) (string, error) {
	for _, a := range e.Attr {
		if a.Key != "type" || a.Space == "" || a.Space == "xmlns" {
			continue
		}
		if uri, ok := lookupNamespace(e, a.Space); !ok || uri != NamespaceXSI {
			continue
		}
		prefix, local, found := strings.Cut(strings.TrimSpace(a.Value), ":")
		if !found {
			prefix, local = "", prefix
		}
		uri, ok := lookupNamespace(e, prefix)
		if !ok {
			return "", fmt.Errorf("xsi:type prefix %q is not declared: %w", clip(prefix), ErrBadSObject)
		}
		if uri != NamespaceSObject {
			return "", fmt.Errorf("xsi:type namespace %q is not the sObject namespace: %w", clip(uri), ErrBadSObject)
		}
		if !validName(local) {
			return "", fmt.Errorf("xsi:type %q is not an object name: %w", clip(a.Value), ErrBadSObject)
		}
		return local, nil
	}
	return "", fmt.Errorf("sObject has no xsi:type: %w", ErrBadSObject)
}

// fieldValue returns a field's text, or nil for xsi:nil="true" or no
// text at all.
func fieldValue(e *etree.Element) (*string, error) {
	for _, a := range e.Attr {
		if a.Key != "nil" || a.Space == "" || a.Space == "xmlns" {
			continue
		}
		if uri, ok := lookupNamespace(e, a.Space); ok && uri == NamespaceXSI {
			switch strings.TrimSpace(a.Value) {
			case "true", "1":
				return nil, nil
			}
		}
	}
	return textValue(e)
}

// textValue returns the element's character data, comments skipped, or
// nil if it is empty. Child elements are an error: a value is text.
func textValue(e *etree.Element) (*string, error) {
	var first string
	var more []string
	n := 0
	for _, t := range e.Child {
		switch t := t.(type) {
		case *etree.CharData:
			if n == 0 {
				first = t.Data
			} else {
				more = append(more, t.Data)
			}
			n++
		case *etree.Element:
			return nil, errors.New("has child elements")
		}
	}
	if n > 1 {
		first += strings.Join(more, "")
	}
	if first == "" {
		return nil, nil
	}
	return &first, nil
}

// lookupNamespace resolves a prefix ("" for the default namespace)
// through the declarations in scope at e.
func lookupNamespace(e *etree.Element, prefix string) (string, bool) {
	for ; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if prefix == "" {
				if a.Space == "" && a.Key == "xmlns" {
					return a.Value, true
				}
			} else if a.Space == "xmlns" && a.Key == prefix {
				return a.Value, true
			}
		}
	}
	switch prefix {
	case "":
		return "", true
	case "xml":
		return nsXML, true
	}
	return "", false
}

func inNamespace(e *etree.Element, uri string) bool {
	got, ok := lookupNamespace(e, e.Space)
	return ok && got == uri
}

func is(e *etree.Element, uri, local string) bool {
	return e.Tag == local && inNamespace(e, uri)
}

func childElements(e *etree.Element) []*etree.Element {
	var out []*etree.Element
	for _, t := range e.Child {
		if c, ok := t.(*etree.Element); ok {
			out = append(out, c)
		}
	}
	return out
}

func countTag(e *etree.Element, local string) int {
	n := 0
	for _, t := range e.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == local {
			n++
		}
	}
	return min(n, MaxNotifications)
}

// describe names an element for an error: {namespace}local, clipped.
func describe(e *etree.Element) string {
	uri, ok := lookupNamespace(e, e.Space)
	if !ok {
		return clip(e.Space+":"+e.Tag) + " (undeclared prefix)"
	}
	return "{" + clip(uri) + "}" + clip(e.Tag)
}

// nameSet detects repeated field names: a linear scan of the fields so
// far for ordinary sizes, a map past that so hostile input stays linear.
type nameSet struct{ m map[string]struct{} }

const nameSetLinear = 32

// add records name and reports whether it was already there; fields are
// the fields recorded so far.
func (s *nameSet) add(name string, fields []Field) bool {
	if s.m == nil && len(fields) < nameSetLinear {
		for _, f := range fields {
			if f.Name == name {
				return true
			}
		}
		return false
	}
	if s.m == nil {
		s.m = make(map[string]struct{}, 2*len(fields))
		for _, f := range fields {
			s.m[f.Name] = struct{}{}
		}
	}
	if _, ok := s.m[name]; ok {
		return true
	}
	s.m[name] = struct{}{}
	return false
}

// clip shortens attacker-controlled text quoted in an error.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "..."
}

// validName reports whether s looks like a Salesforce API name: letters,
// digits and underscores, starting with a letter.
func validName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}
