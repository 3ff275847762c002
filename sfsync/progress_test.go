package sfsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsync/salesforce-sync/oauth"
	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
)

// syncBuffer is a log sink shared by the engine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestProgressKeptCurrent: while a full extract runs, the job record in
// the Store shows its per-object progress (not only at the end), events
// carry the phase, the count done, the total and a rate, and the object's
// start and end are logged at Info.
func TestProgressKeptCurrent(t *testing.T) {
	const contacts = 1500
	var logs syncBuffer
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Contact": contacts}}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact"}
		c.BatchSize, c.QueryBatchSize = 100, 200
		c.BulkThreshold = -1
		c.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	e.connect()
	e.sf.SetLatency(150 * time.Millisecond) // about 8 pages: over a second
	ctx := context.Background()
	job, err := e.sync.Start(ctx, sfsync.Request{OrgID: e.org})
	if err != nil {
		t.Fatal(err)
	}
	var midway *store.Job // a stored record showing partial progress
	for {
		live, err := e.sync.Job(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if live.State != store.JobQueued && live.State != store.JobRunning {
			break
		}
		stored, err := e.st.Job(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stored.State == store.JobRunning && len(stored.Progress) == 1 &&
			stored.Progress[0].Done > 0 && stored.Progress[0].Done < contacts {
			midway = stored
		}
		time.Sleep(20 * time.Millisecond)
	}
	fin, err := e.sync.Wait(ctx, job.ID)
	if err != nil || fin.State != store.JobSucceeded {
		t.Fatalf("job %+v, %v", fin, err)
	}
	if midway == nil {
		t.Error("the stored job record never showed the extract under way")
	} else if midway.Progress[0].Total != contacts {
		t.Errorf("stored progress midway %+v: want Total %d", midway.Progress[0], contacts)
	}
	stored, err := e.st.Job(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p := stored.Progress; len(p) != 1 || p[0].Object != "Contact" || p[0].Phase != "done" ||
		p[0].Done != contacts || p[0].Total != contacts || p[0].StartedAt.IsZero() || p[0].FinishedAt.IsZero() {
		t.Fatalf("final stored progress %+v", p)
	}

	e.mu.Lock()
	events := append([]sfsync.Event(nil), e.events...)
	e.mu.Unlock()
	var last int64
	sawTotal, sawRate, sawExtract := false, false, false
	var end sfsync.Event
	for _, ev := range events {
		if ev.JobID != job.ID || ev.Object != "Contact" {
			continue
		}
		if ev.Done < last {
			t.Fatalf("Done went back from %d to %d", last, ev.Done)
		}
		last = ev.Done
		sawTotal = sawTotal || ev.Total == contacts
		sawRate = sawRate || ev.Rate > 0
		sawExtract = sawExtract || ev.Phase == "extract" && ev.Done > 0 && ev.Done < contacts
		end = ev
	}
	if !sawTotal || !sawRate || !sawExtract || end.Phase != "done" || end.Done != contacts {
		t.Fatalf("events: total %v rate %v extract %v, last %+v", sawTotal, sawRate, sawExtract, end)
	}

	seen := map[string]bool{}
	for line := range strings.SplitSeq(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["object"] != "Contact" || rec["job"] != job.ID {
			continue
		}
		if rec["level"] == "INFO" {
			seen[rec["msg"].(string)] = true
		}
	}
	if !seen["object started"] || !seen["object finished"] {
		t.Fatalf("Info lines for Contact: %v\n%s", seen, logs.String())
	}
}

// TestStoredJobCatchesUp: progress that comes between two throttled
// writes still reaches the Store within about a second, even when the
// next change is long in coming.
func TestStoredJobCatchesUp(t *testing.T) {
	e := newEnv(t, sftest.Options{RecordsPer: map[string]int{"Contact": 600}}, func(c *sfsync.Config) {
		c.Objects = []string{"Contact"}
		c.BatchSize, c.QueryBatchSize = 100, 200
		c.BulkThreshold = -1
	})
	e.connect()
	stalled := make(chan struct{})
	release := make(chan struct{})
	var n int
	e.on(func(ev sfsync.Event) {
		if ev.Phase != "extract" || ev.Done == 0 {
			return
		}
		if n++; n == 2 { // the first batch's write was put off; now nothing moves
			close(stalled)
			<-release
		}
	})
	ctx := context.Background()
	job, err := e.sync.Start(ctx, sfsync.Request{OrgID: e.org})
	if err != nil {
		t.Fatal(err)
	}
	<-stalled
	deadline := time.Now().Add(3 * time.Second)
	var stored *store.Job
	for time.Now().Before(deadline) {
		if stored, err = e.st.Job(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
		if len(stored.Progress) == 1 && stored.Progress[0].Done > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(release)
	if len(stored.Progress) != 1 || stored.Progress[0].Done == 0 {
		t.Errorf("stored job after 3s of no change: %+v", stored.Progress)
	}
	if fin, err := e.sync.Wait(ctx, job.ID); err != nil || fin.State != store.JobSucceeded {
		t.Fatalf("job %+v, %v", fin, err)
	}
}

// twoOrgs reports a second connected org next to the real one.
type twoOrgs struct {
	*oauth.Manager
}

func (c twoOrgs) Connections(ctx context.Context) ([]*oauth.Connection, error) {
	conns, err := c.Manager.Connections(ctx)
	if err != nil {
		return nil, err
	}
	return append(conns, &oauth.Connection{OrgID: "00D000000000002AAA"}), nil
}

// TestStartResolvesOrg: the org may be left out only when exactly one
// is connected; objects the org does not have are refused before a job
// is made.
func TestStartResolvesOrg(t *testing.T) {
	e := newEnv(t, sftest.Options{Records: 5}, func(c *sfsync.Config) { c.Objects = []string{"Account"} })
	ctx := context.Background()
	if _, err := e.sync.Start(ctx, sfsync.Request{}); !errors.Is(err, sfsync.ErrNoOrg) || !strings.Contains(err.Error(), "0 orgs") {
		t.Fatalf("no org connected: %v", err)
	}
	e.connect()
	if _, err := e.sync.Start(ctx, sfsync.Request{Objects: []string{"Acount"}}); !errors.Is(err, sfsync.ErrBadRequest) ||
		!strings.Contains(err.Error(), `"Acount"`) {
		t.Fatalf("unknown object: %v", err)
	}
	if jobs, _ := e.st.Jobs(ctx, store.JobFilter{}); len(jobs) != 0 {
		t.Fatalf("a refused request left jobs: %+v", jobs)
	}
	job, err := e.sync.Start(ctx, sfsync.Request{Objects: []string{"account", "ACCOUNT"}})
	if err != nil || job.OrgID != e.org || strings.Join(job.Objects, ",") != "Account" {
		t.Fatalf("the only org, objects as the org spells them: %+v, %v", job, err)
	}
	if fin, err := e.sync.Wait(ctx, job.ID); err != nil || fin.State != store.JobSucceeded {
		t.Fatalf("job %+v, %v", fin, err)
	}

	two, err := sfsync.New(sfsync.Config{Store: e.st, Connections: twoOrgs{e.mgr}})
	if err != nil {
		t.Fatal(err)
	}
	defer two.Close()
	if _, err := two.Start(ctx, sfsync.Request{}); !errors.Is(err, sfsync.ErrNoOrg) || !strings.Contains(err.Error(), "2 orgs") {
		t.Fatalf("two orgs connected: %v", err)
	}
}
