package sfsync

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/salesforce-sync/metadata"
	"github.com/sfsync/salesforce-sync/rest"
	"github.com/sfsync/salesforce-sync/soql"
	"github.com/sfsync/salesforce-sync/store"
)

// maxLocatorRestarts bounds how often a full extract restarts from its
// checkpoint after INVALID_QUERY_LOCATOR.
const maxLocatorRestarts = 3

// writeTimeout bounds a store write that finishes after the job was
// canceled, so that fetched batches are committed on shutdown.
const writeTimeout = time.Minute

// errPartialListing means an Id listing for reconcile returned fewer
// records than the object has; nothing is marked deleted.
var errPartialListing = errors.New("partial Id listing")

// objectInfo is what the engine knows of one object of an org: its
// describe and the stored table it maps to.
type objectInfo struct {
	desc   *metadata.SObject
	table  store.Table // as stored (column types the Store holds)
	mapper *rowMapper
	ts     string // SystemModstamp, else LastModifiedDate, else ""
	hasDel bool   // the object has IsDeleted (queryAll sees its deletes)
}

// prepare describes an object, evolves its table (a new field becomes a
// column, no reload), stores the describe, and caches the result.
func (s *Syncer) prepare(ctx context.Context, oc *orgClients, name string) (*objectInfo, error) {
	desc, err := oc.meta.Describe(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", name, err)
	}
	want := metadata.Table(desc)
	before, _ := s.st.Table(ctx, want.Name)
	if err := s.st.EnsureTable(ctx, want); err != nil {
		return nil, fmt.Errorf("ensure table %s: %w", want.Name, err)
	}
	got, err := s.st.Table(ctx, want.Name)
	if err != nil {
		got = want
	}
	if err := s.st.SaveObjectMeta(ctx, oc.orgID, metadata.Meta(desc)); err != nil {
		return nil, fmt.Errorf("save describe %s: %w", name, err)
	}
	if len(before.Columns) > 0 {
		var added []string
		for _, c := range want.Columns {
			if _, ok := before.Column(c.Name); !ok {
				added = append(added, c.Name)
			}
		}
		if len(added) > 0 {
			s.log.Info("columns added", "org", oc.orgID, "object", name, "columns", added)
		}
	}
	info := &objectInfo{desc: desc, table: got, mapper: newRowMapper(got)}
	for _, f := range []string{store.FieldSystemModstamp, store.FieldLastModifiedDate} {
		if _, ok := desc.Field(f); ok {
			info.ts = f
			break
		}
	}
	_, info.hasDel = desc.Field(store.FieldIsDeleted)
	s.mu.Lock()
	if s.objects == nil {
		s.objects = map[string]*objectInfo{}
	}
	s.objects[oc.orgID+"/"+strings.ToLower(name)] = info
	s.mu.Unlock()
	return info, nil
}

// cachedObject returns the object info a sync or an earlier message left.
func (s *Syncer) cachedObject(orgID, name string) *objectInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.objects[orgID+"/"+strings.ToLower(name)]
}

// objectSync is one object's sync within a job.
type objectSync struct {
	s    *Syncer
	oc   *orgClients
	run  *objRun
	clk  clock
	info *objectInfo
	st   store.SyncState

	leftOut   int    // values the Store refused, left out of their rows
	firstLost string // the first of them, "Id field"
}

// noteLeftOut makes values left out of their rows visible in the
// object's progress (and so in the job record and its events), besides
// the log and Stats.
func (o *objectSync) noteLeftOut(lost []leftOut) {
	if len(lost) == 0 {
		return
	}
	if o.firstLost == "" {
		o.firstLost = lost[0].id + " field " + lost[0].column
	}
	o.leftOut += len(lost)
	msg := fmt.Sprintf("%d value(s) left out: they do not fit their columns (first: record %s)", o.leftOut, o.firstLost)
	o.run.update(true, func(p *store.ObjectProgress) { p.Error = msg })
}

func (s *Syncer) syncObject(ctx context.Context, oc *orgClients, run *objRun, clk clock) error {
	info, err := s.prepare(ctx, oc, run.name)
	if err != nil {
		return err
	}
	st, err := s.st.SyncState(ctx, oc.orgID, info.table.Name)
	if err != nil {
		return fmt.Errorf("sync state %s: %w", run.name, err)
	}
	if !clk.ok {
		// The job began without Salesforce's clock (its request failed):
		// try again rather than fall back to the records' own timestamps.
		if now, ok := oc.serverNow(ctx); ok {
			clk = clock{now: now, ok: true}
		}
	}
	o := &objectSync{s: s, oc: oc, run: run, clk: clk, info: info, st: st}
	full := st.Checkpoint != "" || st.Watermark.IsZero() || run.mode() == ModeFull || info.ts == ""
	// Deletes older than the recycle bin's horizon are invisible to
	// queryAll (SALESFORCE.md 2.5): compare Id sets instead.
	stale := clk.ok && !st.Watermark.IsZero() && clk.now.Sub(st.Watermark) > RecycleBinHorizon
	// A full extract over synced rows sees every live record but marks
	// nothing deleted by itself: compare Id sets after it too, so that a
	// full sync also drops the rows of records deleted for good.
	refull := full && !st.Watermark.IsZero()
	if full {
		err = o.full(ctx)
	} else {
		err = o.incremental(ctx)
	}
	if err != nil {
		return err
	}
	if stale || refull || s.due(s.cfg.ReconcileInterval, o.st.ReconciledAt, s.cfg.Now()) {
		if err := o.reconcile(ctx); err != nil {
			return err
		}
	}
	if !full && s.due(s.cfg.CalculatedInterval, o.st.CalculatedAt, s.cfg.Now()) {
		return o.calculated(ctx)
	}
	return nil
}

// due reports whether a periodic task with the given interval (0
// disables) last done at last is due at now.
func (s *Syncer) due(every time.Duration, last, now time.Time) bool {
	return every > 0 && now.Sub(last) >= every
}

func (o *objectSync) saveState(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	o.st.UpdatedAt = o.s.cfg.Now().UTC()
	if err := o.s.st.SaveSyncState(ctx, o.st); err != nil {
		return fmt.Errorf("save sync state %s: %w", o.run.name, err)
	}
	return nil
}

// full extracts every record, ordered by Id, resuming after the
// checkpoint of an interrupted extract. The watermark it saves is
// Salesforce's time when the extract began, minus the lag: records
// changed while it ran are fetched again by the next incremental sync.
func (o *objectSync) full(ctx context.Context) error {
	cp := parseCheckpoint(o.st.Checkpoint)
	start := cp.start
	if start.IsZero() && o.clk.ok {
		start = o.clk.now
	}
	if start.IsZero() && !o.clk.ok && o.info.ts != "" {
		// No server clock: the newest timestamp already in the object is
		// a time Salesforce's clock has passed, so every change made while
		// the extract runs is newer than it. (The newest record read by
		// the extract is not: a record passed early may change before a
		// later one is read.)
		var err error
		if start, err = o.newestStamp(ctx); err != nil {
			return err
		}
	}
	after := cp.id
	if after != "" {
		o.run.log.Info("resuming full extract", "after", after)
	}
	o.run.phase("count")
	var where soql.Expr
	if after != "" {
		where = soql.Cmp(store.FieldID, ">", soql.ID(after))
	}
	n, err := o.oc.soql.Count(ctx, o.run.name, where, false)
	if err != nil {
		return fmt.Errorf("count %s: %w", o.run.name, err)
	}
	o.run.setTotal(int64(n))
	o.run.phase("extract")

	var res writeResult
	for attempt := 0; ; attempt++ {
		seq := o.extract(ctx, soql.Extract{Object: o.run.name, AfterID: after}, n)
		r, err := o.write(ctx, seq, func(ctx context.Context, lastID string) error {
			o.st.Checkpoint = formatCheckpoint(lastID, start)
			return o.saveState(ctx)
		})
		res.merge(r)
		if r.ordered && r.lastID != "" {
			after = r.lastID
		}
		if errors.Is(err, rest.ErrInvalidQueryLocator) && attempt < maxLocatorRestarts {
			o.run.log.Warn("query locator expired; restarting from checkpoint", "after", after)
			continue
		}
		if err != nil {
			return err
		}
		break
	}

	if !o.st.Watermark.IsZero() {
		// A re-extract over synced data: the deletes since the old watermark.
		if _, err := o.deletes(ctx, o.window(o.st.Watermark)); err != nil {
			return err
		}
	}
	var wm time.Time
	switch {
	case !start.IsZero():
		wm = start.Add(-o.s.cfg.Lag)
	case !res.maxTS.IsZero():
		wm = res.maxTS.Add(-o.s.cfg.Lag)
	default:
		// An empty object read without a server clock: the earliest
		// time, so that the next sync is incremental and sees everything.
		wm = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.st.Watermark.IsZero() {
		// A first extract into an empty table: nothing to reconcile yet.
		o.st.ReconciledAt = o.s.cfg.Now().UTC()
	}
	o.st.Watermark = maxTime(o.st.Watermark, wm)
	o.st.Checkpoint = ""
	o.st.CalculatedAt = o.s.cfg.Now().UTC()
	return o.saveState(ctx)
}

// incremental fetches the records changed in (watermark - lookback,
// now - lag], then the deletes of the same window.
func (o *objectSync) incremental(ctx context.Context) error {
	upper := o.clk.now.Add(-o.s.cfg.Lag)
	if o.clk.ok && !upper.After(o.st.Watermark) {
		return nil // the window is empty: nothing can be newer
	}
	var floor time.Time
	if !o.clk.ok {
		// Without a server clock the window has no upper bound; the
		// next one starts from what the object held before this one
		// (see full), not from the newest record it read.
		var err error
		if floor, err = o.newestStamp(ctx); err != nil {
			return err
		}
	}
	where := o.window(o.st.Watermark)
	o.run.phase("count")
	n, err := o.oc.soql.Count(ctx, o.run.name, where, false)
	if err != nil {
		return fmt.Errorf("count %s: %w", o.run.name, err)
	}
	o.run.setTotal(int64(n))
	o.run.phase("changes")
	if _, err := o.write(ctx, o.extract(ctx, soql.Extract{Object: o.run.name, Where: where}, n), nil); err != nil {
		return err
	}
	if _, err := o.deletes(ctx, where); err != nil {
		return err
	}
	wm := upper
	if !o.clk.ok {
		wm = floor.Add(-o.s.cfg.Lag)
	}
	if !wm.After(o.st.Watermark) {
		return nil // saved only when it advances
	}
	o.st.Watermark = wm
	return o.saveState(ctx)
}

// newestStamp returns the newest timestamp of the object's records,
// deleted ones included (zero for an empty object): one query.
func (o *objectSync) newestStamp(ctx context.Context) (time.Time, error) {
	q, err := soql.Select{Fields: []string{store.FieldID, o.info.ts}, From: o.run.name,
		OrderBy: []soql.Order{{Field: o.info.ts, Desc: true, NullsLast: true}}, Limit: 1}.Build()
	if err != nil {
		return time.Time{}, fmt.Errorf("newest %s: %w", o.run.name, err)
	}
	cur := o.oc.soql.Query(ctx, q)
	if o.info.hasDel {
		cur = o.oc.soql.QueryAll(ctx, q)
	}
	var newest time.Time
	for rec, err := range cur.Records() {
		if err != nil {
			return time.Time{}, fmt.Errorf("newest %s: %w", o.run.name, err)
		}
		newest = maxTime(newest, o.info.mapper.timestamp(rec, o.info.ts))
	}
	return newest, nil
}

// window is the incremental filter: ts > from - lookback and, with a
// server clock, ts <= now - lag.
func (o *objectSync) window(from time.Time) soql.Expr {
	lower := soql.Cmp(o.info.ts, ">", soql.DateTime(from.Add(-o.s.cfg.Lookback)))
	if !o.clk.ok {
		return lower
	}
	return soql.And(lower, soql.Cmp(o.info.ts, "<=", soql.DateTime(o.clk.now.Add(-o.s.cfg.Lag))))
}

// extract picks REST or Bulk by the expected count and the fields each
// API can select.
func (o *objectSync) extract(ctx context.Context, e soql.Extract, count int) iter.Seq2[*soql.Record, error] {
	th := o.s.cfg.BulkThreshold
	if th > 0 && count >= th {
		if len(e.Fields) == 0 {
			e.Fields = metadata.BulkFields(o.info.desc)
		}
		return o.oc.soql.BulkExtract(ctx, e)
	}
	if len(e.Fields) == 0 {
		e.Fields = metadata.RESTFields(o.info.desc)
	}
	return o.oc.soql.Extract(ctx, e)
}

// deletes marks the records queryAll reports deleted in the window. It
// returns the newest deletion timestamp seen.
func (o *objectSync) deletes(ctx context.Context, window soql.Expr) (time.Time, error) {
	if !o.info.hasDel || o.info.ts == "" {
		return time.Time{}, nil
	}
	o.run.phase("deletes")
	where := soql.And(soql.Cmp(store.FieldIsDeleted, "=", soql.Bool(true)), window)
	seq := o.oc.soql.Extract(ctx, soql.Extract{
		Object: o.run.name, Fields: []string{store.FieldID, o.info.ts}, Where: where, All: true,
	})
	var newest time.Time
	var rows []store.Tombstone
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
		defer cancel()
		res, err := o.s.st.Delete(wctx, store.Delete{OrgID: o.oc.orgID, Object: o.info.table.Name, Rows: rows})
		if err != nil {
			return fmt.Errorf("delete %s rows: %w", o.run.name, err)
		}
		o.run.add(0, int64(res.Deleted))
		rows = rows[:0]
		return nil
	}
	for rec, err := range seq {
		if err != nil {
			if ferr := flush(); ferr != nil {
				return newest, ferr
			}
			return newest, fmt.Errorf("deleted %s: %w", o.run.name, err)
		}
		ts := o.info.mapper.timestamp(rec, o.info.ts)
		newest = maxTime(newest, ts)
		rows = append(rows, store.Tombstone{ID: rec.ID(), Modstamp: ts})
		if len(rows) >= o.s.cfg.BatchSize {
			if err := flush(); err != nil {
				return newest, err
			}
		}
	}
	return newest, flush()
}

// reconcile finds rows whose records Salesforce no longer has at all
// (purged from the recycle bin, or hard-deleted) by comparing Id sets,
// and marks them deleted. A row written after the comparison began is
// kept: its tombstone carries the comparison's start time.
func (o *objectSync) reconcile(ctx context.Context) error {
	o.run.phase("reconcile")
	n, err := o.oc.soql.Count(ctx, o.run.name, nil, false)
	if err != nil {
		return fmt.Errorf("count %s: %w", o.run.name, err)
	}
	remote := make(map[string]struct{}, n)
	for rec, err := range o.extract(ctx, soql.Extract{Object: o.run.name, Fields: []string{store.FieldID}}, n) {
		if err != nil {
			return fmt.Errorf("reconcile %s: %w", o.run.name, err)
		}
		remote[rec.ID()] = struct{}{}
	}
	// A listing that ended early without an error must not delete rows:
	// every record that existed throughout the listing is in both counts,
	// so a complete listing holds at least the smaller of them.
	after, err := o.oc.soql.Count(ctx, o.run.name, nil, false)
	if err != nil {
		return fmt.Errorf("count %s: %w", o.run.name, err)
	}
	if least := min(n, after); len(remote) < least {
		// Skipped, not failed: the rest of the sync stands, and
		// ReconciledAt stays, so the next sync tries again.
		err := fmt.Errorf("reconcile %s skipped: %w: the Id listing returned %d records, the object has at least %d",
			o.run.name, errPartialListing, len(remote), least)
		o.run.log.Warn("reconcile skipped", "err", err)
		o.s.stats.failure(ErrorRecord{OrgID: o.oc.orgID, Source: "sync", JobID: o.run.jr.id, Text: err.Error()})
		return nil
	}
	local, err := o.s.st.IDs(ctx, o.oc.orgID, o.info.table.Name)
	if err != nil {
		return fmt.Errorf("reconcile %s: %w", o.run.name, err)
	}
	var mark time.Time
	if o.clk.ok {
		mark = o.clk.now
	}
	var rows []store.Tombstone
	for _, id := range local {
		if _, ok := remote[id]; !ok {
			rows = append(rows, store.Tombstone{ID: id, Modstamp: mark})
		}
	}
	for chunk := range slices.Chunk(rows, o.s.cfg.BatchSize) {
		res, err := o.s.st.Delete(ctx, store.Delete{OrgID: o.oc.orgID, Object: o.info.table.Name, Rows: chunk})
		if err != nil {
			return fmt.Errorf("reconcile %s: %w", o.run.name, err)
		}
		o.run.add(0, int64(res.Deleted))
	}
	if len(rows) > 0 {
		o.run.log.Info("reconciled purged deletes", "missing", len(rows))
	}
	o.st.ReconciledAt = o.s.cfg.Now().UTC()
	return o.saveState(ctx)
}

// calculated re-reads the calculated fields (formulas, roll-ups), which
// change without moving SystemModstamp, and updates only those columns
// (and the timestamp, for the guard) of the rows already stored.
func (o *objectSync) calculated(ctx context.Context) error {
	fields := metadata.CalculatedFields(o.info.desc)
	if len(fields) == 0 {
		return nil
	}
	o.run.phase("calculated")
	ids, err := o.s.st.IDs(ctx, o.oc.orgID, o.info.table.Name)
	if err != nil {
		return fmt.Errorf("calculated %s: %w", o.run.name, err)
	}
	have := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		have[id] = struct{}{}
	}
	// The timestamp comes along so that the Store's guard applies: a row
	// deleted, or written newer by a message, while the refresh ran is
	// not overwritten with older values (nor undeleted). It is the
	// record's current timestamp, so storing it changes nothing else.
	sel := []string{store.FieldID}
	if o.info.ts != "" {
		sel = append(sel, o.info.ts)
	}
	sel = append(sel, fields...)
	seq := o.extract(ctx, soql.Extract{Object: o.run.name, Fields: sel}, len(ids))
	filtered := func(yield func(*soql.Record, error) bool) {
		for rec, err := range seq {
			if err == nil {
				if _, ok := have[rec.ID()]; !ok {
					continue
				}
			}
			if !yield(rec, err) {
				return
			}
		}
	}
	if _, err := o.write(ctx, filtered, nil); err != nil {
		return err
	}
	o.st.CalculatedAt = o.s.cfg.Now().UTC()
	return o.saveState(ctx)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// checkpoint is the position of a full extract in progress.
type checkpoint struct {
	id    string    // the last Id committed
	start time.Time // Salesforce's time when the extract began
}

// formatCheckpoint encodes a checkpoint in SyncState.Checkpoint: the last
// committed Id, then a space and the extract's start time (RFC 3339),
// which becomes the watermark when it ends.
func formatCheckpoint(id string, start time.Time) string {
	if start.IsZero() {
		return id
	}
	return id + " " + start.UTC().Format(time.RFC3339Nano)
}

func parseCheckpoint(s string) checkpoint {
	id, ts, _ := strings.Cut(strings.TrimSpace(s), " ")
	cp := checkpoint{id: strings.TrimSpace(id)}
	if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		cp.start = t.UTC()
	}
	return cp
}
