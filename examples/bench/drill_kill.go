package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/sqlite"
)

// killSetup builds the server, starts the fake org of a kill drill with
// records of the benchmark object, and prepares (does not start) a
// server process on it. The caller closes the org and stops the process.
func killSetup(ctx context.Context, d *drillEnv, records int) (*sftest.Server, *serverProc, error) {
	bin, err := buildServer(ctx, d.dir)
	if err != nil {
		return nil, nil, err
	}
	sf, err := killOrg(records)
	if err != nil {
		return nil, nil, err
	}
	p, err := newServerProc(bin, d.dir, sf)
	if err != nil {
		sf.Close()
		return nil, nil, err
	}
	return sf, p, nil
}

// killOrg starts the fake org of a kill drill.
func killOrg(records int) (*sftest.Server, error) {
	sf, err := sftest.Start(sftest.Options{RecordsPer: map[string]int{"User": 5, benchObject: records},
		Start: time.Now().UTC().Truncate(time.Millisecond), OutboundTimeScale: 0.001})
	if err != nil {
		return nil, err
	}
	if err := fitSeed(sf.Org); err != nil {
		sf.Close()
		return nil, err
	}
	return sf, nil
}

// withStore opens the server's database (while the server is stopped)
// and calls f with it.
func withStore(ctx context.Context, dir string, f func(st *sqlite.Store) error) error {
	st, err := sqlite.Open(ctx, filepath.Join(dir, "server.db"))
	if err != nil {
		return fmt.Errorf("open the server's database: %w", err)
	}
	defer st.Close()
	return f(st)
}

// waitFor polls cond every 5 ms until it holds, bounded by ctx and limit.
func waitFor(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: gave up after %s", what, limit)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// drillKillFullSync: the server (a separate process) is killed with
// SIGKILL in the middle of its first full sync, then started again on
// the same database. The sync started after the restart must finish
// from the checkpoint, and the table must equal the org's records.
func drillKillFullSync(ctx context.Context, d *drillEnv) (string, error) {
	const total, page = 8000, 2000
	sf, p, err := killSetup(ctx, d, total)
	if err != nil {
		return "", err
	}
	defer sf.Close()
	defer p.stop()
	if err := p.start(ctx); err != nil {
		return "", err
	}
	sf.SetLatency(30 * time.Millisecond) // pages take a moment: the kill lands mid-extract
	if err := connectServer(ctx, p, sf); err != nil {
		return "", err
	}
	first, err := startServerSync(ctx, p, sf.Org.ID()) // busy: the sync connect started
	if err != nil {
		return "", err
	}
	// Kill once the first batch is committed, so that the restart has a
	// checkpoint to resume from.
	var pollErr error
	if err := waitFor(ctx, 2*time.Minute, "the first committed batch", func() bool {
		j, err := getServerJob(ctx, p, first.ID)
		if err != nil {
			pollErr = err
			return true
		}
		return j.done() >= page
	}); err != nil || pollErr != nil {
		return "", fmt.Errorf("%v %v: %s", err, pollErr, p.tail())
	}
	if err := p.kill9(); err != nil {
		return "", err
	}
	sf.SetLatency(0)
	var stored int64
	var checkpoint string
	if err := withStore(ctx, d.dir, func(st *sqlite.Store) error {
		stored, err = st.Count(ctx, sf.Org.ID(), benchObject, false)
		state, _ := st.SyncState(ctx, sf.Org.ID(), benchObject)
		checkpoint = state.Checkpoint
		return err
	}); err != nil {
		return "", err
	}
	if stored == 0 || stored >= total {
		return "", fmt.Errorf("the kill came with %d of %d rows stored, not mid-sync: inconclusive", stored, total)
	}

	if err := p.start(ctx); err != nil {
		return "", fmt.Errorf("restart: %w", err)
	}
	job, err := startServerSync(ctx, p, sf.Org.ID())
	if err != nil {
		return "", err
	}
	fin, err := waitServerJob(ctx, p, job.ID)
	if err != nil {
		return "", err
	}
	if fin.State != "succeeded" {
		return "", fmt.Errorf("sync after the restart ended %s: %s", fin.State, fin.Error)
	}
	p.stop()
	resumed := fin.done()
	var killedJobs int
	if err := withStore(ctx, d.dir, func(st *sqlite.Store) error {
		if err := converged(ctx, sf.Org, st, sf.Org.ID(), benchObject); err != nil {
			return err
		}
		jobs, err := st.Jobs(ctx, store.JobFilter{OrgID: sf.Org.ID(), State: store.JobFailed})
		killedJobs = len(jobs)
		return err
	}); err != nil {
		return "", fmt.Errorf("after the restart: %w", err)
	}
	if killedJobs == 0 {
		return "", errors.New("the killed job was not marked failed after the restart")
	}
	again := stored + resumed - total
	if again < 0 || again > 2*page {
		return "", fmt.Errorf("killed with %d rows stored (checkpoint %q), the resumed sync wrote %d of %d: %d written twice, want at most two pages",
			stored, checkpoint, resumed, total, again)
	}
	return fmt.Sprintf("killed with %d of %d rows committed (checkpoint %t); after the restart the sync wrote %d (%d again), the killed job is marked failed, the table equals the org",
		stored, total, checkpoint != "", resumed, again), nil
}

// drillKillWebhooks: the server is killed with SIGKILL during a storm
// of Outbound Messages (the fake org keeps changing records and
// delivering, with duplicates and reordering), then started again.
// Every notification must end acknowledged, every acknowledged one
// must have been applied (its receipt is stored), and the table must
// equal the org's records.
func drillKillWebhooks(ctx context.Context, d *drillEnv) (string, error) {
	const total, changes = 1000, 1500
	sf, p, err := killSetup(ctx, d, total)
	if err != nil {
		return "", err
	}
	defer sf.Close()
	defer p.stop()
	action := sf.AddOutboundMessage(sftest.OutboundMessage{Name: "Account_Sync", Object: benchObject,
		Fields: webhookFields, EndpointURL: p.url() + "/webhook"})
	p.args = append(p.args, "-outbound-fields", action+"="+benchObject+":"+strings.Join(webhookFields, ","))
	if err := p.start(ctx); err != nil {
		return "", err
	}
	if err := connectServer(ctx, p, sf); err != nil {
		return "", err
	}
	job, err := startServerSync(ctx, p, sf.Org.ID()) // the first sync, or the one connect started
	if err != nil {
		return "", err
	}
	if fin, err := waitServerJob(ctx, p, job.ID); err != nil || fin.State != "succeeded" {
		return "", fmt.Errorf("first sync: %+v, %v", fin, err)
	}
	sf.SetOutboundChaos(0.2, 0.3)

	clock := &orgClock{org: sf.Org, last: sf.Org.Now()}
	ids := make([]string, 0, total)
	for _, r := range sf.Org.Records(benchObject, false) {
		ids = append(ids, r["Id"].(string))
	}
	stormErr := make(chan error, 1)
	go func() {
		for i := range changes {
			clock.tick()
			if err := sf.Org.Update(benchObject, ids[i%len(ids)], map[string]any{"Phone": fmt.Sprintf("storm %d", i)}); err != nil {
				stormErr <- err
				return
			}
			if i%50 == 49 {
				time.Sleep(40 * time.Millisecond)
			}
		}
		stormErr <- nil
	}()
	acked := func() int {
		n := 0
		for _, d := range sf.Deliveries() {
			if d.Acked {
				n++
			}
		}
		return n
	}
	if err := waitFor(ctx, time.Minute, "acknowledged deliveries", func() bool { return acked() >= 5 }); err != nil {
		return "", err
	}
	if err := p.kill9(); err != nil {
		return "", err
	}
	ackedAtKill := acked()
	time.Sleep(300 * time.Millisecond) // the org keeps changing and delivering into a dead endpoint
	if err := p.start(ctx); err != nil {
		return "", fmt.Errorf("restart: %w", err)
	}
	if err := <-stormErr; err != nil {
		return "", fmt.Errorf("storm: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if err := sf.WaitOutbound(wctx); err != nil {
		return "", fmt.Errorf("not every notification was acknowledged after the restart: %w", err)
	}
	p.stop()

	log := sf.Deliveries()
	all, ackedIDs := map[string]bool{}, map[string]bool{}
	failed := 0
	for _, d := range log {
		for _, n := range d.NotificationIDs {
			all[n] = true
			if d.Acked {
				ackedIDs[n] = true
			}
		}
		if !d.Acked {
			failed++
		}
	}
	for n := range all {
		if !ackedIDs[n] {
			return "", fmt.Errorf("notification %s never acknowledged", n)
		}
	}
	if failed == 0 {
		return "", errors.New("no delivery failed: the kill did not hit the storm (inconclusive)")
	}
	notifs := make([]string, 0, len(ackedIDs))
	for n := range ackedIDs {
		notifs = append(notifs, n)
	}
	slices.Sort(notifs)
	if err := withStore(ctx, d.dir, func(st *sqlite.Store) error {
		for chunk := range slices.Chunk(notifs, 500) {
			got, err := st.HasReceipts(ctx, sf.Org.ID(), chunk)
			if err != nil {
				return err
			}
			for _, n := range chunk {
				if !got[n] {
					return fmt.Errorf("notification %s acknowledged but not applied (no receipt)", n)
				}
			}
		}
		return converged(ctx, sf.Org, st, sf.Org.ID(), benchObject)
	}); err != nil {
		return "", err
	}
	return fmt.Sprintf("killed after %d acknowledged deliveries; %d deliveries, %d failed (kill, restart, chaos), all %d notifications acknowledged and applied, the table equals the org",
		ackedAtKill, len(log), failed, len(notifs)), nil
}
