package soql

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Record is one row of a query result. Values keep their JSON types:
// nil (null), string (text, ids, dates, datetimes, picklists), json.Number
// (numbers, with their exact digits), bool, *Record (a parent
// relationship such as Owner), *Subquery (a child relationship),
// map[string]any (compound fields such as BillingAddress, and other
// objects without attributes) and []any. Records from BulkExtract hold
// only string and nil values. A Record is not modified after it is
// yielded and is safe to read from several goroutines.
//
// Salesforce reference (the record shape): https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
type Record struct {
	typ, url string
	fields   []Field
	raw      string // JSON text of the record as received; "" when built
}

// Field is one field of a Record.
type Field struct {
	Name  string // the API name as Salesforce sent it
	Value any    // see Record for the types
}

// Subquery is the value of a parent-to-child relationship in a record,
// such as Contacts in SELECT Name, (SELECT LastName FROM Contacts) FROM
// Account. Salesforce sends null instead of an empty one. A large result
// comes in batches: when Done is false, the remaining children are at
// NextRecordsURL. Records yielded by Cursor.Records (and so by Extract)
// always hold complete results, the further batches fetched; only
// DecodePage leaves them as received.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_relationships_query_using.htm
type Subquery struct {
	TotalSize      int       // the number of children
	Done           bool      // false while batches remain at NextRecordsURL
	NextRecordsURL string    // the path of the next batch; "" when done
	Records        []*Record // the child records received
}

// NewRecord makes a Record from fields, as a test or another source may
// need; typ is the object name.
func NewRecord(typ string, fields []Field) *Record {
	return &Record{typ: typ, fields: fields}
}

// Type returns the object type from attributes.type ("Account"), or ""
// when the record had none.
func (r *Record) Type() string { return r.typ }

// URL returns attributes.url, the record's REST path; "" for aggregate
// results and Bulk rows.
func (r *Record) URL() string { return r.url }

// ID returns the Id field, else the last segment of attributes.url.
func (r *Record) ID() string {
	if v, ok := r.Get("Id"); ok {
		if s, ok := v.(string); ok {
			return s
		}
	}
	if i := strings.LastIndexByte(r.url, '/'); i >= 0 {
		return r.url[i+1:]
	}
	return ""
}

// Get returns the value of a field by API name, matched exactly first and
// then case-insensitively. A dotted path (Account.Owner.Name) follows
// parent records, or names a Bulk CSV column of that path. It reports false when the field is absent; a present
// null gives (nil, true).
func (r *Record) Get(name string) (any, bool) {
	if r == nil {
		return nil, false
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		// Bulk CSV names a parent's field by its whole path.
		if v, ok := r.get(name); ok {
			return v, true
		}
		v, ok := r.get(name[:i])
		if !ok {
			return nil, false
		}
		p, isRec := v.(*Record)
		if !isRec {
			return nil, v == nil // a null parent: the path is null
		}
		return p.Get(name[i+1:])
	}
	return r.get(name)
}

func (r *Record) get(name string) (any, bool) {
	for i := range r.fields {
		if r.fields[i].Name == name {
			return r.fields[i].Value, true
		}
	}
	for i := range r.fields {
		if strings.EqualFold(r.fields[i].Name, name) {
			return r.fields[i].Value, true
		}
	}
	return nil, false
}

// String returns a field's value when it is a string.
func (r *Record) String(name string) (string, bool) {
	v, _ := r.Get(name)
	s, ok := v.(string)
	return s, ok
}

// Time parses a date or datetime field: "2011-07-07T00:37:00.000+0000"
// (REST), "...Z" (Bulk) or "2010-01-01". It reports false for an absent or
// null field.
func (r *Record) Time(name string) (time.Time, bool, error) {
	s, ok := r.String(name)
	if !ok {
		return time.Time{}, false, nil
	}
	t, err := ParseTime(s)
	return t, err == nil, err
}

// Fields returns the fields in the order Salesforce sent them (the SELECT
// order), without attributes. The slice must not be modified.
func (r *Record) Fields() []Field { return r.fields }

// Len returns the number of fields.
func (r *Record) Len() int { return len(r.fields) }

// Raw returns the record's JSON as received (attributes included). For a
// record built from CSV, merged from a split query or completed with
// further batches of a child relationship, it is generated from the
// fields.
func (r *Record) Raw() json.RawMessage {
	if r.raw != "" {
		return json.RawMessage(r.raw)
	}
	return r.appendJSON(nil)
}

func (r *Record) appendJSON(b []byte) []byte {
	if r.raw != "" {
		return append(b, r.raw...)
	}
	b = append(b, '{')
	n := 0
	if r.typ != "" || r.url != "" {
		b = append(b, `"attributes":{"type":`...)
		b = strconv.AppendQuote(b, r.typ)
		if r.url != "" {
			b = append(b, `,"url":`...)
			b = strconv.AppendQuote(b, r.url)
		}
		b = append(b, '}')
		n++
	}
	for _, f := range r.fields {
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendJSONString(b, f.Name)
		b = append(b, ':')
		b = appendJSONValue(b, f.Value)
	}
	return append(b, '}')
}

func appendJSONValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, v)
	case json.Number:
		return append(b, v...)
	case bool:
		return strconv.AppendBool(b, v)
	case *Record:
		return v.appendJSON(b)
	case *Subquery:
		b = append(b, `{"totalSize":`...)
		b = strconv.AppendInt(b, int64(v.TotalSize), 10)
		b = append(b, `,"done":`...)
		b = strconv.AppendBool(b, v.Done)
		if v.NextRecordsURL != "" {
			b = append(b, `,"nextRecordsUrl":`...)
			b = appendJSONString(b, v.NextRecordsURL)
		}
		b = append(b, `,"records":[`...)
		for i, r := range v.Records {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.appendJSON(b)
		}
		return append(b, "]}"...)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

func appendJSONString(b []byte, s string) []byte {
	j, _ := json.Marshal(s)
	return append(b, j...)
}

// timeLayouts are Salesforce's datetime forms: REST's +0000 without a
// colon (SALESFORCE.md 7.6), Bulk's and Outbound Messages' Z, and dates.
var timeLayouts = []string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
	"2006-01-02",
}

// ParseTime parses a Salesforce date or datetime value into UTC.
func ParseTime(s string) (time.Time, error) {
	var err error
	for _, l := range timeLayouts {
		var t time.Time
		if t, err = time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

// MarshalJSON encodes the record as Raw does, so that encoding/json (and
// metadata.Value for a JSON column) renders a nested record faithfully.
func (r *Record) MarshalJSON() ([]byte, error) { return r.Raw(), nil }

// MarshalJSON encodes the child relationship result in Salesforce's shape.
func (sq *Subquery) MarshalJSON() ([]byte, error) { return appendJSONValue(nil, sq), nil }
