package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/sfsync/salesforce-sync/store"
)

// Defaults of the Options.
const (
	DefaultBusyTimeout = 5 * time.Second
	DefaultMaxGroup    = 256 // requests per group commit
	// DefaultMaxGroupRow bounds the rows of one group commit: a group
	// stops taking requests once it holds this many. A 2,000-row
	// full-sync batch and the webhooks queued behind it still share one
	// commit, but several full syncs running at once no longer pile into
	// one long transaction that every webhook of the group waits for. One
	// WAL sync per 5,000 rows costs little against writing them.
	DefaultMaxGroupRow = 5_000
)

// Option configures Open.
type Option func(*options)

type options struct {
	readers     int
	busyTimeout time.Duration
}

// WithReaders sets the number of reader connections; n <= 0 means
// runtime.NumCPU(), at least 2.
func WithReaders(n int) Option { return func(o *options) { o.readers = n } }

// WithBusyTimeout sets how long a connection waits for a lock held by
// another process before failing; 0 means DefaultBusyTimeout.
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// Store is a store.Store in one SQLite file. It is safe for concurrent use.
type Store struct {
	path    string
	readers *sql.DB
	wdb     *sql.DB
	wconn   *sql.Conn // the one writer connection, used only by writeLoop
	ckpt    *sql.DB   // one connection for background WAL checkpoints

	ckptStop, ckptDone chan struct{}

	mu     sync.RWMutex // held for reading while submitting to reqs
	closed atomic.Bool
	reqs   chan *request
	done   chan struct{} // closed when writeLoop returns

	schemaMu sync.RWMutex
	tables   map[string]*tableInfo // by lower-case name; replaced, never mutated

	stmts *lru[*sql.Stmt]              // writer-only: prepared statements by purpose and table
	raw   *lru[driver.StmtExecContext] // writer-only: Upsert's row statements by (table, column set), on the driver connection

	requests, commits, rows atomic.Int64
}

// Stats counts the writer's work since Open.
type Stats struct {
	Requests int64 // write calls committed
	Commits  int64 // transactions committed: fewer than Requests when group commit shared them
	Rows     int64 // rows (and receipts) in the committed calls
}

// Stats returns the writer's counters.
func (s *Store) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Commits: s.commits.Load(), Rows: s.rows.Load()}
}

var _ store.Store = (*Store)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Open opens (creating if needed) the database file at path and brings its
// internal tables to the current version.
//
// Every connection uses the WAL journal, foreign keys and a busy timeout.
// The writer uses synchronous=FULL: in WAL mode, NORMAL may lose the last
// transactions on a power loss or OS crash (the WAL is not synced at each
// commit), while FULL syncs the WAL on every commit, so a write that
// returned survives. Group commit (see Store.Upsert) keeps that cost per
// group of concurrent writers rather than per call.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{busyTimeout: DefaultBusyTimeout}
	for _, f := range opts {
		f(&o)
	}
	if o.readers <= 0 {
		o.readers = max(runtime.NumCPU(), 2)
	}
	if o.busyTimeout <= 0 {
		o.busyTimeout = DefaultBusyTimeout
	}
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: open %q: want a file path", path)
	}
	s := &Store{path: path, tables: map[string]*tableInfo{},
		stmts: newLRU(maxStmts, func(st *sql.Stmt) { st.Close() }),
		raw:   newLRU(maxRawStmts, func(st driver.StmtExecContext) { st.(driver.Stmt).Close() })}
	if err := s.open(ctx, o); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.reqs = make(chan *request, 1024)
	s.done = make(chan struct{})
	s.ckptStop, s.ckptDone = make(chan struct{}), make(chan struct{})
	go s.writeLoop()
	go s.checkpointLoop()
	return s, nil
}

func dsn(path string, o options, writer bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(o.busyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	q.Set("_journal_mode", "WAL")
	if writer {
		q.Set("_synchronous", "FULL")
		q.Set("_cache_size", "-65536") // 64 MiB
	} else {
		q.Set("_query_only", "1")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func (s *Store) open(ctx context.Context, o options) error {
	var err error
	if s.wdb, err = sql.Open("sqlite3", dsn(s.path, o, true)); err != nil {
		return err
	}
	s.wdb.SetMaxOpenConns(1)
	if s.wconn, err = s.wdb.Conn(ctx); err != nil {
		return err
	}
	// Checkpoints (copying the WAL into the database file) run on a
	// connection of their own in the background (see checkpointLoop), so a
	// commit does not wait for one. The writer checkpoints by itself only
	// as a backstop, when the WAL passes 50,000 pages (200 MB).
	if _, err := s.wconn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 50000"); err != nil {
		return err
	}
	if s.ckpt, err = sql.Open("sqlite3", dsn(s.path, o, true)); err != nil {
		return err
	}
	s.ckpt.SetMaxOpenConns(1)
	if err := s.migrate(ctx); err != nil {
		return err
	}
	if s.readers, err = sql.Open("sqlite3", dsn(s.path, o, false)); err != nil {
		return err
	}
	s.readers.SetMaxOpenConns(o.readers)
	s.readers.SetMaxIdleConns(o.readers)
	return s.loadSchemas(ctx)
}

func (s *Store) closeDBs() {
	if s.wconn != nil {
		s.wconn.Close()
	}
	if s.wdb != nil {
		s.wdb.Close()
	}
	if s.readers != nil {
		s.readers.Close()
	}
	if s.ckpt != nil {
		s.ckpt.Close()
	}
}

// CheckpointInterval is how often the background checkpointer copies
// committed WAL frames into the database file while writes happen.
const CheckpointInterval = 200 * time.Millisecond

// checkpointLoop runs PASSIVE checkpoints, which never block the writer
// or readers, whenever commits happened since the last one. Once a
// checkpoint has copied the whole WAL, the next commit starts the WAL
// over, so it stays small.
func (s *Store) checkpointLoop() {
	defer close(s.ckptDone)
	t := time.NewTicker(CheckpointInterval)
	defer t.Stop()
	var seen int64
	for {
		select {
		case <-s.ckptStop:
			return
		case <-t.C:
		}
		if n := s.commits.Load(); n != seen {
			seen = n
			// A failure (a busy database) is retried at the next tick; the
			// writer's own autocheckpoint is the backstop.
			s.ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// migration is one embedded SQL file, applied once, in version order.
type migration struct {
	version int
	sql     string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: bad version prefix", base)
		}
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{v, string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	return ms, nil
}

// migrate applies the migrations newer than the stored schema version, in
// one transaction; a database written by a newer version is refused.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	c := s.wconn
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	err = func() error {
		if _, err := c.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS _sfsync_schema_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var cur int
		if err := c.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM _sfsync_schema_version`).Scan(&cur); err != nil {
			return err
		}
		if last := ms[len(ms)-1].version; cur > last {
			return fmt.Errorf("database schema version %d is newer than this sfsync (%d)", cur, last)
		}
		for _, m := range ms {
			if m.version <= cur {
				continue
			}
			if _, err := c.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("version %d: %w", m.version, err)
			}
			if _, err := c.ExecContext(ctx, `DELETE FROM _sfsync_schema_version`); err != nil {
				return err
			}
			if _, err := c.ExecContext(ctx, `INSERT INTO _sfsync_schema_version (version) VALUES (?)`, m.version); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		c.ExecContext(context.Background(), "ROLLBACK")
		return fmt.Errorf("migrate: %w", err)
	}
	_, err = c.ExecContext(ctx, "COMMIT")
	return err
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close waits for the writes already submitted, then closes the database.
// Later calls return store.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return store.ErrClosed
	}
	s.closed.Store(true)
	close(s.reqs)
	s.mu.Unlock()
	<-s.done
	close(s.ckptStop)
	<-s.ckptDone
	s.resetStmts()
	var errs []error
	errs = append(errs, s.ckpt.Close(), s.wconn.Close(), s.wdb.Close(), s.readers.Close())
	return errors.Join(errs...)
}

// check returns the error a call gets before it starts.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// readErr turns the error of a read racing Close into store.ErrClosed.
func (s *Store) readErr(err error) error {
	if err != nil && s.closed.Load() {
		return store.ErrClosed
	}
	return err
}
