package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/sqlite"
)

// Sizes of the sync drills: enough pages and batches that a fault lands
// mid-extract, small enough to run in seconds.
const (
	drillRecords   = 2000
	drillBatch     = 100
	drillQueryPage = 200
)

// drillHarness is a connected harness with a SQLite file in d.dir,
// syncing only Account through REST in small batches.
func (d *drillEnv) harness(ctx context.Context, opts sftest.Options, cfg func(*sfsync.Config), sqliteOpts ...sqlite.Option) (*harness, error) {
	st, err := sqlite.Open(ctx, filepath.Join(d.dir, "drill.db"), sqliteOpts...)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	h, err := newHarness(harnessConfig{org: opts, store: st, engine: func(c *sfsync.Config) {
		c.Objects = []string{benchObject}
		c.BulkThreshold = -1
		c.BatchSize, c.QueryBatchSize = drillBatch, drillQueryPage
		if cfg != nil {
			cfg(c)
		}
	}})
	if err != nil {
		return nil, err
	}
	if err := fitSeed(h.sf.Org); err != nil {
		h.close()
		return nil, err
	}
	if err := h.connect(ctx); err != nil {
		h.close()
		return nil, err
	}
	return h, nil
}

// atDone calls f once, from the progress hook, when the job has
// written at least n records; it reports whether f ran.
func atDone(h *harness, n int64, f func()) *atomic.Bool {
	var ran atomic.Bool
	h.on(func(ev sfsync.Event) {
		if ev.Done >= n && ran.CompareAndSwap(false, true) {
			f()
		}
	})
	return &ran
}

// resumeCheck runs the sync that must finish the interrupted one and
// checks it resumed from the checkpoint: together both jobs wrote the
// table at most one batch more than once.
func resumeCheck(ctx context.Context, h *harness, first *store.Job) (string, error) {
	h.on(nil)
	h.sf.ResetCalls()
	second, err := h.run(ctx, sfsync.Request{}, store.JobSucceeded)
	if err != nil {
		return "", fmt.Errorf("resumed sync: %w", err)
	}
	if err := converged(ctx, h.sf.Org, h.st, h.org, benchObject); err != nil {
		return "", fmt.Errorf("after the resumed sync: %w", err)
	}
	d1, d2 := done(first), done(second)
	total := int64(h.sf.Org.Count(benchObject, false))
	if again := d1 + d2 - total; again > drillBatch || again < 0 {
		return "", fmt.Errorf("first job wrote %d, second %d of %d: %d written twice, want at most one batch (%d)", d1, d2, total, again, drillBatch)
	}
	return fmt.Sprintf("stopped after %d of %d rows, resumed with %d more (%d API calls), converged", d1, total, d2, h.sf.APICalls()), nil
}

func done(j *store.Job) int64 {
	var n int64
	for _, p := range j.Progress {
		n += p.Done
	}
	return n
}

// drillAPILimit: the org's daily API limit is reached mid-extract
// (REQUEST_LIMIT_EXCEEDED on every call). The job must stop without
// losing what it fetched, keep its checkpoint, and the next run after
// the limit resets must finish from there.
func drillAPILimit(ctx context.Context, d *drillEnv) (string, error) {
	h, err := d.harness(ctx, sftest.Options{RecordsPer: map[string]int{"User": 5, benchObject: drillRecords}, DailyAPILimit: 50_000}, nil)
	if err != nil {
		return "", err
	}
	defer h.close()
	ran := atDone(h, 5*drillBatch, h.sf.ExhaustAPILimit)
	first, err := h.sync.Sync(ctx, sfsync.Request{OrgID: h.org})
	if err != nil {
		return "", fmt.Errorf("sync: %w", err)
	}
	if !ran.Load() {
		return "", fmt.Errorf("the limit was never reached: job %s", first.State)
	}
	if first.State != store.JobPaused && first.State != store.JobFailed {
		return "", fmt.Errorf("job ended %s with the limit exhausted, want paused or failed", first.State)
	}
	if first.State == store.JobFailed && !strings.Contains(strings.ToLower(first.Error), "limit") {
		return "", fmt.Errorf("job failed with %q: does not name the API limit", first.Error)
	}
	st, err := h.st.SyncState(ctx, h.org, benchObject)
	if err != nil || st.Checkpoint == "" {
		return "", fmt.Errorf("no checkpoint after the stop: %+v, %v", st, err)
	}
	stored, _ := h.st.Count(ctx, h.org, benchObject, false)
	if stored != done(first) {
		return "", fmt.Errorf("job reports %d written, the store holds %d", done(first), stored)
	}
	status := fmt.Sprintf("job %s (%q); ", first.State, first.Error)
	h.sf.SetAPIUsage(0) // the 24-hour window moved on
	msg, err := resumeCheck(ctx, h, first)
	return status + msg, err
}

// drillAPIReserve: usage passes the engine's LimitReserve (90%) mid-sync;
// the job pauses before the org's other integrations are starved, and
// resumes on the next run once usage is low again.
func drillAPIReserve(ctx context.Context, d *drillEnv) (string, error) {
	const limit = 50_000
	h, err := d.harness(ctx, sftest.Options{RecordsPer: map[string]int{"User": 5, benchObject: drillRecords}, DailyAPILimit: limit},
		func(c *sfsync.Config) { c.LimitReserve = 0.9 })
	if err != nil {
		return "", err
	}
	defer h.close()
	ran := atDone(h, 5*drillBatch, func() { h.sf.SetAPIUsage(limit * 95 / 100) })
	first, err := h.sync.Sync(ctx, sfsync.Request{OrgID: h.org})
	if err != nil {
		return "", fmt.Errorf("sync: %w", err)
	}
	if !ran.Load() || first.State != store.JobPaused {
		return "", fmt.Errorf("job ended %s (%q) at 95%% usage with a 90%% reserve, want paused", first.State, first.Error)
	}
	h.sf.SetAPIUsage(0)
	msg, err := resumeCheck(ctx, h, first)
	return fmt.Sprintf("job paused (%q); ", first.Error) + msg, err
}

// drillRevoked: access tokens expire and the refresh token is revoked
// mid-sync. The job must stop with the login-required error, the
// connection must say a login is needed, and after a new connect the
// next sync resumes from the checkpoint.
func drillRevoked(ctx context.Context, d *drillEnv) (string, error) {
	h, err := d.harness(ctx, sftest.Options{RecordsPer: map[string]int{"User": 5, benchObject: drillRecords}}, nil)
	if err != nil {
		return "", err
	}
	defer h.close()
	conn, err := h.mgr.Connection(ctx, h.org)
	if err != nil {
		return "", err
	}
	refresh, access := conn.RefreshToken.Reveal(), conn.AccessToken.Reveal()
	var ran atomic.Bool
	var stopErr atomic.Value // the error of the object's failed event
	h.on(func(ev sfsync.Event) {
		if ev.Done >= 5*drillBatch && ran.CompareAndSwap(false, true) {
			h.sf.RevokeRefreshToken(refresh)
			h.sf.ExpireAccessTokens()
		}
		if ev.Err != nil && (ev.Phase == "failed" || ev.Phase == "paused") {
			stopErr.Store(ev.Err)
		}
	})
	first, err := h.sync.Sync(ctx, sfsync.Request{OrgID: h.org})
	if err != nil {
		return "", fmt.Errorf("sync: %w", err)
	}
	if !ran.Load() {
		return "", fmt.Errorf("the tokens were never revoked: job %s", first.State)
	}
	if first.State != store.JobFailed && first.State != store.JobPaused {
		return "", fmt.Errorf("job ended %s with the refresh token revoked", first.State)
	}
	// The engine must let its caller branch on the cause: the failure
	// event's error must be oauth.ErrLoginRequired (errors.Is). The rest
	// of the drill runs either way, so that one report says everything.
	var defect error
	evErr, _ := stopErr.Load().(error)
	if !errors.Is(evErr, oauth.ErrLoginRequired) {
		defect = fmt.Errorf("the sync's failure (Event.Err of phase failed) is not errors.Is(err, oauth.ErrLoginRequired): %v", evErr)
	}
	if first.Error == "" {
		return "", errors.New("the job records no error")
	}
	texts := []string{first.Error}
	for _, e := range h.sync.Stats().RecentErrors {
		texts = append(texts, e.Text)
	}
	for _, t := range texts {
		if strings.Contains(t, refresh) || strings.Contains(t, access) {
			return "", errors.New("a job or recent error quotes a token")
		}
	}
	conn, err = h.mgr.Connection(ctx, h.org)
	if err != nil {
		return "", err
	}
	if conn.Status != store.StatusLoginRequired {
		return "", fmt.Errorf("connection status %q after the revoke, want %q", conn.Status, store.StatusLoginRequired)
	}
	status := fmt.Sprintf("job %s, connection %s", first.State, conn.Status)
	if defect == nil {
		status += ", errors.Is(err, oauth.ErrLoginRequired)"
	}
	if !strings.Contains(first.Error, "login required") {
		status += fmt.Sprintf(" (note: the job's error text %q does not say that a login is required)", first.Error)
	}
	if err := h.connect(ctx); err != nil {
		return "", fmt.Errorf("new connect: %w", err)
	}
	msg, err := resumeCheck(ctx, h, first)
	if err != nil {
		return "", errors.Join(defect, err)
	}
	if defect != nil {
		return "", fmt.Errorf("%w (otherwise: %s; reconnected; %s)", defect, status, msg)
	}
	return status + "; reconnected; " + msg, nil
}
