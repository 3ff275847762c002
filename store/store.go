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
	"errors"
	"fmt"
	"time"
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
	SaveObjectMeta(ctx context.Context, orgID string, m ObjectMeta) error
	// ObjectMetas lists the stored describes of an org, ordered by name.
	ObjectMetas(ctx context.Context, orgID string) ([]ObjectMeta, error)
}

// StateStore keeps sync state and jobs.
type StateStore interface {
	// SyncState returns the state of (orgID, object); a zero SyncState
	// with OrgID and Object set when none is stored.
	SyncState(ctx context.Context, orgID, object string) (SyncState, error)
	// SaveSyncState inserts or replaces the state.
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
