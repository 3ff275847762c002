package sfsync

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/store"
)

// How often a running job is written to the Store and logged.
const (
	jobSaveEvery = time.Second
	logEvery     = 5 * time.Second
)

// jobRun is a job while it runs: its live record, saved to the Store at
// phase changes and at most every jobSaveEvery otherwise.
type jobRun struct {
	s      *Syncer
	id     string
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	// release gives back the org's store.Locker lease (a no-op without
	// one); finish calls it once the final record is saved.
	release func()

	mu      sync.Mutex
	job     store.Job
	version int // bumped by every change
	saved   time.Time
	pending bool // a delayed write of the latest change is scheduled
	ended   bool // the final record is written (or being written)

	saveMu       sync.Mutex
	savedVersion int
}

func (jr *jobRun) snapshot() *store.Job {
	jr.mu.Lock()
	defer jr.mu.Unlock()
	return jr.copyLocked()
}

func (jr *jobRun) copyLocked() *store.Job {
	j := jr.job
	j.Objects = slices.Clone(j.Objects)
	j.Progress = slices.Clone(j.Progress)
	return &j
}

func (jr *jobRun) setState(st store.JobState) {
	jr.mu.Lock()
	jr.job.State = st
	if st == store.JobRunning {
		jr.job.StartedAt = jr.s.cfg.Now().UTC()
	}
	jr.mu.Unlock()
	jr.save(true)
}

func (jr *jobRun) setObjects(names []string) {
	jr.mu.Lock()
	jr.job.Objects = slices.Clone(names)
	jr.job.Progress = make([]store.ObjectProgress, len(names))
	for i, n := range names {
		jr.job.Progress[i] = store.ObjectProgress{Object: n, Phase: "queued"}
	}
	jr.mu.Unlock()
	jr.save(true)
}

func (jr *jobRun) end(st store.JobState, err error) {
	jr.mu.Lock()
	jr.job.State = st
	if err != nil {
		jr.job.Error = err.Error()
	}
	now := jr.s.cfg.Now().UTC()
	if jr.job.StartedAt.IsZero() {
		jr.job.StartedAt = now
	}
	jr.job.FinishedAt = now
	jr.ended = true
	jr.mu.Unlock()
	jr.save(true)
}

// save writes the job when forced or when jobSaveEvery passed since the
// last write. Snapshots are written in order; an older one never
// overwrites a newer one.
func (jr *jobRun) save(force bool) {
	jr.mu.Lock()
	jr.version++
	now := time.Now()
	if !force && now.Sub(jr.saved) < jobSaveEvery {
		// Written a little later, so that the stored record is never
		// more than about jobSaveEvery behind, even when no further
		// change comes for a while (a long page or Bulk poll).
		if !jr.pending {
			jr.pending = true
			time.AfterFunc(jobSaveEvery-now.Sub(jr.saved), jr.flush)
		}
		jr.mu.Unlock()
		return
	}
	jr.saved = now
	v := jr.version
	snap := jr.copyLocked()
	jr.mu.Unlock()
	jr.write(v, snap)
}

// flush writes the latest change that save put off, unless the final
// record has been written meanwhile.
func (jr *jobRun) flush() {
	jr.mu.Lock()
	jr.pending = false
	if jr.ended {
		jr.mu.Unlock()
		return
	}
	jr.saved = time.Now()
	v := jr.version
	snap := jr.copyLocked()
	jr.mu.Unlock()
	jr.write(v, snap)
}

// write saves snapshot v of the job unless a newer one was saved.
func (jr *jobRun) write(v int, snap *store.Job) {
	jr.saveMu.Lock()
	defer jr.saveMu.Unlock()
	if v <= jr.savedVersion {
		return
	}
	jr.savedVersion = v
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := jr.s.st.SaveJob(ctx, snap); err != nil {
		jr.s.log.Warn("save job", "job", jr.id, "err", err)
	}
}

// object returns the progress handle of one object of the job.
func (jr *jobRun) object(name string) *objRun {
	return &objRun{jr: jr, name: name}
}

// objRun updates the progress of one object.
type objRun struct {
	jr      *jobRun
	name    string
	log     *slog.Logger
	started time.Time
	logged  time.Time
	err     error // the error the object finished with, for Event.Err
}

func (o *objRun) orgID() string { return o.jr.job.OrgID }

func (o *objRun) mode() string { return o.jr.job.Mode }

func (o *objRun) start(log *slog.Logger) {
	o.log = log.With("object", o.name)
	o.started = time.Now()
	o.logged = o.started
	o.update(true, func(p *store.ObjectProgress) {
		p.Phase = "describe"
		p.StartedAt = o.jr.s.cfg.Now().UTC()
	})
	o.log.Info("object started")
}

func (o *objRun) phase(ph string) {
	o.update(true, func(p *store.ObjectProgress) { p.Phase = ph })
}

func (o *objRun) setTotal(n int64) {
	o.update(false, func(p *store.ObjectProgress) { p.Total = n })
}

func (o *objRun) add(done, deleted int64) {
	o.update(false, func(p *store.ObjectProgress) {
		p.Done += done
		p.Deleted += deleted
	})
}

func (o *objRun) finish(err error) {
	ph := "done"
	switch {
	case err == nil:
	case isBudget(err):
		ph = "paused"
	case errors.Is(err, context.Canceled):
		ph = "canceled"
	default:
		ph = "failed"
	}
	o.err = err
	p := o.update(true, func(p *store.ObjectProgress) {
		p.Phase = ph
		if err != nil {
			p.Error = errorText(err)
		}
		p.FinishedAt = o.jr.s.cfg.Now().UTC()
	})
	if o.log == nil {
		return
	}
	attrs := []any{"phase", ph, "done", p.Done, "deleted", p.Deleted, "took", time.Since(o.started).Round(time.Millisecond)}
	if err != nil {
		o.log.Warn("object finished", append(attrs, "err", err)...)
		return
	}
	o.log.Info("object finished", attrs...)
}

// update changes the object's progress, emits an event, logs at most
// every logEvery, and saves the job (always when force).
func (o *objRun) update(force bool, f func(*store.ObjectProgress)) store.ObjectProgress {
	jr := o.jr
	jr.mu.Lock()
	i := slices.IndexFunc(jr.job.Progress, func(p store.ObjectProgress) bool { return p.Object == o.name })
	if i < 0 {
		jr.job.Progress = append(jr.job.Progress, store.ObjectProgress{Object: o.name})
		i = len(jr.job.Progress) - 1
	}
	f(&jr.job.Progress[i])
	p := jr.job.Progress[i]
	org := jr.job.OrgID
	jr.mu.Unlock()

	rate := 0.0
	if el := time.Since(o.started).Seconds(); !o.started.IsZero() && el > 0 {
		rate = float64(p.Done) / el
	}
	if cb := jr.s.cfg.Progress; cb != nil {
		ev := Event{JobID: jr.id, OrgID: org, Object: o.name, Phase: p.Phase, Done: p.Done,
			Total: p.Total, Deleted: p.Deleted, Rate: rate, At: time.Now()}
		switch {
		case o.err != nil:
			ev.Err = o.err // keeps the chain: errors.Is(ev.Err, oauth.ErrLoginRequired)
		case p.Error != "":
			ev.Err = errors.New(p.Error)
		}
		cb(ev)
	}
	if o.log != nil && !force && time.Since(o.logged) >= logEvery {
		o.logged = time.Now()
		o.log.Info("object progress", "phase", p.Phase, "done", p.Done, "total", p.Total, "rate", int(rate))
	}
	jr.save(force)
	return p
}

// errorText is the text of an object's failure in its job record. A
// connection that needs a new login says so first, since that is what an
// operator must act on.
func errorText(err error) string {
	if errors.Is(err, oauth.ErrLoginRequired) {
		return "login required: connect the org again (" + err.Error() + ")"
	}
	return err.Error()
}
