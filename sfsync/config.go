package sfsync

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/sfsync/salesforce-sync/metadata"
	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/store"
)

// Defaults for the tunables of Config.
const (
	DefaultConcurrency   = 4
	DefaultBulkThreshold = 50_000
	DefaultBatchSize     = 2000
	DefaultLookback      = 5 * time.Minute
	DefaultLag           = 1 * time.Minute
	DefaultInterval      = 15 * time.Minute
	DefaultLockTTL       = 2 * time.Minute

	// RecycleBinHorizon is how long Salesforce keeps deleted records
	// visible to queryAll (SALESFORCE.md 2.5). A watermark older than
	// this cannot see every delete, so the engine reconciles Id sets.
	RecycleBinHorizon = 15 * 24 * time.Hour
)

// Modes of a sync request.
const (
	ModeIncremental = "incremental"
	ModeFull        = "full"
)

// Connections is the source of connected orgs the engine calls through.
// *oauth.Manager implements it.
type Connections interface {
	// Client returns an HTTP client that authenticates as the org and
	// keeps its session alive.
	Client(ctx context.Context, orgID string) (*http.Client, error)
	// Connection returns the org's connection (for its instance URL).
	Connection(ctx context.Context, orgID string) (*oauth.Connection, error)
	// Connections lists every connected org.
	Connections(ctx context.Context) ([]*oauth.Connection, error)
}

// Config configures a Syncer. Only Store and Connections are required;
// every other zero value selects the documented default.
type Config struct {
	Store       store.Store
	Connections Connections

	// Logger receives lifecycle and progress lines; nil discards them.
	Logger *slog.Logger

	// Concurrency is how many objects of one org sync in parallel;
	// 0 means DefaultConcurrency.
	Concurrency int

	// Objects are the object API names to sync. Nil selects with
	// Selection from describeGlobal.
	Objects []string
	// Selection chooses objects when Objects is nil; the zero value is
	// metadata's default selection (syncable objects).
	Selection metadata.Selection

	// BulkThreshold is the record count from which a full extract goes
	// through Bulk API 2.0 instead of REST query; 0 means
	// DefaultBulkThreshold, a negative value never uses Bulk.
	BulkThreshold int
	// BatchSize is how many rows are written per store transaction (and
	// so how far a checkpoint may trail); 0 means DefaultBatchSize.
	BatchSize int
	// QueryBatchSize is the REST query page size hint; 0 means soql's
	// default (2000).
	QueryBatchSize int

	// Lookback widens each incremental window backwards, catching
	// records whose SystemModstamp was set before a slow transaction
	// committed; 0 means DefaultLookback, negative means none.
	Lookback time.Duration
	// Lag keeps the window's upper bound this far behind Salesforce's
	// clock; 0 means DefaultLag, negative means none.
	Lag time.Duration

	// LimitReserve stops syncs cleanly once the org's daily API usage
	// reaches this share of its limit (0.9 = 90%); 0 disables. A stopped
	// job is JobPaused and resumes where it stopped on its next run.
	LimitReserve float64

	// Outbound lists the known Outbound Message actions by ActionID.
	Outbound map[string]outbound.Action
	// OutboundObjects lists field lists by object, used for an action
	// not in Outbound (for example a WSDL whose action ID is unknown).
	OutboundObjects map[string][]string
	// RequireKnownAction rejects messages of actions not in Outbound.
	RequireKnownAction bool

	// Progress, when set, receives progress events. It is called from
	// the sync goroutines and must not block for long.
	Progress func(Event)

	// Interval is the period of the scheduled incremental sync of every
	// connected org in Run; 0 means DefaultInterval. Each run is
	// jittered by up to a tenth of it.
	Interval time.Duration
	// CalculatedInterval, when positive, makes scheduled syncs re-read
	// the calculated (formula, roll-up) fields of each object this often.
	CalculatedInterval time.Duration
	// ReconcileInterval, when positive, makes scheduled syncs compare Id
	// sets this often to find purged deletes. Reconciling also happens
	// whenever a watermark is older than RecycleBinHorizon.
	ReconcileInterval time.Duration
	// LockTTL is the lease taken through store.Locker, when the Store
	// implements it: the Store renews it while the sync runs, and a
	// crashed holder's lease lets another process in after LockTTL; 0
	// means DefaultLockTTL.
	LockTTL time.Duration

	// Now is the local clock (job times, schedules); nil means time.Now.
	// Watermarks never come from it.
	Now func() time.Time
}

// Request asks for a sync of one org.
type Request struct {
	OrgID   string   // 15 or 18 characters; "" when exactly one org is connected
	Objects []string // nil: the configured selection
	Mode    string   // ModeFull or ModeIncremental ("" is incremental)
}

// Event reports the progress of one object in a job.
type Event struct {
	JobID   string
	OrgID   string
	Object  string
	Phase   string // describe, count, extract (full), changes (incremental), deletes, reconcile, calculated, done, failed, paused, canceled
	Done    int64  // records written
	Total   int64  // records expected; 0 when unknown
	Deleted int64
	Rate    float64 // records per second since the object started
	Err     error
	At      time.Time
}

// Errors of the engine; test them with errors.Is.
var (
	// ErrBusy means a sync of the org is already running.
	ErrBusy = errors.New("sfsync: a sync of this org is already running")
	// ErrNoOrg means the request names no org and not exactly one is
	// connected, or names an org that is not connected.
	ErrNoOrg = errors.New("sfsync: org not connected")
	// ErrBadRequest means a Request field is invalid.
	ErrBadRequest = errors.New("sfsync: bad request")
	// ErrClosed means the Syncer was closed.
	ErrClosed = errors.New("sfsync: closed")
)

func (c *Config) withDefaults() Config {
	d := *c
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Concurrency <= 0 {
		d.Concurrency = DefaultConcurrency
	}
	if d.BulkThreshold == 0 {
		d.BulkThreshold = DefaultBulkThreshold
	}
	if d.BatchSize <= 0 {
		d.BatchSize = DefaultBatchSize
	}
	d.Lookback = orDefault(d.Lookback, DefaultLookback)
	d.Lag = orDefault(d.Lag, DefaultLag)
	if d.Interval <= 0 {
		d.Interval = DefaultInterval
	}
	if d.LockTTL <= 0 {
		d.LockTTL = DefaultLockTTL
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return d
}

func orDefault(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}
