package sftest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Errors returned by the Org's mutations; test with errors.Is.
var (
	ErrUnknownObject = errors.New("sftest: unknown object")
	ErrUnknownField  = errors.New("sftest: unknown field")
	ErrNotFound      = errors.New("sftest: record not found")
	ErrInvalidValue  = errors.New("sftest: invalid field value")
	ErrNotAllowed    = errors.New("sftest: operation not allowed")
)

// DefaultStart is the fake clock's initial time when Options.Start is zero.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Org is the fake org's data: schema, records, recycle bin and clock. It
// is safe for concurrent use. Values are Go values as listed in the
// package documentation: string (text, id, picklist, date "2006-01-02",
// time "15:04:05.000Z"), float64 (double, currency, percent), int64
// (int), bool, time.Time (datetime, UTC), []byte (base64) and nil.
// Compound fields (addresses, geolocations) are derived from their
// components and read as map[string]any, or nil when every part is empty.
type Org struct {
	mu       sync.RWMutex
	id       string
	userID   string
	now      time.Time
	objects  []*objectDef
	byName   map[string]*objectDef
	byPrefix map[string]*objectDef
	seed     int64
	autoNum  uint64

	// deletes is the delete log per object (id -> deletedDate) behind
	// getDeleted; purged is when the recycle bin was last emptied.
	deletes map[string]map[string]time.Time
	purged  map[string]time.Time

	hookMu sync.Mutex
	hooks  []func(object, id string)
}

func newOrg(seed int64, start time.Time) *Org {
	o := &Org{now: start.UTC().Truncate(time.Millisecond), byName: map[string]*objectDef{},
		byPrefix: map[string]*objectDef{}, seed: seed, deletes: map[string]map[string]time.Time{},
		purged: map[string]time.Time{}, autoNum: 1000}
	o.id = makeID("00D", 1_000_000_000+uint64(seed)%1_000_000*7919)
	for _, od := range standardSchema() {
		od.lastModified = o.now
		// Start each object's counter deep enough that IDs mix upper- and
		// lower-case letters, which exercises the checksum suffix.
		od.seq = 3_000_000_000 + uint64(seed)%1000*1_000_003
		o.objects = append(o.objects, od)
		o.byName[strings.ToLower(od.Name)] = od
		o.byPrefix[od.KeyPrefix] = od
		o.deletes[od.Name] = map[string]time.Time{}
	}
	uid, err := o.Create("User", map[string]any{
		"Username": "admin@sftest.example", "LastName": "Admin", "FirstName": "Ada",
		"Email": "admin@sftest.example", "Alias": "aadmin", "TimeZoneSidKey": "America/Los_Angeles",
		"UserType": "Standard", "CompanyName": "sftest", "Title": "System Administrator",
	})
	if err != nil {
		panic(err)
	}
	o.userID = uid
	return o
}

// ID returns the 18-character org ID.
func (o *Org) ID() string { return o.id }

// UserID returns the 18-character ID of the org's admin user, the user
// every session acts as and the default owner of new records.
func (o *Org) UserID() string { return o.userID }

// Now returns the fake clock's time.
func (o *Org) Now() time.Time {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.now
}

// SetNow sets the fake clock (truncated to milliseconds, as Salesforce
// stores times).
func (o *Org) SetNow(t time.Time) {
	o.mu.Lock()
	o.now = t.UTC().Truncate(time.Millisecond)
	o.mu.Unlock()
}

// Advance moves the fake clock forward by d.
func (o *Org) Advance(d time.Duration) {
	o.mu.Lock()
	o.now = o.now.Add(d).Truncate(time.Millisecond)
	o.mu.Unlock()
}

// Objects returns the names of the org's objects.
func (o *Org) Objects() []string {
	o.mu.RLock()
	defer o.mu.RUnlock()
	names := make([]string, len(o.objects))
	for i, od := range o.objects {
		names[i] = od.Name
	}
	return names
}

func (o *Org) object(name string) (*objectDef, error) {
	od := o.byName[strings.ToLower(name)]
	if od == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnknownObject, name)
	}
	return od, nil
}

// objectOfID finds the object of an ID by its key prefix.
func (o *Org) objectOfID(id string) *objectDef {
	if len(id) < 3 {
		return nil
	}
	return o.byPrefix[id[:3]]
}

// lookup returns the record with id (15 or 18 chars) in od, or nil.
func (od *objectDef) lookup(id string) *record {
	if len(id) < 15 {
		return nil
	}
	return od.byID[id[:15]]
}

// onChange registers f to run after every Create and Update, outside the
// Org's lock.
func (o *Org) onChange(f func(object, id string)) {
	o.hookMu.Lock()
	o.hooks = append(o.hooks, f)
	o.hookMu.Unlock()
}

func (o *Org) fire(object, id string) {
	o.hookMu.Lock()
	hooks := slices.Clone(o.hooks)
	o.hookMu.Unlock()
	for _, h := range hooks {
		h(object, id)
	}
}

// readOnly names the system fields that neither Create nor Update may set.
var readOnly = map[string]bool{"id": true, "isdeleted": true, "createddate": true, "createdbyid": true,
	"lastmodifieddate": true, "lastmodifiedbyid": true, "systemmodstamp": true}

// Create inserts a record and returns its 18-character ID. CreatedDate,
// LastModifiedDate and SystemModstamp are the fake clock's time; OwnerId
// defaults to the admin user.
func (o *Org) Create(object string, fields map[string]any) (string, error) {
	o.mu.Lock()
	od, err := o.object(object)
	if err != nil {
		o.mu.Unlock()
		return "", fmt.Errorf("create: %w", err)
	}
	r := &record{vals: make([]any, od.nslots)}
	if err := o.setFields(od, r, fields); err != nil {
		o.mu.Unlock()
		return "", fmt.Errorf("create %s: %w", od.Name, err)
	}
	for _, f := range od.Fields {
		if f.idx < 0 {
			continue
		}
		switch {
		case f.Type == "boolean" && r.vals[f.idx] == nil:
			r.vals[f.idx] = f.Name == "IsActive"
		case f.Name == "OwnerId" && r.vals[f.idx] == nil:
			r.vals[f.idx] = o.userID
		case f.AutoNumber:
			o.autoNum++
			r.vals[f.idx] = fmt.Sprintf("%08d", o.autoNum)
		case f.Required && r.vals[f.idx] == nil:
			o.mu.Unlock()
			return "", fmt.Errorf("create %s: %w: required field %s missing", od.Name, ErrInvalidValue, f.Name)
		}
	}
	od.seq++
	r.id = makeID(od.KeyPrefix, od.seq)
	by := o.userID
	if by == "" { // the admin user creates itself
		by = r.id
	}
	o.stamp(od, r, true, by)
	r.seal(od)
	od.records = append(od.records, r)
	od.byID[r.id[:15]] = r
	o.mu.Unlock()
	o.fire(od.Name, r.id)
	return r.id, nil
}

// stamp sets the audit fields of r to the clock's time.
func (o *Org) stamp(od *objectDef, r *record, create bool, by string) {
	set := func(name string, v any) {
		if f := od.field(name); f != nil && f.idx >= 0 {
			r.vals[f.idx] = v
		}
	}
	if create {
		set("CreatedDate", o.now)
		set("CreatedById", by)
	}
	set("LastModifiedDate", o.now)
	set("LastModifiedById", by)
	set("SystemModstamp", o.now)
}

func (o *Org) setFields(od *objectDef, r *record, fields map[string]any) error {
	for name, v := range fields {
		f := od.field(name)
		if f == nil {
			return fmt.Errorf("%w: %s.%s", ErrUnknownField, od.Name, name)
		}
		if readOnly[strings.ToLower(f.Name)] || f.compute != nil || f.AutoNumber {
			return fmt.Errorf("%w: %s.%s is not writeable", ErrInvalidValue, od.Name, f.Name)
		}
		nv, err := normalize(f, v)
		if err != nil {
			return err
		}
		if nv == nil && f.Required {
			return fmt.Errorf("%w: required field %s is null", ErrInvalidValue, f.Name)
		}
		if nv != nil && f.Type == "reference" {
			target := o.objectOfID(nv.(string))
			if target == nil || !slices.Contains(f.ReferenceTo, target.Name) {
				return fmt.Errorf("%w: %s: id %s is not of type %s", ErrInvalidValue, f.Name, nv, strings.Join(f.ReferenceTo, ", "))
			}
		}
		r.vals[f.idx] = nv
	}
	return nil
}

// normalize converts a Go value to the stored form of f's type.
func normalize(f *fieldDef, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func() (any, error) {
		return nil, fmt.Errorf("%w: %s (%s) cannot hold %T %v", ErrInvalidValue, f.Name, f.Type, v, v)
	}
	switch f.Type {
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return bad()
	case "int":
		switch n := v.(type) {
		case int:
			return int64(n), nil
		case int64:
			return n, nil
		case int32:
			return int64(n), nil
		case float64:
			if n == math.Trunc(n) {
				return int64(n), nil
			}
		}
		return bad()
	case "double", "currency", "percent":
		switch n := v.(type) {
		case float64:
			if math.IsNaN(n) || math.IsInf(n, 0) {
				return bad()
			}
			return n, nil
		case float32:
			return float64(n), nil
		case int:
			return float64(n), nil
		case int64:
			return float64(n), nil
		}
		return bad()
	case "date":
		switch d := v.(type) {
		case time.Time:
			return d.Format("2006-01-02"), nil
		case string:
			if _, err := time.Parse("2006-01-02", d); err == nil {
				return d, nil
			}
		}
		return bad()
	case "datetime":
		switch d := v.(type) {
		case time.Time:
			return d.UTC().Truncate(time.Millisecond), nil
		case string:
			if t, err := time.Parse(time.RFC3339Nano, d); err == nil {
				return t.UTC().Truncate(time.Millisecond), nil
			}
		}
		return bad()
	case "time":
		switch d := v.(type) {
		case time.Time:
			return d.UTC().Format("15:04:05.000Z"), nil
		case string:
			if _, err := time.Parse("15:04:05.000Z", d); err == nil {
				return d, nil
			}
		}
		return bad()
	case "base64":
		switch b := v.(type) {
		case []byte:
			return slices.Clone(b), nil
		case string:
			return []byte(b), nil
		}
		return bad()
	case "reference", "id":
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		id, ok := To18(s)
		if !ok {
			return bad()
		}
		return id, nil
	}
	s, ok := v.(string)
	if !ok {
		return bad()
	}
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("%w: %s: text is not valid UTF-8", ErrInvalidValue, f.Name)
	}
	if f.Length > 0 && utf8.RuneCountInString(s) > f.Length {
		return nil, fmt.Errorf("%w: %s: data value too large (max length=%d)", ErrInvalidValue, f.Name, f.Length)
	}
	if s == "" {
		return nil, nil // Salesforce stores empty text as null
	}
	return s, nil
}

// Update sets fields of a live record; LastModifiedDate and
// SystemModstamp become the clock's time.
func (o *Org) Update(object, id string, fields map[string]any) error {
	o.mu.Lock()
	od, r, err := o.find(object, id)
	if err == nil && r.deleted {
		err = fmt.Errorf("%w: %s is in the recycle bin", ErrNotFound, id)
	}
	if err != nil {
		o.mu.Unlock()
		return fmt.Errorf("update: %w", err)
	}
	nr := r.clone(od)
	if err := o.setFields(od, nr, fields); err != nil {
		o.mu.Unlock()
		return fmt.Errorf("update %s: %w", od.Name, err)
	}
	o.stamp(od, nr, false, o.userID)
	nr.seal(od)
	od.replace(nr)
	o.mu.Unlock()
	o.fire(od.Name, nr.id)
	return nil
}

func (o *Org) find(object, id string) (*objectDef, *record, error) {
	od, err := o.object(object)
	if err != nil {
		return nil, nil, err
	}
	r := od.lookup(id)
	if r == nil {
		return nil, nil, fmt.Errorf("%w: %s %s", ErrNotFound, od.Name, id)
	}
	return od, r, nil
}

func (r *record) clone(od *objectDef) *record {
	vals := make([]any, od.nslots)
	copy(vals, r.vals)
	return &record{id: r.id, vals: vals, deleted: r.deleted, deletedAt: r.deletedAt}
}

// replace swaps in the new version of a record (same Id).
func (od *objectDef) replace(nr *record) {
	i := od.index(nr.id)
	od.records[i] = nr
	od.byID[nr.id[:15]] = nr
}

// index is the position of id in od.records (which is ordered by Id).
func (od *objectDef) index(id string) int {
	core := id[:15]
	return sort.Search(len(od.records), func(i int) bool { return od.records[i].id[:15] >= core })
}

// Delete moves a record to the recycle bin: IsDeleted becomes true, the
// record is visible to queryAll only, and getDeleted reports it.
func (o *Org) Delete(object, id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	od, r, err := o.find(object, id)
	if err == nil && !od.Deletable {
		err = fmt.Errorf("%w: %s records cannot be deleted", ErrNotAllowed, od.Name)
	}
	if err == nil && r.deleted {
		err = fmt.Errorf("%w: %s is already deleted", ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	nr := r.clone(od)
	nr.deleted, nr.deletedAt = true, o.now
	o.stamp(od, nr, false, o.userID)
	nr.seal(od)
	od.replace(nr)
	o.deletes[od.Name][nr.id] = o.now
	return nil
}

// Undelete restores a record from the recycle bin.
func (o *Org) Undelete(object, id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	od, r, err := o.find(object, id)
	if err == nil && !r.deleted {
		err = fmt.Errorf("%w: %s is not deleted", ErrNotAllowed, id)
	}
	if err != nil {
		return fmt.Errorf("undelete: %w", err)
	}
	nr := r.clone(od)
	nr.deleted, nr.deletedAt = false, time.Time{}
	o.stamp(od, nr, false, o.userID)
	nr.seal(od)
	od.replace(nr)
	delete(o.deletes[od.Name], nr.id)
	return nil
}

// HardDelete removes a record for good, from the recycle bin or live,
// so that not even queryAll sees it. getDeleted still reports it until
// PurgeRecycleBin empties the delete log.
func (o *Org) HardDelete(object, id string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	od, r, err := o.find(object, id)
	if err == nil && !od.Deletable {
		err = fmt.Errorf("%w: %s records cannot be deleted", ErrNotAllowed, od.Name)
	}
	if err != nil {
		return fmt.Errorf("hard delete: %w", err)
	}
	o.remove(od, r)
	return nil
}

func (o *Org) remove(od *objectDef, r *record) {
	i := od.index(r.id)
	od.records = slices.Delete(od.records, i, i+1)
	delete(od.byID, r.id[:15])
	if _, ok := o.deletes[od.Name][r.id]; !ok {
		o.deletes[od.Name][r.id] = o.now
	}
}

// PurgeRecycleBin hard-deletes every record in the recycle bin and empties
// the delete log, as emptying the Recycle Bin does: getDeleted's
// earliestDateAvailable becomes now (SALESFORCE.md 2.5).
func (o *Org) PurgeRecycleBin() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, od := range o.objects {
		kept := od.records[:0:0]
		for _, r := range od.records {
			if r.deleted {
				delete(od.byID, r.id[:15])
				continue
			}
			kept = append(kept, r)
		}
		od.records = kept
		o.deletes[od.Name] = map[string]time.Time{}
		o.purged[od.Name] = o.now
	}
}

// Get returns every field of a record (recycle-bin records too), with
// formula and compound values computed at the clock's time.
func (o *Org) Get(object, id string) (map[string]any, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	od, r, err := o.find(object, id)
	if err != nil {
		return nil, false
	}
	return o.recordMap(od, r), true
}

func (o *Org) recordMap(od *objectDef, r *record) map[string]any {
	m := make(map[string]any, len(od.Fields))
	for _, f := range od.Fields {
		v := r.get(f, od, o.now)
		if c, ok := v.(*compound); ok {
			v = c.asMap()
		}
		if b, ok := v.([]byte); ok {
			v = slices.Clone(b)
		}
		m[f.Name] = v
	}
	return m
}

// Records returns every record of object ordered by Id; includeDeleted
// adds the recycle bin. An unknown object gives nil.
func (o *Org) Records(object string, includeDeleted bool) []map[string]any {
	o.mu.RLock()
	defer o.mu.RUnlock()
	od, err := o.object(object)
	if err != nil {
		return nil
	}
	var out []map[string]any
	for _, r := range od.records {
		if r.deleted && !includeDeleted {
			continue
		}
		out = append(out, o.recordMap(od, r))
	}
	return out
}

// Count returns the number of records of object; includeDeleted counts the
// recycle bin too.
func (o *Org) Count(object string, includeDeleted bool) int {
	o.mu.RLock()
	defer o.mu.RUnlock()
	od, err := o.object(object)
	if err != nil {
		return 0
	}
	n := 0
	for _, r := range od.records {
		if !r.deleted || includeDeleted {
			n++
		}
	}
	return n
}

// customTypes are the field types AddField accepts.
var customTypes = map[string]bool{"string": true, "picklist": true, "multipicklist": true, "textarea": true,
	"boolean": true, "currency": true, "int": true, "double": true, "percent": true, "phone": true, "date": true,
	"datetime": true, "time": true, "url": true, "email": true, "encryptedstring": true, "reference": true,
	"base64": true}

// AddField adds a custom field to object, as an admin does in Setup:
// describe lists it and its Last-Modified becomes the clock's time.
// Existing records hold null in it.
func (o *Org) AddField(object string, f Field) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	od, err := o.object(object)
	if err != nil {
		return fmt.Errorf("add field: %w", err)
	}
	switch {
	case !strings.HasSuffix(f.Name, "__c") || !validName(strings.TrimSuffix(f.Name, "__c")):
		err = fmt.Errorf("%w: custom field name %q must be an API name ending in __c", ErrInvalidValue, f.Name)
	case od.field(f.Name) != nil:
		err = fmt.Errorf("%w: %s.%s already exists", ErrInvalidValue, od.Name, f.Name)
	case !customTypes[f.Type]:
		err = fmt.Errorf("%w: unsupported custom field type %q", ErrInvalidValue, f.Type)
	case (f.Type == "picklist" || f.Type == "multipicklist") && len(f.PicklistValues) == 0:
		err = fmt.Errorf("%w: picklist field %s needs PicklistValues", ErrInvalidValue, f.Name)
	case f.Type == "reference" && len(f.ReferenceTo) == 0:
		err = fmt.Errorf("%w: reference field %s needs ReferenceTo", ErrInvalidValue, f.Name)
	}
	for _, t := range f.ReferenceTo {
		if err == nil && o.byName[strings.ToLower(t)] == nil {
			err = fmt.Errorf("%w: reference target %s", ErrUnknownObject, t)
		}
	}
	if err != nil {
		return fmt.Errorf("add field: %w", err)
	}
	fd := &fieldDef{Name: f.Name, Label: f.Label, Type: f.Type, Length: f.Length, Precision: f.Precision,
		Scale: f.Scale, Nillable: f.Nillable || f.Type != "boolean", Custom: true,
		Picklist: slices.Clone(f.PicklistValues), ReferenceTo: slices.Clone(f.ReferenceTo), RelationshipName: f.RelationshipName}
	if fd.Type == "reference" && fd.RelationshipName == "" {
		fd.RelationshipName = strings.TrimSuffix(f.Name, "__c") + "__r"
	}
	if fd.Type == "boolean" {
		fd.DefaultedOnCreate = true
	}
	od.addField(fd)
	if fd.Type == "boolean" { // existing records read false, not null
		for i, r := range od.records {
			nr := r.clone(od)
			nr.vals[fd.idx] = false
			nr.seal(od)
			od.records[i] = nr
			od.byID[nr.id[:15]] = nr
		}
	}
	od.lastModified = o.now
	return nil
}

func validName(s string) bool {
	if s == "" || !(s[0] >= 'A' && s[0] <= 'Z' || s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_') {
			return false
		}
	}
	return !strings.HasSuffix(s, "_") && !strings.Contains(s, "___")
}
