package sftest

import (
	"math"
	"strconv"
	"time"
	"unsafe"
)

// The hand-written JSON writer of query results (SALESFORCE.md 2.2):
// attributes first, keys in SELECT order, +0000 datetimes, compound
// fields as objects or null, related records nested with their own
// attributes. It appends to a byte slice to keep query pages cheap.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Stored strings are valid
// UTF-8 (normalize checks), so only ASCII controls, quote and backslash
// need escaping; eight bytes are checked at a time.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start, i, n := 0, 0, len(s)
	p := unsafe.Pointer(unsafe.StringData(s))
	for i < n {
		for i+8 <= n && !needsEscape8(*(*uint64)(unsafe.Add(p, i))) {
			i += 8
		}
		if i >= n {
			break
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// needsEscape8 reports whether any of the 8 bytes in x is below 0x20, a
// quote or a backslash (bit tricks on the whole word; bytes >= 0x80 never
// match).
func needsEscape8(x uint64) bool {
	q := x ^ (swarLo * '"')
	bs := x ^ (swarLo * '\\')
	return ((x-swarLo*0x20)&^x|(q-swarLo)&^q|(bs-swarLo)&^bs)&swarHi != 0
}

// appendDouble writes a double as Salesforce does: 23.0, 61.217062.
func appendDouble(b []byte, x float64) []byte {
	if x == float64(int64(x)) && x < 1e15 && x > -1e15 {
		if x == 0 && math.Signbit(x) {
			return append(b, "-0.0"...)
		}
		b = strconv.AppendInt(b, int64(x), 10)
		return append(b, '.', '0')
	}
	n := len(b)
	b = strconv.AppendFloat(b, x, 'f', -1, 64)
	for _, c := range b[n:] {
		if c == '.' {
			return b
		}
	}
	return append(b, '.', '0')
}

// jsonWriter renders records of one request.
type jsonWriter struct {
	ec      *evalCtx
	version string // "62.0"
}

func (w *jsonWriter) attributes(b []byte, object, id string) []byte {
	b = append(b, `{"attributes":{"type":`...)
	b = appendString(b, object)
	b = append(b, `,"url":"/services/data/v`...)
	b = append(b, w.version...)
	b = append(b, "/sobjects/"...)
	b = append(b, object...)
	b = append(b, '/')
	b = append(b, id...)
	return append(b, `"}`...)
}

// record appends r (of od) with the selected nodes. Stored values come
// from the record's JSON rendered when it was written (seal), so serving
// a page copies bytes; computed fields are written at the request's time.
func (w *jsonWriter) record(b []byte, od *objectDef, r *record, nodes []*selNode) []byte {
	rv := r.json.Load()
	b = w.attributes(b, od.Name, r.id)
	for _, n := range nodes {
		b = append(b, n.head...)
		if n.ref != nil {
			pr, po, ok := w.ec.parent(od, r, n.ref)
			if !ok {
				b = append(b, "null"...)
				continue
			}
			b = w.record(b, po, pr, n.kids)
			continue
		}
		f := n.leaf
		if f == nil && n.leafName == "Type" { // What.Type: the record's object
			b = appendString(b, od.Name)
			continue
		}
		if f == nil { // polymorphic leaf
			f = od.field(n.leafName)
			if f == nil && n.leafName == "Name" {
				f = nameField(od)
			}
			if f == nil {
				if n.leafName == "Type" {
					b = appendString(b, od.Name)
				} else {
					b = append(b, "null"...)
				}
				continue
			}
		}
		if f.compDefs != nil {
			b = w.compound(b, od, r, f, rv)
			continue
		}
		b = w.field(b, od, r, f, rv)
	}
	return append(b, '}')
}

// field appends the value of f on r, from the record's rendered values rv
// (nil: none yet) when f is stored; base64 depends on the API version and
// is never cached.
func (w *jsonWriter) field(b []byte, od *objectDef, r *record, f *fieldDef, rv *renderedVals) []byte {
	if f.appendJSON != nil {
		return f.appendJSON(b, od, r, w.ec.now)
	}
	if rv != nil && f.idx >= 0 && f.Type != "base64" {
		if f.idx+1 < len(rv.off) {
			return append(b, rv.buf[rv.off[f.idx]:rv.off[f.idx+1]]...)
		}
	}
	return w.value(b, od, r, f, r.get(f, od, w.ec.now))
}

// seal renders the JSON of r's stored values (base64 excepted: its form
// depends on the request's API version) and of od's compound fields, and
// attaches it to r. It is called once per record version, before the
// version is published; records are immutable afterwards, so the bytes
// stay valid.
func (r *record) seal(od *objectDef) {
	size := 0
	for _, v := range r.vals {
		if x, ok := v.(string); ok {
			size += len(x) + len(x)>>4 + 2
		} else {
			size += 24
		}
	}
	size += od.ncomp * 160
	rv := &renderedVals{buf: make([]byte, 0, size), off: make([]int32, 0, len(r.vals)+1),
		coff: make([]int32, 0, od.ncomp+1)}
	w := jsonWriter{ec: &evalCtx{}}
	for _, v := range r.vals {
		rv.off = append(rv.off, int32(len(rv.buf)))
		if _, blob := v.([]byte); blob {
			continue
		}
		rv.buf = w.value(rv.buf, nil, r, nil, v)
	}
	rv.off = append(rv.off, int32(len(rv.buf)))
	for _, f := range od.Fields {
		if f.compDefs != nil {
			rv.coff = append(rv.coff, int32(len(rv.buf)))
			rv.buf = w.compound(rv.buf, od, r, f, rv)
		}
	}
	rv.coff = append(rv.coff, int32(len(rv.buf)))
	r.json.Store(rv)
}

// compound writes a compound field straight from its components: an
// object in key order, or null when every part is empty.
func (w *jsonWriter) compound(b []byte, od *objectDef, r *record, f *fieldDef, rv *renderedVals) []byte {
	if rv != nil && f.cslot+1 < len(rv.coff) {
		return append(b, rv.buf[rv.coff[f.cslot]:rv.coff[f.cslot+1]]...)
	}
	empty := true
	for _, c := range f.compDefs {
		if c != nil && r.get(c, od, w.ec.now) != nil {
			empty = false
			break
		}
	}
	if empty {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, p := range f.components {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, p.key...)
		b = append(b, '"', ':')
		if c := f.compDefs[i]; c != nil {
			b = w.field(b, od, r, c, rv)
		} else {
			b = append(b, "null"...)
		}
	}
	return append(b, '}')
}

// value appends one field value in REST JSON form.
func (w *jsonWriter) value(b []byte, od *objectDef, r *record, f *fieldDef, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case float64:
		return appendDouble(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case bool:
		return strconv.AppendBool(b, x)
	case time.Time:
		b = append(b, '"')
		b = appendDateTime(b, x, false)
		return append(b, '"')
	case []byte:
		// REST gives a base64 field as the URL of the blob (SALESFORCE.md 2.2).
		b = append(b, `"/services/data/v`...)
		b = append(b, w.version...)
		b = append(b, "/sobjects/"...)
		b = append(b, od.Name...)
		b = append(b, '/')
		b = append(b, r.id...)
		b = append(b, '/')
		b = append(b, f.Name...)
		return append(b, '"')
	case *compound:
		b = append(b, '{')
		for i, k := range x.keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = w.value(b, od, r, f, x.vals[i])
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// aggregateValue appends an aggregate result value.
func (w *jsonWriter) aggregateValue(b []byte, f *fieldDef, v any) []byte {
	if _, ok := v.([]byte); ok {
		return append(b, "null"...)
	}
	return w.value(b, nil, nil, f, v)
}
