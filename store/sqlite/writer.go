package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync/atomic"

	"github.com/sfsync/salesforce-sync/store"
)

// Group commit. Every write is a request run by one goroutine on the one
// writer connection. The goroutine takes the first pending request and all
// others already waiting (up to DefaultMaxGroup requests and
// DefaultMaxGroupRow rows), runs them in one transaction, each inside its
// own SAVEPOINT, and commits once: one WAL sync for the whole group. A
// request that fails is rolled back to its savepoint alone and gets its
// own error; the others commit. Every caller returns only after the
// COMMIT of its group (or with its error), so an acknowledged write is
// durable.

type request struct {
	ctx   context.Context
	rows  int
	alone bool // run in a group of its own (schema changes)
	fn    func(w *wtx) error
	state atomic.Int32 // reqQueued, reqTaken or reqAbandoned
	done  chan error   // buffered: the writer never blocks on it
}

const (
	reqQueued = iota
	reqTaken
	reqAbandoned
)

// wtx is what a request's function sees: the writer connection inside the
// group's transaction, and hooks to run after a successful commit.
type wtx struct {
	s     *Store
	conn  *sql.Conn
	hooks []func()
}

// afterCommit registers f to run once the transaction has committed
// (before the caller is answered); it is dropped if the request fails.
func (w *wtx) afterCommit(f func()) { w.hooks = append(w.hooks, f) }

func (w *wtx) exec(query string, args ...any) (sql.Result, error) {
	return w.conn.ExecContext(context.Background(), query, args...)
}

// write submits fn to the writer and waits for the commit. A caller whose
// context ends while its request is still queued returns the context's
// error and the request never runs; once the writer has taken it, the
// caller waits for the outcome, so an error never hides a committed write.
func (s *Store) write(ctx context.Context, rows int, fn func(w *wtx) error) error {
	return s.submit(ctx, &request{ctx: ctx, rows: rows, fn: fn})
}

// writeAlone is write for a request that runs in a transaction of its own.
func (s *Store) writeAlone(ctx context.Context, fn func(w *wtx) error) error {
	return s.submit(ctx, &request{ctx: ctx, fn: fn, alone: true})
}

func (s *Store) submit(ctx context.Context, r *request) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	r.done = make(chan error, 1)
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			return ctx.Err()
		}
		return <-r.done
	}
}

func (s *Store) writeLoop() {
	defer close(s.done)
	var carry *request // taken from the queue but kept for the next group
	for {
		first := carry
		carry = nil
		if first == nil {
			r, ok := <-s.reqs
			if !ok {
				return
			}
			first = r
		}
		group, rows := []*request{first}, first.rows
	collect:
		for !first.alone && len(group) < DefaultMaxGroup && rows < DefaultMaxGroupRow {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break collect
				}
				if r.alone {
					carry = r
					break collect
				}
				group = append(group, r)
				rows += r.rows
			default:
				break collect
			}
		}
		s.runGroup(group)
	}
}

// runGroup runs the live requests of a group in one transaction.
func (s *Store) runGroup(group []*request) {
	live := group[:0]
	for _, r := range group {
		if r.state.CompareAndSwap(reqQueued, reqTaken) {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	errs := make([]error, len(live))
	var hooks []func()
	err := s.inTx(func() error {
		for i, r := range live {
			w := &wtx{s: s, conn: s.wconn}
			if err := r.ctx.Err(); err != nil {
				errs[i] = err
				continue
			}
			var fatal error
			errs[i], fatal = s.runOne(w, r, len(live) > 1)
			if fatal != nil {
				return fatal
			}
			if errs[i] == nil {
				hooks = append(hooks, w.hooks...)
			}
		}
		if len(live) == 1 && errs[0] != nil {
			return errs[0] // roll back: nothing else in the transaction
		}
		return nil
	})
	if err != nil {
		s.resetStmts()
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	} else {
		s.commits.Add(1)
		for i, r := range live {
			if errs[i] == nil {
				s.requests.Add(1)
				s.rows.Add(int64(r.rows))
			}
		}
		for _, h := range hooks {
			h()
		}
	}
	for i, r := range live {
		r.done <- errs[i]
	}
}

// runOne runs one request, inside a savepoint when it shares the
// transaction. fatal reports a failure that leaves the transaction
// unusable.
func (s *Store) runOne(w *wtx, r *request, savepoint bool) (err, fatal error) {
	if !savepoint {
		return r.fn(w), nil
	}
	if _, err := w.exec("SAVEPOINT req"); err != nil {
		return nil, err
	}
	if err = r.fn(w); err != nil {
		if _, rerr := w.exec("ROLLBACK TO req"); rerr != nil {
			return err, fmt.Errorf("rollback to savepoint: %w", rerr)
		}
	}
	if _, rerr := w.exec("RELEASE req"); rerr != nil {
		return err, fmt.Errorf("release savepoint: %w", rerr)
	}
	return err, nil
}

// inTx runs fn between BEGIN IMMEDIATE and COMMIT, rolling back when fn
// or the commit fails.
func (s *Store) inTx(fn func() error) error {
	ctx := context.Background()
	if _, err := s.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	err := fn()
	if err == nil {
		if _, err = s.wconn.ExecContext(ctx, "COMMIT"); err != nil {
			err = fmt.Errorf("sqlite: commit: %w", err)
		}
	}
	if err != nil {
		s.wconn.ExecContext(ctx, "ROLLBACK")
	}
	return err
}

// stmt returns the cached prepared statement for key, preparing query on
// the writer connection the first time. It must not be called inside
// Conn.Raw (closing an evicted *sql.Stmt takes the connection's lock).
func (w *wtx) stmt(key string, query func() string) (*sql.Stmt, error) {
	if st, ok := w.s.stmts.get(key); ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(context.Background(), query())
	if err != nil {
		return nil, err
	}
	w.s.stmts.put(key, st)
	return st, nil
}

// rawStmt is stmt for the driver connection itself; it is called only
// inside Conn.Raw, where closing an evicted driver statement is safe.
func (w *wtx) rawStmt(conn driver.ConnPrepareContext, key string, query func() string) (driver.StmtExecContext, error) {
	if st, ok := w.s.raw.get(key); ok {
		return st, nil
	}
	st, err := conn.PrepareContext(context.Background(), query())
	if err != nil {
		return nil, err
	}
	ex, ok := st.(driver.StmtExecContext)
	if !ok {
		st.Close()
		return nil, fmt.Errorf("driver statement %T cannot execute with a context", st)
	}
	w.s.raw.put(key, ex)
	return ex, nil
}

// Bounds of the statement caches. The row statements are keyed by
// (table, column set): a full sync uses one or two column sets per table
// and webhooks a few more, but partial rows could make many, so the
// caches drop the least recently used statement past the bound. A wide
// prepared statement takes tens of kilobytes of SQLite memory.
var (
	maxRawStmts = 512 // INSERT and UPDATE statements of Upsert (two per column set)
	maxStmts    = 256 // the other statements
)

func (s *Store) resetStmts() {
	s.stmts.clear()
	if s.raw.len() == 0 {
		return
	}
	s.wconn.Raw(func(any) error {
		s.raw.clear()
		return nil
	})
}

// lru is a least-recently-used cache of prepared statements; close is
// called on every statement it drops. It is used only by the writer
// goroutine, so it has no lock.
type lru[T any] struct {
	max   int
	close func(T)
	ll    list.List // of *lruEntry[T], most recently used first
	items map[string]*list.Element
}

type lruEntry[T any] struct {
	key string
	st  T
}

func newLRU[T any](max int, close func(T)) *lru[T] {
	return &lru[T]{max: max, close: close, items: map[string]*list.Element{}}
}

func (c *lru[T]) get(key string) (T, bool) {
	if e, ok := c.items[key]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*lruEntry[T]).st, true
	}
	var zero T
	return zero, false
}

// put adds st (whose key is not cached) and drops the least recently used
// statements past the bound; st itself is never dropped here.
func (c *lru[T]) put(key string, st T) {
	c.items[key] = c.ll.PushFront(&lruEntry[T]{key, st})
	for c.ll.Len() > max(c.max, 1) {
		e := c.ll.Back()
		c.ll.Remove(e)
		ent := e.Value.(*lruEntry[T])
		delete(c.items, ent.key)
		c.close(ent.st)
	}
}

func (c *lru[T]) len() int { return c.ll.Len() }

func (c *lru[T]) clear() {
	for e := c.ll.Front(); e != nil; e = e.Next() {
		c.close(e.Value.(*lruEntry[T]).st)
	}
	c.ll.Init()
	clear(c.items)
}
