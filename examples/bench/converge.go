package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/sftest"
	"github.com/sfsync/salesforce-sync/store"
)

// convergeFields are compared value for value besides the Id set and
// SystemModstamp (which alone proves each row holds the org's version).
var convergeFields = []string{"Name", "Phone"}

// converged reports how the live local rows of object differ from the
// fake org's records: nil when they hold the same Ids, each at the
// org's SystemModstamp, with the same convergeFields.
func converged(ctx context.Context, org *sftest.Org, st store.Store, orgID, object string) error {
	want := org.Records(object, false)
	rows, err := st.ReadRows(ctx, store.ReadQuery{OrgID: orgID, Object: object})
	if err != nil {
		return fmt.Errorf("read %s: %w", object, err)
	}
	got := make(map[string]store.Row, len(rows))
	for _, r := range rows {
		got[r.ID] = r
	}
	missing, stale := 0, 0
	var first string
	for _, w := range want {
		id := w["Id"].(string)
		r, ok := got[id]
		if !ok {
			missing++
			if first == "" {
				first = "missing " + id
			}
			continue
		}
		delete(got, id)
		if d := rowDiff(w, r); d != "" {
			stale++
			if first == "" {
				first = id + ": " + d
			}
		}
	}
	if missing+stale+len(got) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %d local rows for %d records: %d missing, %d stale, %d extra (first: %s)",
		object, len(rows), len(want), missing, stale, len(got), first)
}

func rowDiff(w map[string]any, r store.Row) string {
	ws, _ := w["SystemModstamp"].(time.Time)
	gs, _ := r.Values["SystemModstamp"].(time.Time)
	if !ws.Truncate(time.Millisecond).Equal(gs) {
		return fmt.Sprintf("SystemModstamp local %v, org %v", gs, ws)
	}
	for _, f := range convergeFields {
		wv, gv := w[f], r.Values[f]
		if fmt.Sprint(wv) != fmt.Sprint(gv) {
			return fmt.Sprintf("%s local %v, org %v", f, gv, wv)
		}
	}
	return ""
}

// orgClock moves a fake org's clock to the wall clock, always forward
// by at least a millisecond, so that each change gets a newer
// SystemModstamp. It is safe for concurrent use.
type orgClock struct {
	mu   sync.Mutex
	org  *sftest.Org
	last time.Time
}

func (c *orgClock) tick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UTC().Truncate(time.Millisecond)
	if !now.After(c.last) {
		now = c.last.Add(time.Millisecond)
	}
	c.last = now
	c.org.SetNow(now)
}

func (c *orgClock) lastTick() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}
