package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sfsync/salesforce-sync/store"
)

// DefaultSchema is the schema the Store uses unless WithSchema says another.
const DefaultSchema = "salesforce"

// DefaultMaxConns is the pool size unless the DSN sets pool_max_conns or
// WithMaxConns is given. Concurrent webhook upserts need more than pgxpool's
// default of 4 to share the server's WAL flushes.
const DefaultMaxConns = 16

// DefaultCopyThreshold is the number of rows (of one column set) from
// which Upsert writes with COPY instead of a single INSERT statement. An
// Outbound Message carries at most 100 notifications, so webhook batches
// stay single statements; full-sync pages (2,000 rows for REST, more for
// Bulk) go through COPY.
const DefaultCopyThreshold = 128

// Option configures Open.
type Option func(*options)

type options struct {
	schema        string
	maxConns      int32
	copyThreshold int
}

// WithSchema sets the schema of the object tables and of the internal
// _sfsync_* tables. It is created when missing. The default is
// DefaultSchema.
func WithSchema(name string) Option {
	return func(o *options) { o.schema = name }
}

// WithMaxConns sets the largest number of connections the pool opens.
// Zero or less keeps the default.
func WithMaxConns(n int) Option {
	return func(o *options) { o.maxConns = int32(n) }
}

// WithCopyThreshold sets the number of rows of one column set from which
// an Upsert goes through COPY into a temporary table; smaller batches are
// single INSERT statements. Zero or less keeps DefaultCopyThreshold.
func WithCopyThreshold(n int) Option {
	return func(o *options) { o.copyThreshold = n }
}

// Store is a store.Store on a PostgreSQL database. It is safe for
// concurrent use, also by several processes sharing one schema.
type Store struct {
	pool    *pgxpool.Pool
	schema  string // unquoted
	qschema string // quoted, ready for SQL
	copyMin int

	mu     sync.RWMutex
	tables map[string]*tableInfo // by lower-case name
	closed bool

	// leases held by TryLock, released at Close.
	leaseMu sync.Mutex
	leases  map[*lease]struct{}
	renew   bool // false in tests that simulate a crashed holder
}

var _ store.Store = (*Store)(nil)
var _ store.Locker = (*Store)(nil)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string as pgx accepts) and migrates its schema. Several processes may
// open the same database at once: migrations run under an advisory lock.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{schema: DefaultSchema, copyThreshold: DefaultCopyThreshold}
	for _, f := range opts {
		f(&o)
	}
	if o.copyThreshold <= 0 {
		o.copyThreshold = DefaultCopyThreshold
	}
	if !validSchema(o.schema) {
		return nil, fmt.Errorf("postgres: schema %q: %w", o.schema, store.ErrInvalidName)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	switch {
	case o.maxConns > 0:
		cfg.MaxConns = o.maxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{
		pool:    pool,
		schema:  o.schema,
		qschema: quoteIdent(o.schema),
		copyMin: o.copyThreshold,
		tables:  map[string]*tableInfo{},
		leases:  map[*lease]struct{}{},
		renew:   true,
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Schema returns the name of the schema the Store uses.
func (s *Store) Schema() string { return s.schema }

// Pool returns the connection pool, for callers that read the tables with
// their own SQL. Writing to the object tables behind the Store's back
// bypasses its timestamp guard.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close releases held leases and closes the pool. Calls after it return
// store.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	s.leaseMu.Lock()
	held := make([]*lease, 0, len(s.leases))
	for l := range s.leases {
		held = append(held, l)
	}
	s.leaseMu.Unlock()
	for _, l := range held {
		l.release()
	}
	s.pool.Close()
	return nil
}

func (s *Store) checkOpen() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	return nil
}

// wrap turns an error of an operation into the Store's error, mapping a
// closed pool to store.ErrClosed.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if s.checkOpen() != nil {
		return fmt.Errorf("%s: %w", op, store.ErrClosed)
	}
	var ve *store.ValueError
	if errors.As(err, &ve) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. A file is
// named NNNN_what.sql; {schema} in it stands for the quoted schema name.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a version number", base)
		}
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// migrate brings the schema to the newest version in one transaction,
// under a transaction-level advisory lock keyed by the schema name, so
// that two instances starting at once migrate one after the other (the
// second finds nothing to do).
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
			"sfsync.migrate:"+s.schema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+s.qschema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+s.qschema+`._sfsync_schema_version (
			version integer PRIMARY KEY,
			name text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+
			s.qschema+`._sfsync_schema_version`).Scan(&current); err != nil {
			return err
		}
		if latest := ms[len(ms)-1].version; current > latest {
			return fmt.Errorf("schema %s is at version %d, newer than this sfsync knows (%d)",
				s.schema, current, latest)
		}
		for _, m := range ms {
			if m.version <= current {
				continue
			}
			if _, err := tx.Exec(ctx, strings.ReplaceAll(m.sql, "{schema}", s.qschema)); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+s.qschema+
				`._sfsync_schema_version (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// quoteIdent quotes a name for SQL. Names are validated before they get
// here, but quoting doubles any quote all the same.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// validSchema accepts a schema name of letters, digits and underscores,
// not starting with a digit, of at most 63 bytes.
func validSchema(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case '0' <= r && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// now is the Store's clock for _synced_at and other local times: UTC with
// millisecond precision, as every stored time.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// dbTime converts a time for storage: zero is NULL, others are UTC with
// millisecond precision.
func dbTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Millisecond)
}

// goTime converts a scanned nullable time back: NULL is the zero time.
func goTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
