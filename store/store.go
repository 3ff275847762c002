// Package store defines what sfsync persists and the interface every
// storage backend implements: connections (with sealed token material),
// one table per Salesforce object, sync state, sync jobs, outbound
// receipts and the describe metadata of synced objects.
//
// The package imports nothing else of this module and knows nothing of
// Salesforce's HTTP APIs. Backends live in subpackages (store/sqlite,
// store/postgres, store/memory) and all pass the conformance suite in
// store/storetest.
//
// # Values
//
// A Row's Values hold Go values of the column's type:
//
//	Text      string
//	Integer   int64
//	Numeric   Decimal (exact decimal text, such as "1234.50")
//	Real      float64
//	Boolean   bool
//	Date      time.Time (midnight UTC)
//	DateTime  time.Time (stored as UTC with millisecond precision)
//	Time      string in the form "15:04:05.000Z"
//	JSON      json.RawMessage
//	Blob      []byte
//
// and nil for NULL. A key that is absent from Values leaves that column
// as it is; a key present with nil sets it to NULL.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// System columns that every object table has besides its field columns.
const (
	ColOrgID    = "_org_id"     // the 18-character org ID; with Id, the primary key
	ColSyncedAt = "_synced_at"  // local time the row was last written
	ColDeleted  = "_deleted_at" // when the row was seen deleted; NULL while it exists
)

// Salesforce field names the Store interprets.
const (
	FieldID               = "Id"
	FieldSystemModstamp   = "SystemModstamp"
	FieldLastModifiedDate = "LastModifiedDate"
	FieldIsDeleted        = "IsDeleted"
)

// ColumnType is the storage type of a column.
type ColumnType string

// The column types. A backend maps each to its nearest native type.
const (
	Text     ColumnType = "text"
	Integer  ColumnType = "integer"
	Numeric  ColumnType = "numeric" // exact decimal; see Column.Precision and Column.Scale
	Real     ColumnType = "real"
	Boolean  ColumnType = "boolean"
	Date     ColumnType = "date"
	DateTime ColumnType = "datetime"
	Time     ColumnType = "time"
	JSON     ColumnType = "json"
	Blob     ColumnType = "blob"
)

// Decimal is an exact decimal number in its text form, such as "-12.50".
// It is the value type of a Numeric column.
type Decimal string

// Column is one column of an object table.
type Column struct {
	Name string     // the Salesforce field API name, such as "Amount__c"
	Type ColumnType // the storage type
	// Precision and Scale describe a Numeric column (total and fractional
	// digits); zero means unbounded.
	Precision, Scale int
}

// Table is the schema of one object table. Name is the object's API name.
// Columns lists the field columns; the system columns (ColOrgID,
// ColSyncedAt, ColDeleted) are implied. Every table has an "Id" column.
type Table struct {
	Name    string
	Columns []Column
}

// Column returns the column with the given name, matched case-insensitively
// as Salesforce matches API names.
func (t Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if equalFold(c.Name, name) {
			return c, true
		}
	}
	return Column{}, false
}

// Row is one record of an object. ID is the 18-character record Id.
// Values holds the columns the row sets (see the package doc for types).
type Row struct {
	ID     string
	Values map[string]any
}

// Upsert is a batch of rows of one org and one object, written in one
// transaction. Receipts, when set, are the outbound notification IDs that
// the batch applies; they are recorded in the same transaction, so a
// redelivered notification is recognised exactly when its rows are stored.
type Upsert struct {
	OrgID    string
	Object   string // the table name
	Rows     []Row
	Receipts []string
}

// UpsertResult counts what an Upsert did with its rows.
type UpsertResult struct {
	Inserted int // rows that were not stored before
	Updated  int // stored rows that were overwritten (timestamp equal or newer)
	Stale    int // rows skipped because the stored row is newer
}

// Tombstone names a deleted record. Modstamp is its SystemModstamp at
// deletion (zero when unknown); a stored row newer than it is left alone.
type Tombstone struct {
	ID       string
	Modstamp time.Time
}

// Delete marks rows deleted: IsDeleted is set true where the table has that
// column, and _deleted_at is set. With Hard the rows are removed instead.
type Delete struct {
	OrgID  string
	Object string
	Rows   []Tombstone
	Hard   bool
}

// DeleteResult counts what a Delete did.
type DeleteResult struct {
	Deleted int // rows marked deleted or removed
	Stale   int // rows left alone because the stored row is newer
	Missing int // tombstones for rows that are not stored
}

// ConnectionStatus says whether a connection can be used.
type ConnectionStatus string

// The connection states.
const (
	StatusActive        ConnectionStatus = "active"
	StatusLoginRequired ConnectionStatus = "login_required" // refresh failed with invalid_grant
)

// Connection is a connected org. The Store never sees a clear token: Sealed
// is opaque token material sealed by package oauth.
type Connection struct {
	OrgID       string // 18 characters
	UserID      string
	Username    string
	InstanceURL string
	IdentityURL string
	LoginURL    string
	Scopes      []string
	Status      ConnectionStatus
	IssuedAt    time.Time
	Sealed      []byte

	// Version is the optimistic-concurrency counter. SaveConnection
	// succeeds only when it equals the stored version (0 for a new
	// connection) and then increments it.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SyncState is the incremental-sync position of one (org, object).
type SyncState struct {
	OrgID  string
	Object string
	// Watermark is the newest Salesforce timestamp (SystemModstamp) that a
	// completed sync has covered; zero means no full sync has finished.
	Watermark time.Time
	// Checkpoint is the last Id committed by a full extract in progress
	// (ordered by Id); empty when no full extract is under way.
	Checkpoint string
	// CalculatedAt is when calculated (formula) fields were last re-read.
	CalculatedAt time.Time
	// ReconciledAt is when Id sets were last compared to find purged deletes.
	ReconciledAt time.Time
	UpdatedAt    time.Time
}

// JobState is the lifecycle state of a sync job.
type JobState string

// The job states.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
	JobCanceled  JobState = "canceled"
	JobPaused    JobState = "paused" // stopped at the API budget; resumes on the next run
)

// Job is a sync job record.
type Job struct {
	ID         string
	OrgID      string
	Objects    []string
	Mode       string // "full" or "incremental"
	State      JobState
	Progress   []ObjectProgress
	Error      string
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
}

// ObjectProgress is the progress of one object within a job.
type ObjectProgress struct {
	Object     string
	Phase      string // such as "describe", "extract", "deletes", "done", "failed"
	Done       int64  // records written
	Total      int64  // records expected; 0 when unknown
	Deleted    int64
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// JobFilter selects jobs in ListJobs. Zero fields match everything;
// Limit 0 means no limit. Jobs come newest first.
type JobFilter struct {
	OrgID string
	State JobState
	Limit int
}

// ObjectMeta is the stored describe of a synced object.
type ObjectMeta struct {
	Name   string
	Label  string
	Custom bool
	Fields []FieldMeta
}

// FieldMeta is the stored describe of one field.
type FieldMeta struct {
	Name             string
	Label            string
	Type             string // the Salesforce field type, such as "currency"
	Custom           bool
	Length           int
	Precision        int
	Scale            int
	Nillable         bool
	ReferenceTo      []string
	RelationshipName string
	PicklistValues   []string
}

// ReadQuery selects rows of one table in ReadRows, ordered by Id.
type ReadQuery struct {
	OrgID          string
	Object         string
	AfterID        string // rows with Id greater than this; "" from the start
	Limit          int    // 0 means no limit
	IncludeDeleted bool   // include rows marked deleted
}

// Store is what every backend implements. All methods are safe for
// concurrent use.
type Store interface {
	ConnectionStore
	RecordStore
	StateStore
	// Close releases the Store; calls after it return ErrClosed.
	Close() error
}

// ConnectionStore keeps connected orgs.
type ConnectionStore interface {
	// SaveConnection inserts or updates c when c.Version equals the stored
	// version (0 when none is stored), then sets c.Version to the new
	// version. Otherwise it returns ErrVersionConflict and changes nothing.
	SaveConnection(ctx context.Context, c *Connection) error
	// Connection returns the connection of orgID, or ErrNotFound.
	Connection(ctx context.Context, orgID string) (*Connection, error)
	// Connections lists every connection, ordered by org ID.
	Connections(ctx context.Context) ([]*Connection, error)
	// DeleteConnection removes the connection, or returns ErrNotFound.
	DeleteConnection(ctx context.Context, orgID string) error
}

// RecordStore keeps object tables and their rows.
type RecordStore interface {
	// EnsureTable creates the table or adds the columns it lacks. It never
	// drops or retypes a column.
	EnsureTable(ctx context.Context, t Table) error
	// Table returns the stored schema of a table, or ErrNotFound.
	Table(ctx context.Context, name string) (Table, error)
	// Tables lists the object tables, ordered by name.
	Tables(ctx context.Context) ([]Table, error)
	// Upsert writes a batch in one transaction with the timestamp guard:
	// a row older (by SystemModstamp, else LastModifiedDate) than the
	// stored one changes nothing; where either side lacks a timestamp the
	// row applies. A stored row marked deleted is undeleted by an upsert
	// that applies. Nothing of a failed batch is written.
	Upsert(ctx context.Context, u Upsert) (UpsertResult, error)
	// Delete marks rows deleted (or removes them), guarded by timestamp.
	Delete(ctx context.Context, d Delete) (DeleteResult, error)
	// Count counts the rows of an org in a table, excluding deleted rows
	// unless includeDeleted.
	Count(ctx context.Context, orgID, object string, includeDeleted bool) (int64, error)
	// ReadRows reads rows with every column; Values hold every column of
	// the table, NULL as nil, plus ColDeleted and ColSyncedAt as time.Time
	// (or nil).
	ReadRows(ctx context.Context, q ReadQuery) ([]Row, error)
	// IDs lists the Ids of an org's rows in a table that are not marked
	// deleted, in ascending order.
	IDs(ctx context.Context, orgID, object string) ([]string, error)
	// HasReceipts reports which of the notification IDs were already
	// applied for the org.
	HasReceipts(ctx context.Context, orgID string, ids []string) (map[string]bool, error)
	// PruneReceipts removes receipts recorded before the given time and
	// returns how many it removed. Callers keep at least 48 hours.
	PruneReceipts(ctx context.Context, before time.Time) (int, error)
	// SaveObjectMeta replaces the stored describe of an object for an org.
	// Object names match case-insensitively, as Salesforce API names do:
	// saving "account" after "Account" replaces that describe, and the
	// stored name becomes the latest spelling saved ("account").
	SaveObjectMeta(ctx context.Context, orgID string, m ObjectMeta) error
	// ObjectMetas lists the stored describes of an org, ordered by name.
	ObjectMetas(ctx context.Context, orgID string) ([]ObjectMeta, error)
}

// StateStore keeps sync state and jobs.
type StateStore interface {
	// SyncState returns the state of (orgID, object); a zero SyncState
	// with OrgID and Object set when none is stored. The object name
	// matches case-insensitively, and the returned Object is spelled as
	// given.
	SyncState(ctx context.Context, orgID, object string) (SyncState, error)
	// SaveSyncState inserts or replaces the state of (OrgID, Object),
	// the object name matching case-insensitively: saving "ACCOUNT"
	// replaces the state saved as "Account".
	SaveSyncState(ctx context.Context, s SyncState) error
	// SaveJob inserts or replaces a job record.
	SaveJob(ctx context.Context, j *Job) error
	// Job returns a job by ID, or ErrNotFound.
	Job(ctx context.Context, id string) (*Job, error)
	// Jobs lists jobs matching f, newest first.
	Jobs(ctx context.Context, f JobFilter) ([]*Job, error)
}

// Locker is an optional interface of a Store shared by several processes:
// TryLock takes a named lease for ttl, or reports false when another
// holder has it. The lease ends at release or when ttl passes without a
// renewal, so a crashed holder does not keep it.
type Locker interface {
	TryLock(ctx context.Context, name string, ttl time.Duration) (release func(), ok bool, err error)
}

// Errors a Store returns; test them with errors.Is.
var (
	ErrNotFound        = errors.New("store: not found")
	ErrVersionConflict = errors.New("store: version conflict")
	ErrClosed          = errors.New("store: closed")
	ErrInvalidName     = errors.New("store: invalid name")
	ErrUnknownColumn   = errors.New("store: unknown column")
	ErrBadValue        = errors.New("store: value does not fit column")
)

// ValueError describes a bad value, name or column in a batch. It wraps
// one of ErrInvalidName, ErrUnknownColumn or ErrBadValue.
type ValueError struct {
	Table  string
	Column string
	RowID  string
	Err    error
}

// Error names the table, and the column and row Id when known, then the
// cause.
func (e *ValueError) Error() string {
	msg := fmt.Sprintf("table %q", e.Table)
	if e.Column != "" {
		msg += fmt.Sprintf(" column %q", e.Column)
	}
	if e.RowID != "" {
		msg += fmt.Sprintf(" row %s", e.RowID)
	}
	return msg + ": " + e.Err.Error()
}

// Unwrap returns the sentinel (or the error wrapping it), for errors.Is.
func (e *ValueError) Unwrap() error { return e.Err }

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// The helpers below are shared by the backends so that every Store
// validates and converts values the same way.

// MaxNameLen is the longest table or column name a Store accepts: the
// PostgreSQL identifier limit, longer than any Salesforce API name.
const MaxNameLen = 63

// ValidName reports whether s can name a table or column: an ASCII letter
// followed by ASCII letters, digits and underscores, at most MaxNameLen
// bytes. Salesforce API names (Account, Amount__c, acme__Shipment__c)
// qualify; the system columns, which start with "_", cannot collide.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > MaxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// ValidType reports whether t is one of the column types.
func ValidType(t ColumnType) bool {
	switch t {
	case Text, Integer, Numeric, Real, Boolean, Date, DateTime, Time, JSON, Blob:
		return true
	}
	return false
}

// CheckTable validates a schema and returns it with an "Id" Text column
// first when t lacks one (spelled "Id" in any case). Errors are
// *ValueError.
func CheckTable(t Table) (Table, error) {
	if !ValidName(t.Name) {
		return t, &ValueError{Table: t.Name, Err: ErrInvalidName}
	}
	out := Table{Name: t.Name}
	if _, ok := t.Column(FieldID); !ok {
		out.Columns = append(out.Columns, Column{Name: FieldID, Type: Text})
	}
	for i, c := range t.Columns {
		if !ValidName(c.Name) {
			return t, &ValueError{Table: t.Name, Column: c.Name, Err: ErrInvalidName}
		}
		if !ValidType(c.Type) || c.Precision < 0 || c.Scale < 0 ||
			(c.Precision > 0 && c.Scale > c.Precision) {
			return t, &ValueError{Table: t.Name, Column: c.Name,
				Err: fmt.Errorf("%w: bad column type %q(%d,%d)", ErrBadValue, c.Type, c.Precision, c.Scale)}
		}
		if equalFold(c.Name, FieldID) {
			if c.Type != Text {
				return t, &ValueError{Table: t.Name, Column: c.Name,
					Err: fmt.Errorf("%w: Id must be text", ErrBadValue)}
			}
			c = Column{Name: FieldID, Type: Text}
		}
		if _, dup := (Table{Columns: t.Columns[:i]}).Column(c.Name); dup {
			return t, &ValueError{Table: t.Name, Column: c.Name,
				Err: fmt.Errorf("%w: duplicate column", ErrInvalidName)}
		}
		out.Columns = append(out.Columns, c)
	}
	return out, nil
}

// CheckRow validates r against the table and returns a copy whose Values
// use the table's spelling of each column name and hold values converted
// by CheckValue. Errors are *ValueError naming the table, column and row.
func (t Table) CheckRow(r Row) (Row, error) {
	if r.ID == "" || len(r.ID) > 255 || !utf8.ValidString(r.ID) {
		return r, &ValueError{Table: t.Name, Column: FieldID, RowID: r.ID,
			Err: fmt.Errorf("%w: bad record Id", ErrBadValue)}
	}
	out := Row{ID: r.ID, Values: make(map[string]any, len(r.Values))}
	for k, v := range r.Values {
		c, ok := t.Column(k)
		if !ok {
			return r, &ValueError{Table: t.Name, Column: k, RowID: r.ID, Err: ErrUnknownColumn}
		}
		if _, dup := out.Values[c.Name]; dup {
			return r, &ValueError{Table: t.Name, Column: k, RowID: r.ID,
				Err: fmt.Errorf("%w: column set twice", ErrBadValue)}
		}
		cv, err := CheckValue(c, v)
		if err == nil && c.Name == FieldID && cv != r.ID {
			err = fmt.Errorf("%w: Id value differs from the row Id", ErrBadValue)
		}
		if err != nil {
			return r, &ValueError{Table: t.Name, Column: c.Name, RowID: r.ID, Err: err}
		}
		out.Values[c.Name] = cv
	}
	return out, nil
}

// Modstamp returns the timestamp the Upsert guard compares: the row's
// SystemModstamp, else its LastModifiedDate (keys matched
// case-insensitively), and false when the row sets neither (or sets them
// to nil or to a value that is not a time.Time).
func (r Row) Modstamp() (time.Time, bool) {
	for _, name := range [...]string{FieldSystemModstamp, FieldLastModifiedDate} {
		for k, v := range r.Values {
			if t, ok := v.(time.Time); ok && equalFold(k, name) {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// CheckValue converts v to the value type of column c (see the package
// doc), or returns an error wrapping ErrBadValue. nil stays nil. Besides
// the documented type it accepts: any Go integer for Integer, Numeric and
// Real; float32 for Real; string for Numeric; []byte and string for JSON.
// A DateTime is converted to UTC and truncated to the millisecond; a Date
// must have no clock time. Slices are copied.
func CheckValue(c Column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	bad := func(why string) error {
		return fmt.Errorf("%w: %s: %T for %s column", ErrBadValue, why, v, c.Type)
	}
	switch c.Type {
	case Text:
		s, ok := v.(string)
		if !ok {
			return nil, bad("want string")
		}
		if !validText(s) {
			return nil, bad("invalid UTF-8 or NUL byte")
		}
		return s, nil
	case Integer:
		if n, ok := toInt64(v); ok {
			return n, nil
		}
		return nil, bad("want int64")
	case Numeric:
		return checkDecimal(c, v)
	case Real:
		f, ok := v.(float64)
		if f32, is := v.(float32); is {
			f, ok = float64(f32), true
		}
		if n, is := toInt64(v); is {
			f, ok = float64(n), true
		}
		if !ok {
			return nil, bad("want float64")
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, bad("not a finite number")
		}
		return f, nil
	case Boolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, bad("want bool")
	case Date, DateTime:
		return checkTime(c, v, bad)
	case Time:
		s, ok := v.(string)
		if !ok || !validClock(s) {
			return nil, bad(`want string "15:04:05.000Z"`)
		}
		return s, nil
	case JSON:
		var b []byte
		switch x := v.(type) {
		case json.RawMessage:
			b = x
		case []byte:
			b = x
		case string:
			b = []byte(x)
		default:
			return nil, bad("want json.RawMessage")
		}
		if !json.Valid(b) {
			return nil, bad("invalid JSON")
		}
		return json.RawMessage(append([]byte{}, b...)), nil
	case Blob:
		if b, ok := v.([]byte); ok {
			return append([]byte{}, b...), nil
		}
		return nil, bad("want []byte")
	}
	return nil, bad("unknown column type")
}

func checkTime(c Column, v any, bad func(string) error) (any, error) {
	t, ok := v.(time.Time)
	if !ok {
		return nil, bad("want time.Time")
	}
	if c.Type == Date {
		y, m, d := t.Date()
		h, mi, s := t.Clock()
		if h != 0 || mi != 0 || s != 0 || t.Nanosecond() != 0 {
			return nil, bad("date with a clock time")
		}
		t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	} else {
		t = t.UTC().Truncate(time.Millisecond)
	}
	if t.Year() < 1 || t.Year() > 9999 {
		return nil, bad("year outside 1 to 9999")
	}
	return t, nil
}

func checkDecimal(c Column, v any) (any, error) {
	var s string
	switch x := v.(type) {
	case Decimal:
		s = string(x)
	case string:
		s = x
	default:
		n, ok := toInt64(v)
		if !ok {
			return nil, fmt.Errorf("%w: want store.Decimal: %T for numeric column", ErrBadValue, v)
		}
		s = strconv.FormatInt(n, 10)
	}
	intDigits, fracDigits, fracZeros, ok := parseDecimal(s)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a decimal number", ErrBadValue, s)
	}
	if c.Precision > 0 {
		// Extra fractional digits that are all zero do not lose anything.
		if fracDigits > c.Scale && fracDigits-fracZeros > c.Scale ||
			intDigits > c.Precision-c.Scale {
			return nil, fmt.Errorf("%w: %q does not fit numeric(%d,%d)", ErrBadValue, s, c.Precision, c.Scale)
		}
	}
	return Decimal(s), nil
}

// parseDecimal checks the form [+-]digits[.digits] and counts the
// significant integer digits, the fractional digits and the trailing zeros
// among them.
func parseDecimal(s string) (intDigits, frac, fracZeros int, ok bool) {
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	i := 0
	lead := true
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		if s[i] != '0' || !lead {
			lead = false
			intDigits++
		}
	}
	digits := i
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			frac++
			fracZeros++
			if s[i] != '0' {
				fracZeros = 0
			}
		}
	}
	return intDigits, frac, fracZeros, i == len(s) && digits+frac > 0 && i <= 1000
}

func toInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int16:
		return int64(n), true
	case int8:
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint:
		return int64(n), n <= math.MaxInt64
	case uint64:
		return int64(n), n <= math.MaxInt64
	}
	return 0, false
}

func validText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return utf8.ValidString(s)
}

// validClock checks the form "15:04:05.000Z".
func validClock(s string) bool {
	if len(s) != 13 || s[2] != ':' || s[5] != ':' || s[8] != '.' || s[12] != 'Z' {
		return false
	}
	for _, i := range [...]int{0, 1, 3, 4, 6, 7, 9, 10, 11} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s[:2] < "24" && s[3:5] < "60" && s[6:8] < "60"
}
