package metadata

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// mapping says how one Salesforce field type is stored and selected.
type mapping struct {
	col    store.ColumnType
	stored bool // false: the field has no column and is never selected
	bulk   bool // Bulk API 2.0 can select it and its CSV text is faithful
}

// typeMap is the one table from Salesforce field types (SALESFORCE.md 3.2,
// the WSDL fieldType enumeration) to store columns. Decisions:
//
//   - Numbers that Salesforce defines with a precision and scale
//     (currency, double, percent) are Numeric: the JSON text is kept
//     exactly, never rounded through float64. int and long are Integer.
//   - Compound parents (address, location) are not stored: REST returns
//     them as objects that duplicate their component fields (BillingCity,
//     Loc__Latitude__s, ...), which are ordinary fields with columns, and
//     Bulk cannot select them at all. Storing only the components keeps a
//     table identical whichever API filled it.
//   - base64 is not stored: a REST query returns only a URL path to the
//     blob, Bulk cannot select it, and downloading each blob costs one API
//     call per record. A caller that needs blobs fetches them by that path.
//   - multipicklist is Text with Salesforce's ";"-separated values.
//   - anyType, json and complexvalue are JSON columns holding the value as
//     the REST API gives it. They are left out of Bulk queries (CSV would
//     turn every value into text), so an object with such a field is
//     extracted through REST (see BulkCompatible).
//   - A type this table does not know (a future one) becomes a JSON column,
//     REST only, so its values survive whatever their shape.
var typeMap = map[string]mapping{
	"id":                         {store.Text, true, true},
	"string":                     {store.Text, true, true},
	"textarea":                   {store.Text, true, true},
	"picklist":                   {store.Text, true, true},
	"multipicklist":              {store.Text, true, true},
	"combobox":                   {store.Text, true, true},
	"reference":                  {store.Text, true, true},
	"phone":                      {store.Text, true, true},
	"url":                        {store.Text, true, true},
	"email":                      {store.Text, true, true},
	"encryptedstring":            {store.Text, true, true},
	"datacategorygroupreference": {store.Text, true, true},
	"boolean":                    {store.Boolean, true, true},
	"int":                        {store.Integer, true, true},
	"long":                       {store.Integer, true, true},
	"currency":                   {store.Numeric, true, true},
	"double":                     {store.Numeric, true, true},
	"percent":                    {store.Numeric, true, true},
	"date":                       {store.Date, true, true},
	"datetime":                   {store.DateTime, true, true},
	"time":                       {store.Time, true, true},
	"anyType":                    {store.JSON, true, false},
	"json":                       {store.JSON, true, false},
	"complexvalue":               {store.JSON, true, false},
	"base64":                     {store.Blob, false, false},
	"address":                    {store.JSON, false, false},
	"location":                   {store.JSON, false, false},
}

// unknownType is the mapping of a field type typeMap does not list.
var unknownType = mapping{store.JSON, true, false}

func mappingOf(f Field) mapping {
	if m, ok := typeMap[f.Type]; ok {
		return m
	}
	// Types are lower case except anyType; accept any casing.
	for k, m := range typeMap {
		if strings.EqualFold(k, f.Type) {
			return m
		}
	}
	return unknownType
}

// Column maps a field to its store column. It reports false for a field
// that has no column (compound parents and base64; see typeMap).
func Column(f Field) (store.Column, bool) {
	m := mappingOf(f)
	if !m.stored {
		return store.Column{}, false
	}
	c := store.Column{Name: f.Name, Type: m.col}
	if m.col == store.Numeric {
		c.Precision, c.Scale = f.Precision, f.Scale
	}
	return c, true
}

// Table maps an object to its table schema: one column per stored field,
// in describe order, with Id first.
func Table(o *SObject) store.Table {
	t := store.Table{Name: o.Name}
	hasID := false
	for _, f := range o.Fields {
		c, ok := Column(f)
		if !ok {
			continue
		}
		if strings.EqualFold(f.Name, store.FieldID) {
			hasID = true
			t.Columns = append([]store.Column{c}, t.Columns...)
			continue
		}
		t.Columns = append(t.Columns, c)
	}
	if !hasID {
		t.Columns = append([]store.Column{{Name: store.FieldID, Type: store.Text}}, t.Columns...)
	}
	return t
}

// RESTFields lists the fields a REST query of the object selects: every
// field with a column, Id first.
func RESTFields(o *SObject) []string {
	return selectFields(o, func(m mapping) bool { return m.stored })
}

// BulkFields lists the fields a Bulk API 2.0 query selects: the REST
// fields less those Bulk cannot select or render faithfully in CSV.
func BulkFields(o *SObject) []string {
	return selectFields(o, func(m mapping) bool { return m.stored && m.bulk })
}

// BulkCompatible reports whether a Bulk query can fill every column of the
// object's table; when it cannot, extract the object through REST.
func BulkCompatible(o *SObject) bool {
	return len(BulkFields(o)) == len(RESTFields(o))
}

// CalculatedFields lists the stored formula and roll-up fields. Their
// values change without touching SystemModstamp, so the engine re-reads
// them on a schedule.
func CalculatedFields(o *SObject) []string {
	var out []string
	for _, f := range o.Fields {
		if _, ok := Column(f); ok && f.Calculated {
			out = append(out, f.Name)
		}
	}
	return out
}

func selectFields(o *SObject, keep func(mapping) bool) []string {
	out := []string{store.FieldID}
	for _, f := range o.Fields {
		if strings.EqualFold(f.Name, store.FieldID) || !keep(mappingOf(f)) {
			continue
		}
		out = append(out, f.Name)
	}
	return out
}

// Meta is the describe of an object as the store keeps it.
func Meta(o *SObject) store.ObjectMeta {
	m := store.ObjectMeta{Name: o.Name, Label: o.Label, Custom: o.Custom}
	for _, f := range o.Fields {
		fm := store.FieldMeta{
			Name: f.Name, Label: f.Label, Type: f.Type, Custom: f.Custom,
			Length: f.Length, Precision: f.Precision, Scale: f.Scale,
			Nillable: f.Nillable, RelationshipName: f.RelationshipName,
		}
		if len(f.ReferenceTo) > 0 {
			fm.ReferenceTo = append([]string(nil), f.ReferenceTo...)
		}
		for _, p := range f.PicklistValues {
			fm.PicklistValues = append(fm.PicklistValues, p.Value)
		}
		m.Fields = append(m.Fields, fm)
	}
	return m
}

// Changes is the difference between two describes of an object. Added and
// Changed hold the new fields, Removed the old ones, each in describe
// order.
type Changes struct {
	Added   []Field // fields only new has
	Removed []Field // fields only old has
	Changed []Field // fields of both whose describe differs, as in new
}

// Empty reports whether nothing changed.
func (c Changes) Empty() bool {
	return len(c.Added) == 0 && len(c.Removed) == 0 && len(c.Changed) == 0
}

// Compare lists the fields added, removed and changed (any described
// property) from old to new, matching names case-insensitively. A nil old
// means every field of new is added.
func Compare(old, new *SObject) Changes {
	var ch Changes
	var oldFields, newFields []Field
	if old != nil {
		oldFields = old.Fields
	}
	if new != nil {
		newFields = new.Fields
	}
	find := func(fs []Field, name string) (Field, bool) {
		for _, f := range fs {
			if strings.EqualFold(f.Name, name) {
				return f, true
			}
		}
		return Field{}, false
	}
	for _, nf := range newFields {
		of, ok := find(oldFields, nf.Name)
		switch {
		case !ok:
			ch.Added = append(ch.Added, nf)
		case !reflect.DeepEqual(normField(of), normField(nf)):
			ch.Changed = append(ch.Changed, nf)
		}
	}
	for _, of := range oldFields {
		if _, ok := find(newFields, of.Name); !ok {
			ch.Removed = append(ch.Removed, of)
		}
	}
	return ch
}

// normField makes nil and empty slices compare equal.
func normField(f Field) Field {
	if len(f.ReferenceTo) == 0 {
		f.ReferenceTo = nil
	}
	if len(f.PicklistValues) == 0 {
		f.PicklistValues = nil
	}
	return f
}

// Value converts a raw value as the APIs deliver it into the store value
// type of col (see the store package doc): nil stays nil; REST gives
// string, json.Number, bool and map[string]any (compound or complex
// values); Bulk gives string. Numeric values keep their exact digits. An
// error wraps store.ErrBadValue.
func Value(col store.Column, raw any) (any, error) {
	if raw == nil {
		return nil, nil
	}
	v, err := convert(col.Type, raw)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w: %v", col.Name, store.ErrBadValue, err)
	}
	return v, nil
}

func convert(t store.ColumnType, raw any) (any, error) {
	switch t {
	case store.Text:
		return toText(raw)
	case store.Integer:
		return toInteger(raw)
	case store.Numeric:
		s, err := numberText(raw)
		if err != nil {
			return nil, err
		}
		d, err := normDecimal(s)
		return store.Decimal(d), err
	case store.Real:
		return toReal(raw)
	case store.Boolean:
		return toBool(raw)
	case store.Date:
		return toDate(raw)
	case store.DateTime:
		return toDateTime(raw)
	case store.Time:
		return toTime(raw)
	case store.JSON:
		return toJSON(raw)
	case store.Blob:
		return toBlob(raw)
	}
	return nil, fmt.Errorf("unknown column type %q", t)
}

func toText(raw any) (any, error) {
	switch v := raw.(type) {
	case string:
		return v, nil
	case json.Number:
		return string(v), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return nil, fmt.Errorf("%T is not text", raw)
}

// numberText returns the decimal text of a numeric raw value.
func numberText(raw any) (string, error) {
	switch v := raw.(type) {
	case json.Number:
		return string(v), nil
	case string:
		return strings.TrimSpace(v), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", errors.New("not a finite number")
		}
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	}
	return "", fmt.Errorf("%T is not a number", raw)
}

func toInteger(raw any) (any, error) {
	s, err := numberText(raw)
	if err != nil {
		return nil, err
	}
	d, err := normDecimal(s)
	if err != nil {
		return nil, err
	}
	if i := strings.IndexByte(d, '.'); i >= 0 {
		if strings.Trim(d[i+1:], "0") != "" {
			return nil, fmt.Errorf("%q is not an integer", s)
		}
		d = d[:i]
	}
	n, err := strconv.ParseInt(d, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not an integer", s)
	}
	return n, nil
}

func toReal(raw any) (any, error) {
	s, err := numberText(raw)
	if err != nil {
		return nil, err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}

// normDecimal validates s as a decimal number (JSON number syntax, with an
// optional leading + and leading dot tolerated) and returns it in plain
// decimal notation, expanding an exponent exactly.
func normDecimal(s string) (string, error) {
	bad := fmt.Errorf("%q is not a decimal number", s)
	neg := false
	rest := s
	if rest != "" && (rest[0] == '-' || rest[0] == '+') {
		neg = rest[0] == '-'
		rest = rest[1:]
	}
	mant, exp := rest, 0
	if i := strings.IndexAny(rest, "eE"); i >= 0 {
		mant = rest[:i]
		e, err := strconv.Atoi(rest[i+1:])
		if err != nil || e > 400 || e < -400 {
			return "", bad
		}
		exp = e
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
		if frac == "" {
			return "", bad
		}
	}
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return "", bad
	}
	if exp == 0 && intPart != "" && (len(intPart) == 1 || intPart[0] != '0') {
		if neg {
			return "-" + mant, nil
		}
		return mant, nil // already plain
	}
	digits := intPart + frac
	point := len(intPart) + exp // position of the decimal point in digits
	for point < 0 {
		digits = "0" + digits
		point++
	}
	for point > len(digits) {
		digits += "0"
	}
	ip, fp := strings.TrimLeft(digits[:point], "0"), digits[point:]
	if ip == "" {
		ip = "0"
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg {
		out = "-" + out
	}
	return out, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func toBool(raw any) (any, error) {
	switch v := raw.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
	}
	return nil, fmt.Errorf("%v is not a boolean", raw)
}

func toDate(raw any) (any, error) {
	switch v := raw.(type) {
	case time.Time:
		y, m, d := v.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	case string:
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return nil, fmt.Errorf("%q is not a date", v)
		}
		return t, nil
	}
	return nil, fmt.Errorf("%T is not a date", raw)
}

// dateTimeLayouts are the datetime forms of REST (+0000 without a colon,
// SALESFORCE.md 7.6), Bulk and Outbound Messages (Z) and RFC 3339.
var dateTimeLayouts = []string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
}

// ParseDateTime parses a Salesforce datetime in any of its wire forms and
// returns it in UTC with millisecond precision.
func ParseDateTime(s string) (time.Time, error) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a datetime", s)
}

func toDateTime(raw any) (any, error) {
	switch v := raw.(type) {
	case time.Time:
		return v.UTC().Truncate(time.Millisecond), nil
	case string:
		return ParseDateTime(v)
	}
	return nil, fmt.Errorf("%T is not a datetime", raw)
}

var timeLayouts = []string{"15:04:05.000Z07:00", "15:04:05Z07:00", "15:04:05.000", "15:04:05"}

func toTime(raw any) (any, error) {
	s, ok := raw.(string)
	if !ok {
		return nil, fmt.Errorf("%T is not a time", raw)
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Format("15:04:05.000Z"), nil
		}
	}
	return nil, fmt.Errorf("%q is not a time", s)
}

func toJSON(raw any) (any, error) {
	switch v := raw.(type) {
	case json.RawMessage:
		if !json.Valid(v) {
			return nil, errors.New("invalid JSON")
		}
		return v, nil
	case json.Number:
		if _, err := normDecimal(string(v)); err != nil {
			return nil, err
		}
		return json.RawMessage(v), nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}

func toBlob(raw any) (any, error) {
	switch v := raw.(type) {
	case []byte:
		return v, nil
	case string:
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, errors.New("invalid base64")
		}
		return b, nil
	}
	return nil, fmt.Errorf("%T is not binary", raw)
}
