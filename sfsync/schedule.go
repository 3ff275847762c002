package sfsync

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// receiptKeep is how long Run keeps outbound receipts: Salesforce retries
// a message for 24 hours (SALESFORCE.md 5.5), and the Store contract
// asks for at least 48.
const receiptKeep = 72 * time.Hour

// Run schedules work until ctx is done, then returns ctx's error: an
// incremental sync of every active connected org every Interval
// (jittered by up to a tenth, so that orgs do not all start at once),
// which also reconciles and refreshes calculated fields when those are
// due, and an hourly prune of old outbound receipts. An org whose sync
// is still running is tried again a minute (at most an Interval) later. Jobs that
// a stopped process left running are marked failed when Run starts.
// Jobs Run starts keep running after ctx is done; Close stops them.
func (s *Syncer) Run(ctx context.Context) error {
	s.recoverJobs(ctx)
	tick := min(s.cfg.Interval/4, 30*time.Second)
	tick = max(tick, 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	next := map[string]time.Time{}
	var pruned time.Time
	for {
		now := s.cfg.Now()
		s.scheduleOnce(ctx, now, next)
		if now.Sub(pruned) >= time.Hour {
			pruned = now
			if n, err := s.st.PruneReceipts(ctx, now.Add(-receiptKeep)); err != nil && ctx.Err() == nil {
				s.log.Warn("prune receipts", "err", err)
			} else if n > 0 {
				s.log.Info("pruned receipts", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *Syncer) scheduleOnce(ctx context.Context, now time.Time, next map[string]time.Time) {
	conns, err := s.cfg.Connections.Connections(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("list connections", "err", err)
		}
		return
	}
	for _, c := range conns {
		if c.Status != "" && c.Status != store.StatusActive {
			continue
		}
		at, ok := next[c.OrgID]
		if !ok {
			// First sight (a restart or a new org): soon, not all at once.
			next[c.OrgID] = now.Add(s.jitter())
			continue
		}
		if now.Before(at) {
			continue
		}
		// Another process sharing the Store (or this one, before a
		// restart) may have synced the org since: its timer fired earlier.
		// The next sync is then due an Interval after that one began.
		if last, ok := s.lastScheduledCover(ctx, c.OrgID); ok && now.Sub(last) < s.cfg.Interval {
			next[c.OrgID] = last.Add(s.cfg.Interval + s.jitter())
			s.log.Debug("scheduled sync postponed: the org was synced recently", "org", c.OrgID, "at", last)
			continue
		}
		job, err := s.Start(ctx, Request{OrgID: c.OrgID})
		retry := now.Add(min(time.Minute, s.cfg.Interval))
		switch {
		case errors.Is(err, ErrBusy):
			s.log.Debug("scheduled sync postponed: a sync of the org is running", "org", c.OrgID)
			next[c.OrgID] = retry
		case err != nil:
			s.log.Warn("scheduled sync", "org", c.OrgID, "err", err)
			next[c.OrgID] = retry
		default:
			s.log.Debug("scheduled sync started", "org", c.OrgID, "job", job.ID)
			next[c.OrgID] = now.Add(s.cfg.Interval + s.jitter())
		}
	}
}

// lastScheduledCover returns when the org was last tried in full: for
// each object (Config.Objects, else every object of the recent jobs) the
// creation of the newest job that included it, whichever process ran it
// and however it ended, and of those the oldest. A job with no object
// list (one that stopped before choosing its objects) counts for all.
func (s *Syncer) lastScheduledCover(ctx context.Context, org string) (time.Time, bool) {
	jobs, err := s.st.Jobs(ctx, store.JobFilter{OrgID: org, Limit: 50})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("list jobs", "org", org, "err", err)
		}
		return time.Time{}, false
	}
	var all time.Time
	newest := map[string]time.Time{}
	for _, j := range jobs { // newest first
		if len(j.Objects) == 0 {
			if all.IsZero() {
				all = j.CreatedAt
			}
			continue
		}
		for _, o := range j.Objects {
			o = strings.ToLower(o)
			if _, ok := newest[o]; !ok {
				newest[o] = j.CreatedAt
			}
		}
	}
	objects := s.cfg.Objects
	if len(objects) == 0 {
		objects = slices.Collect(maps.Keys(newest))
	}
	if len(objects) == 0 {
		return all, !all.IsZero()
	}
	var last time.Time
	for i, o := range objects {
		t := newest[strings.ToLower(o)]
		if all.After(t) {
			t = all
		}
		if t.IsZero() {
			return time.Time{}, false // never tried: due
		}
		if i == 0 || t.Before(last) {
			last = t
		}
	}
	return last, true
}

func (s *Syncer) jitter() time.Duration {
	return time.Duration(rand.Int64N(int64(s.cfg.Interval/10) + 1))
}

// recoverJobs marks jobs that a stopped process left queued or running
// as failed; their checkpoints make the next sync resume.
func (s *Syncer) recoverJobs(ctx context.Context) {
	for _, st := range []store.JobState{store.JobRunning, store.JobQueued} {
		jobs, err := s.st.Jobs(ctx, store.JobFilter{State: st})
		if err != nil {
			s.log.Warn("list jobs", "err", err)
			return
		}
		for _, j := range jobs {
			if s.isLive(j.ID) {
				continue
			}
			release, idle := s.orgIdle(ctx, j.OrgID)
			if !idle {
				continue
			}
			// Read the job again under the lease: its process may have
			// finished it between the listing and the lease.
			cur, err := s.st.Job(ctx, j.ID)
			if err != nil || (cur.State != store.JobRunning && cur.State != store.JobQueued) || s.isLive(j.ID) {
				release()
				continue
			}
			j = cur
			j.State = store.JobFailed
			j.Error = "interrupted: the process stopped; the next sync resumes from the checkpoint"
			if j.FinishedAt.IsZero() {
				j.FinishedAt = s.cfg.Now().UTC()
			}
			if err := s.st.SaveJob(ctx, j); err != nil {
				s.log.Warn("save job", "job", j.ID, "err", err)
			}
			release()
		}
	}
}

func (s *Syncer) isLive(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byID[id] != nil
}

// orgIdle reports that no process syncs the org: always true without a
// store.Locker, else when its lease can be taken; the caller then holds
// it until it calls release.
func (s *Syncer) orgIdle(ctx context.Context, org string) (release func(), idle bool) {
	l, ok := s.st.(store.Locker)
	if !ok {
		return func() {}, true
	}
	release, ok, err := l.TryLock(ctx, lockName(org), time.Minute)
	if err != nil || !ok {
		return nil, false
	}
	return release, true
}
