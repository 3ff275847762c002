package sfsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/metadata"
	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/rest"
	"github.com/sfsync/salesforce-sync/store"
)

// Syncer is the sync engine. It is safe for concurrent use. A Syncer
// never runs two syncs of one org at once in its process, and takes a
// store.Locker lease when the Store offers one, so several processes
// sharing a database do not either.
type Syncer struct {
	cfg Config
	log *slog.Logger
	st  store.Store

	base   context.Context // parent of jobs started with Start
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	closed    bool
	byOrg     map[string]*jobRun               // running job per org
	byID      map[string]*jobRun               // running jobs
	describes map[string]*metadata.MemoryCache // by org ID
	objects   map[string]*objectInfo           // by org ID + "/" + lower-case object name
	actions   map[string]outbound.Action
	objFields map[string][]string

	unknownActions sync.Map // action IDs already logged as having no field list
	stats          stats
}

// New returns a Syncer for cfg. It fails when Store or Connections is nil
// or a setting is out of range.
func New(cfg Config) (*Syncer, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: Config.Store is nil", ErrBadRequest)
	}
	if cfg.Connections == nil {
		return nil, fmt.Errorf("%w: Config.Connections is nil", ErrBadRequest)
	}
	if cfg.LimitReserve < 0 || cfg.LimitReserve > 1 {
		return nil, fmt.Errorf("%w: LimitReserve %v is outside 0..1", ErrBadRequest, cfg.LimitReserve)
	}
	c := cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Syncer{
		cfg:       c,
		log:       c.Logger,
		st:        c.Store,
		base:      ctx,
		cancel:    cancel,
		byOrg:     map[string]*jobRun{},
		byID:      map[string]*jobRun{},
		describes: map[string]*metadata.MemoryCache{},
		actions:   map[string]outbound.Action{},
		objFields: map[string][]string{},
	}
	for id, a := range c.Outbound {
		s.SetAction(id, a)
	}
	for o, f := range c.OutboundObjects {
		s.SetObjectFields(o, f)
	}
	return s, nil
}

// Start begins a sync job in the background and returns the job as first
// saved (state queued). When a sync of the org is already running it
// returns that job and an error wrapping ErrBusy; with a store.Locker
// the running job may be another process's, read from the Store (the
// job is nil when that process has not saved it yet).
//
// Objects named in req are checked against the org's describeGlobal
// first (one API call, answered 304 from the describe cache when
// nothing changed): a name the org does not have, or cannot query, is
// refused with ErrBadRequest rather than started as a job bound to fail.
func (s *Syncer) Start(ctx context.Context, req Request) (*store.Job, error) {
	objects, err := s.checkObjects(ctx, req)
	if err != nil {
		return nil, err
	}
	req.Objects = objects
	jr, busy, err := s.begin(ctx, req)
	if err != nil {
		return busy, err
	}
	snap := jr.snapshot()
	s.wg.Go(func() { s.execute(s.base, jr) })
	return snap, nil
}

// checkObjects refuses objects of req that the org does not have, and
// returns req's objects spelled as the org spells them (API names are
// case-insensitive; one object must not be stored under two spellings).
// It leaves every other problem (a bad mode or name, an unknown org, an
// unreachable Salesforce) to begin and the job, which report them.
func (s *Syncer) checkObjects(ctx context.Context, req Request) ([]string, error) {
	if len(req.Objects) == 0 {
		return req.Objects, nil
	}
	for _, o := range req.Objects {
		if !validName(o) {
			return req.Objects, nil
		}
	}
	org, err := s.ResolveOrg(ctx, req.OrgID)
	if err != nil {
		return req.Objects, nil
	}
	oc, err := s.orgClients(ctx, org)
	if err != nil {
		return req.Objects, nil
	}
	g, err := oc.meta.DescribeGlobal(ctx)
	if err != nil {
		s.log.Debug("describe global for the request's objects", "org", org, "err", err)
		return req.Objects, nil
	}
	known := make(map[string]metadata.GlobalSObject, len(g.SObjects))
	for _, o := range g.SObjects {
		known[strings.ToLower(o.Name)] = o
	}
	out := make([]string, 0, len(req.Objects))
	for _, o := range req.Objects {
		d, ok := known[strings.ToLower(o)]
		switch {
		case !ok:
			return nil, fmt.Errorf("%w: object %q: org %s has no such object (or the connected user cannot see it)", ErrBadRequest, o, org)
		case !d.Queryable:
			return nil, fmt.Errorf("%w: object %q cannot be queried", ErrBadRequest, o)
		}
		if !slices.Contains(out, d.Name) {
			out = append(out, d.Name)
		}
	}
	return out, nil
}

// Sync runs a sync job to its end and returns the final job record. The
// returned error is nil when the job ran, whatever its state (failed,
// paused); it is set when the job could not start. Canceling ctx stops
// the job after committing the batches already fetched.
func (s *Syncer) Sync(ctx context.Context, req Request) (*store.Job, error) {
	jr, busy, err := s.begin(ctx, req)
	if err != nil {
		return busy, err
	}
	s.execute(ctx, jr)
	return jr.snapshot(), nil
}

// Wait blocks until the job started by Start ends and returns its final
// record, or returns ctx's error.
func (s *Syncer) Wait(ctx context.Context, jobID string) (*store.Job, error) {
	s.mu.Lock()
	jr := s.byID[jobID]
	s.mu.Unlock()
	if jr != nil {
		select {
		case <-jr.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.Job(ctx, jobID)
}

// Job returns a job with its per-object progress: the live record while
// it runs in this process, else the stored one (store.ErrNotFound when
// unknown).
func (s *Syncer) Job(ctx context.Context, id string) (*store.Job, error) {
	s.mu.Lock()
	jr := s.byID[id]
	s.mu.Unlock()
	if jr != nil {
		return jr.snapshot(), nil
	}
	return s.st.Job(ctx, id)
}

// Running lists the jobs running in this process, oldest first.
func (s *Syncer) Running() []*store.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*store.Job, 0, len(s.byID))
	for _, jr := range s.byID {
		out = append(out, jr.snapshot())
	}
	slices.SortFunc(out, func(a, b *store.Job) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// Cancel stops a running job; it commits what it fetched and ends
// JobCanceled. It reports whether the job was running.
func (s *Syncer) Cancel(id string) bool {
	s.mu.Lock()
	jr := s.byID[id]
	s.mu.Unlock()
	if jr == nil {
		return false
	}
	jr.cancel()
	return true
}

// Close stops every running job (each commits the batches it fetched and
// saves its checkpoint), waits for them, and refuses new ones. It does
// not close the Store.
func (s *Syncer) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, jr := range s.byID {
		jr.cancel()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	return nil
}

// ResolveOrg returns the 18-character ID of a connected org: id itself
// (15 or 18 characters) or, when id is "", the only connected org.
func (s *Syncer) ResolveOrg(ctx context.Context, id string) (string, error) {
	if id == "" {
		conns, err := s.cfg.Connections.Connections(ctx)
		if err != nil {
			return "", fmt.Errorf("list connections: %w", err)
		}
		if len(conns) != 1 {
			return "", fmt.Errorf("%w: %d orgs are connected, name one", ErrNoOrg, len(conns))
		}
		return conns[0].OrgID, nil
	}
	norm, err := oauth.NormalizeOrgID(id)
	if err != nil {
		return "", fmt.Errorf("%w: org id: %v", ErrBadRequest, err)
	}
	if _, err := s.cfg.Connections.Connection(ctx, norm); err != nil {
		if notConnected(err) {
			return "", fmt.Errorf("%w: %s", ErrNoOrg, norm)
		}
		return "", fmt.Errorf("connection %s: %w", norm, err)
	}
	return norm, nil
}

// begin checks req, takes the org (in this process and, with a
// store.Locker, its lease) and saves the queued job. When the org is
// busy it returns the running job, if known, and an error wrapping
// ErrBusy.
func (s *Syncer) begin(ctx context.Context, req Request) (*jobRun, *store.Job, error) {
	switch req.Mode {
	case "":
		req.Mode = ModeIncremental
	case ModeIncremental, ModeFull:
	default:
		return nil, nil, fmt.Errorf("%w: mode %q is neither %q nor %q", ErrBadRequest, req.Mode, ModeFull, ModeIncremental)
	}
	for _, o := range req.Objects {
		if !validName(o) {
			return nil, nil, fmt.Errorf("%w: object name %q", ErrBadRequest, o)
		}
	}
	org, err := s.ResolveOrg(ctx, req.OrgID)
	if err != nil {
		return nil, nil, err
	}

	now := s.cfg.Now().UTC()
	jctx, cancel := context.WithCancel(context.Background())
	jr := &jobRun{
		s:       s,
		id:      newJobID(now),
		ctx:     jctx,
		cancel:  cancel,
		release: func() {},
		done:    make(chan struct{}),
		job: store.Job{
			OrgID:     org,
			Objects:   slices.Clone(req.Objects),
			Mode:      req.Mode,
			State:     store.JobQueued,
			CreatedAt: now,
		},
	}
	jr.job.ID = jr.id

	// The org is claimed in this process first (byOrg), then, without
	// holding s.mu over the database calls, through its lease.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		return nil, nil, ErrClosed
	}
	if cur := s.byOrg[org]; cur != nil {
		live := s.byID[cur.id] != nil
		s.mu.Unlock()
		cancel()
		if !live { // still starting: it may yet be refused, so no job
			return nil, nil, fmt.Errorf("%w (another start of the org is under way)", ErrBusy)
		}
		return nil, cur.snapshot(), fmt.Errorf("%w (job %s)", ErrBusy, cur.id)
	}
	s.byOrg[org] = jr
	s.mu.Unlock()
	unclaim := func() {
		s.mu.Lock()
		delete(s.byOrg, org)
		s.mu.Unlock()
		cancel()
	}

	// The lease is taken before the job is saved, so that a request
	// refused here is refused at once rather than queued to fail, and is
	// held (renewed by the Store) until the job's final record is saved.
	if l, ok := s.st.(store.Locker); ok {
		rel, ok, err := l.TryLock(ctx, lockName(org), s.cfg.LockTTL)
		if err != nil {
			unclaim()
			return nil, nil, fmt.Errorf("lock org %s: %w", org, err)
		}
		if !ok {
			unclaim()
			other := s.runningElsewhere(ctx, org)
			if other == nil {
				return nil, nil, fmt.Errorf("%w in another process", ErrBusy)
			}
			return nil, other, fmt.Errorf("%w in another process (job %s)", ErrBusy, other.ID)
		}
		jr.release = rel
		s.failStale(ctx, org)
	}
	if err := s.st.SaveJob(ctx, jr.snapshot()); err != nil {
		jr.release()
		unclaim()
		return nil, nil, fmt.Errorf("save job: %w", err)
	}
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.byID[jr.id] = jr
	}
	s.mu.Unlock()
	if closed { // Close ran meanwhile: the saved job ends at once
		jr.end(store.JobCanceled, ErrClosed)
		jr.release()
		unclaim()
		return nil, nil, ErrClosed
	}
	return jr, nil, nil
}

// lockName is the store.Locker lease of an org's syncs.
func lockName(org string) string { return "sfsync.sync." + org }

// failStale marks the org's queued or running job records that no live
// job stands for as failed: with the org's lease held (and claimed in
// this process), no process runs them, so they are what a crashed process left behind
// (its lease expired). Errors are logged; the job starts anyway.
func (s *Syncer) failStale(ctx context.Context, org string) {
	jobs, err := s.st.Jobs(ctx, store.JobFilter{OrgID: org, Limit: 20})
	if err != nil {
		s.log.Warn("list jobs", "org", org, "err", err)
		return
	}
	for _, j := range jobs {
		if (j.State != store.JobQueued && j.State != store.JobRunning) || s.isLive(j.ID) {
			continue
		}
		j.State = store.JobFailed
		j.Error = "interrupted: the process running it stopped; the next sync resumes from the checkpoint"
		if j.FinishedAt.IsZero() {
			j.FinishedAt = s.cfg.Now().UTC()
		}
		if err := s.st.SaveJob(ctx, j); err != nil {
			s.log.Warn("save job", "job", j.ID, "err", err)
		}
	}
}

// runningElsewhere returns the newest queued or running job of org in
// the Store: the job another process holds the org's lease for. It
// returns nil when there is none yet (that process has taken the lease
// but not saved its job) or the Store cannot say. One listing, not one
// per state: the job moves from queued to running meanwhile.
func (s *Syncer) runningElsewhere(ctx context.Context, org string) *store.Job {
	jobs, err := s.st.Jobs(ctx, store.JobFilter{OrgID: org, Limit: 10})
	if err != nil {
		return nil
	}
	for _, j := range jobs { // newest first
		if j.State == store.JobQueued || j.State == store.JobRunning {
			return j
		}
	}
	return nil
}

// finish gives the org back: its lease, after the job's final record
// was saved (so another process that takes the lease sees the job
// ended), then this process's claim.
func (s *Syncer) finish(jr *jobRun) {
	jr.release()
	s.mu.Lock()
	delete(s.byOrg, jr.job.OrgID)
	delete(s.byID, jr.id)
	s.mu.Unlock()
	jr.cancel()
	close(jr.done)
}

// execute runs a job; ctx (or the job's own cancel) stops it.
func (s *Syncer) execute(ctx context.Context, jr *jobRun) {
	defer s.finish(jr)
	ctx, stop := mergeCancel(ctx, jr.ctx)
	defer stop()
	org := jr.job.OrgID
	log := s.log.With("org", org, "job", jr.id)

	jr.setState(store.JobRunning)
	log.Info("sync started", "mode", jr.job.Mode)
	err := s.runJob(ctx, jr, log)
	state := jobState(ctx, err, jr)
	jr.end(state, err)
	fin := jr.snapshot()
	attrs := []any{"state", fin.State, "took", fin.FinishedAt.Sub(fin.StartedAt).Round(time.Millisecond)}
	if fin.Error != "" {
		attrs = append(attrs, "err", fin.Error)
		s.stats.failure(ErrorRecord{OrgID: org, Source: "sync", JobID: jr.id, Text: fin.Error})
	}
	if state == store.JobSucceeded {
		log.Info("sync finished", attrs...)
	} else {
		log.Warn("sync finished", attrs...)
	}
}

// runJob syncs the job's objects, bounded in parallel. It returns the
// first object error (or a job-level error).
func (s *Syncer) runJob(ctx context.Context, jr *jobRun, log *slog.Logger) error {
	oc, err := s.orgClients(ctx, jr.job.OrgID)
	if err != nil {
		return err
	}
	objects := jr.job.Objects
	if len(objects) == 0 {
		if objects, err = s.selectObjects(ctx, oc); err != nil {
			return err
		}
	}
	jr.setObjects(objects)
	now, haveNow := oc.serverNow(ctx)
	if !haveNow {
		log.Warn("salesforce sent no usable Date header; windows follow the records' own timestamps")
	}

	sem := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	errs := make([]error, len(objects))
	for i, name := range objects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				jr.object(name).finish(errs[i])
				return
			}
			defer func() { <-sem }()
			run := jr.object(name)
			run.start(log)
			errs[i] = s.syncObject(ctx, oc, run, clock{now: now, ok: haveNow})
			run.finish(errs[i])
		}()
	}
	wg.Wait()
	return firstError(errs)
}

func firstError(errs []error) error {
	// A budget stop outranks the errors it causes in sibling objects.
	for _, e := range errs {
		if isBudget(e) {
			return e
		}
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func jobState(ctx context.Context, err error, jr *jobRun) store.JobState {
	switch {
	case err == nil:
		return store.JobSucceeded
	case isBudget(err):
		return store.JobPaused
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		return store.JobCanceled
	}
	return store.JobFailed
}

// isBudget reports an API-budget stop: the reserve share of the daily
// limit, or the limit itself.
func isBudget(err error) bool {
	return errors.Is(err, rest.ErrLimitReserve) || errors.Is(err, rest.ErrRequestLimit)
}

// mergeCancel returns a context done when either a or b is done, with
// a's values.
func mergeCancel(a, b context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(a)
	stop := context.AfterFunc(b, func() { cancel(context.Cause(b)) })
	return ctx, func() { stop(); cancel(nil) }
}

func newJobID(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return now.Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// validName accepts Salesforce API names: letters, digits and
// underscores, starting with a letter.
func validName(s string) bool {
	if s == "" || len(s) > 120 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r == '_' || r >= '0' && r <= '9'):
		default:
			return false
		}
	}
	return true
}

// notConnected reports an error meaning the org has no connection.
func notConnected(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, oauth.ErrNotConnected)
}
