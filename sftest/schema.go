package sftest

import (
	"strings"
	"sync/atomic"
	"time"
)

// fieldDef is one field of an object's schema, with what describe reports
// and how the fake stores or computes its value.
type fieldDef struct {
	Name, Label, Type                string
	Length, Precision, Scale, Digits int
	Nillable, Custom, Calculated     bool
	Formula                          string
	Picklist                         []string
	ReferenceTo                      []string
	RelationshipName                 string
	ChildRelationship                string // name of the child relationship on the parent
	CompoundFieldName                string
	ExtraTypeInfo                    string
	ExternalID, Unique, NameField    bool
	Createable, Updateable           bool
	DefaultedOnCreate, AutoNumber    bool
	Required                         bool // must be given on create

	// idx is the storage slot in record.vals; -1 for computed fields.
	idx int
	// compute derives a computed field (formula, compound, Name).
	compute func(o *objectDef, r *record, now time.Time) any
	// appendJSON, if set, writes a computed field's JSON without boxing
	// its value (the query writer's fast path).
	appendJSON func(b []byte, o *objectDef, r *record, now time.Time) []byte
	// components of a compound field, in Salesforce's key order.
	components []compoundPart
	compDefs   []*fieldDef    // the component fields, resolved when the field is added
	cslot      int            // a compound's index among its object's compounds (renderedVals.coff)
	order      map[string]int // picklist value -> position, for ORDER BY
}

type compoundPart struct {
	key   string // JSON key: city, country, ..., latitude, longitude
	field string // component field name
}

// soapType is the describe soapType of the field.
func (f *fieldDef) soapType() string {
	switch f.Type {
	case "id", "reference":
		return "tns:ID"
	case "boolean":
		return "xsd:boolean"
	case "int":
		return "xsd:int"
	case "double", "currency", "percent":
		return "xsd:double"
	case "date":
		return "xsd:date"
	case "datetime":
		return "xsd:dateTime"
	case "time":
		return "xsd:time"
	case "base64":
		return "xsd:base64Binary"
	case "address":
		return "urn:address"
	case "location":
		return "urn:location"
	case "anyType":
		return "xsd:anyType"
	}
	return "xsd:string"
}

func (f *fieldDef) isString() bool {
	switch f.Type {
	case "string", "picklist", "multipicklist", "combobox", "textarea", "phone",
		"url", "email", "encryptedstring", "id", "reference":
		return true
	}
	return false
}

func (f *fieldDef) isNumber() bool {
	switch f.Type {
	case "int", "double", "currency", "percent":
		return true
	}
	return false
}

func (f *fieldDef) isCompound() bool { return f.Type == "address" || f.Type == "location" }

func (f *fieldDef) isLongText() bool { return f.Type == "textarea" && f.Length > 255 }

// filterable follows SOQL.md 5.1: long text, encrypted, base64 and
// compound fields cannot be filtered.
func (f *fieldDef) filterable() bool {
	return !(f.isLongText() || f.Type == "encryptedstring" || f.Type == "base64" || f.isCompound())
}

// sortable follows SOQL.md 6.
func (f *fieldDef) sortable() bool {
	return !(f.isLongText() || f.Type == "encryptedstring" || f.Type == "base64" ||
		f.isCompound() || f.Type == "multipicklist")
}

func (f *fieldDef) groupable() bool {
	switch f.Type {
	case "double", "currency", "percent", "textarea", "multipicklist", "encryptedstring",
		"base64", "address", "location", "datetime", "time":
		return false
	}
	return !f.Calculated
}

func (f *fieldDef) byteLength() int {
	switch {
	case f.Type == "id" || f.Type == "reference":
		return 18
	case f.isString() || f.Type == "base64":
		return f.Length * 3
	}
	return 0
}

// objectDef is one object's schema and its records.
type objectDef struct {
	Name, Label, LabelPlural, KeyPrefix string
	Custom, Deletable                   bool
	Fields                              []*fieldDef
	byName                              map[string]*fieldDef // lower-case name
	exact                               map[string]*fieldDef // API name as defined
	rels                                map[string]*fieldDef // lower-case relationship name -> reference field
	nslots                              int
	ncomp                               int       // compound fields
	createdDate                         *fieldDef // CreatedDate, for formulas
	lastModified                        time.Time

	records []*record          // ordered by Id
	byID    map[string]*record // by 15-char core
	seq     uint64
}

// field finds a field by API name, case-insensitively; the exact
// spelling is looked up first, which saves lower-casing it.
func (o *objectDef) field(name string) *fieldDef {
	if f := o.exact[name]; f != nil {
		return f
	}
	return o.byName[strings.ToLower(name)]
}

func (o *objectDef) addField(f *fieldDef) {
	finishField(f)
	if f.compute == nil {
		f.idx = o.nslots
		o.nslots++
	} else {
		f.idx = -1
	}
	for _, p := range f.components {
		f.compDefs = append(f.compDefs, o.field(p.field))
	}
	if f.compDefs != nil {
		f.cslot = o.ncomp
		o.ncomp++
	}
	if f.Name == "CreatedDate" {
		o.createdDate = f
	}
	o.Fields = append(o.Fields, f)
	o.byName[strings.ToLower(f.Name)] = f
	if o.exact == nil {
		o.exact = map[string]*fieldDef{}
	}
	o.exact[f.Name] = f
	if f.RelationshipName != "" {
		o.rels[strings.ToLower(f.RelationshipName)] = f
	}
}

// finishField fills the describe defaults that follow from the type.
func finishField(f *fieldDef) {
	if f.Label == "" {
		f.Label = labelOf(f.Name)
	}
	if f.Length == 0 {
		switch f.Type {
		case "string", "picklist", "combobox", "url", "email", "encryptedstring":
			f.Length = 255
		case "phone":
			f.Length = 40
		case "multipicklist":
			f.Length = 4099
		case "textarea":
			f.Length = 32000
		case "id", "reference":
			f.Length = 18
		}
	}
	if (f.Type == "double" || f.Type == "currency" || f.Type == "percent") && f.Precision == 0 {
		f.Precision = 18
	}
	if f.Type == "int" && f.Digits == 0 {
		f.Digits = 9
	}
	if f.compute == nil && f.Type != "id" && !f.AutoNumber {
		f.Createable, f.Updateable = true, true
	}
	if len(f.Picklist) > 0 {
		f.order = make(map[string]int, len(f.Picklist))
		for i, v := range f.Picklist {
			f.order[v] = i
		}
	}
}

// labelOf makes a label from an API name: Tier__c -> Tier.
func labelOf(name string) string {
	name = strings.TrimSuffix(name, "__c")
	name = strings.TrimSuffix(name, "__s")
	if i := strings.Index(name, "__"); i >= 0 {
		name = name[i+2:]
	}
	return strings.ReplaceAll(name, "_", " ")
}

// record is one row; it is immutable once published in objectDef, so a
// query cursor holding it sees a stable snapshot. Mutations replace it.
type record struct {
	id        string
	vals      []any
	deleted   bool
	deletedAt time.Time

	// json is the REST JSON of every stored value, rendered by seal
	// before the record is published; valid for the record's life since
	// records never change.
	json atomic.Pointer[renderedVals]
}

// renderedVals holds the JSON form of a record's stored values: slot i is
// buf[off[i]:off[i+1]]; compound field k (fieldDef.cslot) is
// buf[coff[k]:coff[k+1]].
type renderedVals struct {
	buf  []byte
	off  []int32
	coff []int32
}

func (r *record) get(f *fieldDef, o *objectDef, now time.Time) any {
	if f.compute != nil {
		return f.compute(o, r, now)
	}
	if f.idx < len(r.vals) {
		return r.vals[f.idx]
	}
	return nil
}

// Field describes a custom field added at run time with Org.AddField.
// Type is one of the describe types of SALESFORCE.md 3.2 that a custom
// field can have: string, picklist, multipicklist, textarea, boolean,
// currency, int, double, percent, phone, date, datetime, time, url, email,
// encryptedstring, reference, base64. Length 0 takes the type's default;
// Precision and Scale apply to number types; ReferenceTo and
// RelationshipName to references.
type Field struct {
	// Name is the API name; it must end in __c.
	Name string
	// Label is describe's label; "" derives it from Name.
	Label string
	// Type is the describe type (see above).
	Type string
	// Length is the text length; 0 takes the type's default.
	Length int
	// Precision and Scale are the digits of a number type.
	Precision int
	Scale     int // digits after the decimal point
	// Nillable is describe's nillable (every type but boolean is
	// nillable regardless).
	Nillable bool
	// PicklistValues are a picklist's values, in order; required for
	// picklist and multipicklist.
	PicklistValues []string
	// ReferenceTo names the objects a reference points to; required for
	// reference.
	ReferenceTo []string
	// RelationshipName is a reference's relationship; "" means Name with
	// __c replaced by __r.
	RelationshipName string
}

var addressParts = []string{"city", "country", "geocodeAccuracy", "latitude", "longitude", "postalCode", "state", "street"}

// addressFields returns the components and the compound address field
// for prefix ("Billing", "Mailing", "" for Lead's Address), in describe
// order (SALESFORCE.md 2.2).
func addressFields(prefix string) []*fieldDef {
	comp := prefix + "Address"
	if prefix == "" {
		comp = "Address"
	}
	mk := func(n, t string, l int) *fieldDef {
		return &fieldDef{Name: prefix + n, Type: t, Length: l, Nillable: true, CompoundFieldName: comp}
	}
	street := mk("Street", "textarea", 255)
	lat := mk("Latitude", "double", 0)
	lat.Precision, lat.Scale = 18, 15
	lon := mk("Longitude", "double", 0)
	lon.Precision, lon.Scale = 18, 15
	acc := mk("GeocodeAccuracy", "picklist", 40)
	acc.Picklist = []string{"Address", "NearAddress", "Block", "Street", "ExtendedZip", "Zip", "Neighborhood", "City", "County", "State", "Unknown"}
	fields := []*fieldDef{street, mk("City", "string", 40), mk("State", "string", 80),
		mk("PostalCode", "string", 20), mk("Country", "string", 80), lat, lon, acc}
	parts := make([]compoundPart, 0, 8)
	for _, k := range addressParts {
		n := strings.ToUpper(k[:1]) + k[1:]
		parts = append(parts, compoundPart{key: k, field: prefix + n})
	}
	addr := &fieldDef{Name: comp, Type: "address", Nillable: true, components: parts}
	addr.compute = compoundOf(addr)
	return append(fields, addr)
}

// locationFields returns a geolocation compound Name (ending in __c) and
// its __Latitude__s/__Longitude__s components.
func locationFields(name string) []*fieldDef {
	base := strings.TrimSuffix(name, "__c")
	lat := &fieldDef{Name: base + "__Latitude__s", Type: "double", Precision: 18, Scale: 15, Nillable: true, Custom: true, CompoundFieldName: name}
	lon := &fieldDef{Name: base + "__Longitude__s", Type: "double", Precision: 18, Scale: 15, Nillable: true, Custom: true, CompoundFieldName: name}
	loc := &fieldDef{Name: name, Type: "location", Nillable: true, Custom: true,
		components: []compoundPart{{"latitude", lat.Name}, {"longitude", lon.Name}}}
	loc.compute = compoundOf(loc)
	return []*fieldDef{lat, lon, loc}
}

// compound is the value of a compound field: its parts in key order.
type compound struct {
	keys []string
	vals []any
}

// compoundOf returns the compute function of compound field f: the value
// is nil when every part is empty (SALESFORCE.md 7.7).
func compoundOf(f *fieldDef) func(o *objectDef, r *record, now time.Time) any {
	return func(o *objectDef, r *record, now time.Time) any {
		c := &compound{keys: make([]string, len(f.components)), vals: make([]any, len(f.components))}
		any := false
		for i, p := range f.components {
			c.keys[i] = p.key
			if pf := f.compDefs[i]; pf != nil {
				c.vals[i] = r.get(pf, o, now)
				if c.vals[i] != nil {
					any = true
				}
			}
		}
		if !any {
			return nil
		}
		return c
	}
}

func (c *compound) asMap() map[string]any {
	m := make(map[string]any, len(c.keys))
	for i, k := range c.keys {
		m[k] = c.vals[i]
	}
	return m
}
