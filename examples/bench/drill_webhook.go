package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sfsync/salesforce-sync/outbound"
	"github.com/sfsync/salesforce-sync/sfsync"
	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/sqlite"
)

// webhookDrillRecords is the org size of the webhook drills.
const webhookDrillRecords = 300

// outboundHarness is a synced harness whose fake org delivers an
// Outbound Message on every Account change to the harness's /webhook,
// with the action's field list known to the engine.
func (d *drillEnv) outboundHarness(ctx context.Context, wrap func(store.Store) store.Store, sqliteOpts ...sqlite.Option) (*harness, string, error) {
	st, err := sqlite.Open(ctx, filepath.Join(d.dir, "drill.db"), sqliteOpts...)
	if err != nil {
		return nil, "", err
	}
	h, err := newHarness(harnessConfig{
		org:   sftest.Options{RecordsPer: map[string]int{"User": 5, benchObject: webhookDrillRecords}},
		store: st, wrap: wrap,
		engine: func(c *sfsync.Config) { c.Objects = []string{benchObject}; c.BulkThreshold = -1 },
	})
	if err != nil {
		return nil, "", err
	}
	fail := func(err error) (*harness, string, error) { h.close(); return nil, "", err }
	if err := fitSeed(h.sf.Org); err != nil {
		return fail(err)
	}
	if err := h.connect(ctx); err != nil {
		return fail(err)
	}
	if _, err := h.run(ctx, sfsync.Request{}, store.JobSucceeded); err != nil {
		return fail(fmt.Errorf("first sync: %w", err))
	}
	action := h.sf.AddOutboundMessage(sftest.OutboundMessage{Name: "Account_Sync", Object: benchObject,
		Fields: webhookFields, EndpointURL: h.web.URL + "/webhook"})
	h.sync.SetAction(action, outbound.Action{Object: benchObject, Fields: webhookFields})
	return h, action, nil
}

// change updates Account records in the fake org in groups, waiting
// after each group until it was delivered at least once, so that the
// notifications arrive in several messages; it returns the Ids.
func change(ctx context.Context, h *harness, groups, per int, tag string) ([]string, error) {
	ids := h.ids(benchObject)
	var out []string
	for g := range groups {
		var group []string
		for i := g * per; i < (g+1)*per && i < len(ids); i++ {
			h.tick()
			if err := h.sf.Org.Update(benchObject, ids[i], map[string]any{"Phone": fmt.Sprintf("%s %d", tag, i)}); err != nil {
				return out, err
			}
			group = append(group, ids[i])
		}
		if err := waitAttempts(ctx, h.sf, group, 1); err != nil {
			return out, err
		}
		out = append(out, group...)
	}
	return out, nil
}

// waitAttempts waits until the delivery log covers every record of ids
// with at least min failed attempts each.
func waitAttempts(ctx context.Context, sf *sftest.Server, ids []string, atLeast int) error {
	for range 3000 {
		tries := map[string]int{}
		for _, d := range sf.Deliveries() {
			for _, r := range d.RecordIDs {
				tries[r]++
			}
		}
		ok := true
		for _, id := range ids {
			if tries[id] < atLeast {
				ok = false
				break
			}
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for delivery attempts: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return errors.New("waiting for delivery attempts: gave up")
}

// faultedOnly checks that no delivery in the log so far was
// acknowledged and every one got a SOAP fault (a 5xx answer).
func faultedOnly(sf *sftest.Server) (int, error) {
	ds := sf.Deliveries()
	for _, d := range ds {
		if d.Acked {
			return len(ds), fmt.Errorf("delivery of %v acknowledged while the database refused writes", d.NotificationIDs)
		}
		if d.Status < 500 {
			return len(ds), fmt.Errorf("delivery answered %d (%s) while the database refused writes, want a 5xx fault", d.Status, d.Err)
		}
	}
	return len(ds), nil
}

// recovered waits for every notification to be acknowledged, then
// checks that each acknowledged notification has its receipt and that
// the table converged to the org.
func recovered(ctx context.Context, h *harness) (int, error) {
	if err := h.sf.WaitOutbound(ctx); err != nil {
		return 0, fmt.Errorf("after recovery, not every notification was acknowledged: %w", err)
	}
	var acked []string
	for _, d := range h.sf.Deliveries() {
		if d.Acked {
			acked = append(acked, d.NotificationIDs...)
		}
	}
	slices.Sort(acked)
	acked = slices.Compact(acked)
	for chunk := range slices.Chunk(acked, 500) {
		got, err := h.st.HasReceipts(ctx, h.org, chunk)
		if err != nil {
			return 0, err
		}
		for _, id := range chunk {
			if !got[id] {
				return 0, fmt.Errorf("notification %s acknowledged but no receipt stored", id)
			}
		}
	}
	if err := converged(ctx, h.sf.Org, h.st, h.org, benchObject); err != nil {
		return 0, err
	}
	return len(acked), nil
}

// drillDBLocked: another connection holds SQLite's write lock (as a
// backup tool or a stuck process would) while Outbound Messages arrive.
// Every delivery must get a fault and none an ack; once the lock is
// released, Salesforce's retries must all be applied.
func drillDBLocked(ctx context.Context, d *drillEnv) (string, error) {
	h, _, err := d.outboundHarness(ctx, nil, sqlite.WithBusyTimeout(100*time.Millisecond))
	if err != nil {
		return "", err
	}
	defer h.close()
	path := filepath.Join(d.dir, "drill.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=2000")
	if err != nil {
		return "", err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		return "", fmt.Errorf("take the write lock: %w", err)
	}
	locked := true
	defer func() {
		if locked {
			conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	ids, err := change(ctx, h, 4, 10, "locked")
	if err != nil {
		return "", err
	}
	if err := waitAttempts(ctx, h.sf, ids, 3); err != nil {
		return "", err
	}
	attempts, err := faultedOnly(h.sf)
	if err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		return "", fmt.Errorf("release the lock: %w", err)
	}
	locked = false
	n, err := recovered(ctx, h)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d deliveries faulted while locked, none acked; after release %d notifications acked, each with its receipt, table converged", attempts, n), nil
}

// failingStore is a Store whose record writes fail while down is set,
// with the error SQLite gives when the disk is full.
type failingStore struct {
	store.Store
	down   atomic.Bool
	failed atomic.Int64
}

var errDiskFull = errors.New("database or disk is full")

func (f *failingStore) Upsert(ctx context.Context, u store.Upsert) (store.UpsertResult, error) {
	if f.down.Load() {
		f.failed.Add(1)
		return store.UpsertResult{}, fmt.Errorf("upsert %s: %w", u.Object, errDiskFull)
	}
	return f.Store.Upsert(ctx, u)
}

func (f *failingStore) Delete(ctx context.Context, d store.Delete) (store.DeleteResult, error) {
	if f.down.Load() {
		f.failed.Add(1)
		return store.DeleteResult{}, fmt.Errorf("delete: %w", errDiskFull)
	}
	return f.Store.Delete(ctx, d)
}

// drillDBFull: the disk fills up while Outbound Messages arrive (every
// write fails); as drillDBLocked, with the failure coming from the
// Store's write calls.
func drillDBFull(ctx context.Context, d *drillEnv) (string, error) {
	fs := &failingStore{}
	h, _, err := d.outboundHarness(ctx, func(s store.Store) store.Store { fs.Store = s; return fs })
	if err != nil {
		return "", err
	}
	defer h.close()
	fs.down.Store(true)
	ids, err := change(ctx, h, 4, 10, "full")
	if err != nil {
		return "", err
	}
	if err := waitAttempts(ctx, h.sf, ids, 3); err != nil {
		return "", err
	}
	attempts, err := faultedOnly(h.sf)
	if err != nil {
		return "", err
	}
	fs.down.Store(false)
	n, err := recovered(ctx, h)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d deliveries faulted (%d writes refused), none acked; after recovery %d notifications acked, each with its receipt, table converged",
		attempts, fs.failed.Load(), n), nil
}
