package storetest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sfsync/salesforce-sync/store"
	"github.com/sfsync/salesforce-sync/store/memory"
	"github.com/sfsync/salesforce-sync/store/storetest"
)

// The suite must fail a broken store. A *testing.T cannot be faked, so
// each broken store runs the suite in a child process (this test binary,
// re-run with -test.run selecting TestBrokenStoreChild and the kind in an
// environment variable). The parent asserts that the child exits with a
// failure and that the cases expected to catch the defect are among the
// failed ones, so a crash or an unrelated failure does not count as
// success. This is the pattern the standard library uses for tests that
// must observe a failing test.

const brokenEnv = "SFSYNC_STORETEST_BROKEN"

// broken lists each defect and the cases that must catch it.
var broken = map[string][]string{
	// Ignores the timestamp guard: older rows overwrite newer ones.
	"noguard": {"TimestampGuard", "ConcurrentRacingVersions", "DeleteAndUndelete"},
	// Drops one column of every row it writes.
	"losecolumn": {"InsertUpdatePartialColumns", "ColumnTypesRoundTrip"},
	// Returns plain errors, so errors.Is with a sentinel fails.
	"plainerrors": {"BadInput", "ConnectionVersionConflict", "UnknownTable", "ErrClosedAfterClose"},
	// Writes the rows of a batch one by one, so a bad row leaves the
	// earlier ones written.
	"notatomic": {"BadInput"},
	// Keys sync state by the exact spelling of the object name.
	"casestate": {"SyncStateCaseInsensitive"},
	// Keeps the describes of "Account" and "account" side by side.
	"casemeta": {"ObjectMetaCaseInsensitive"},
}

func TestSuiteFailsBrokenStores(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("in a child process")
	}
	for kind, want := range broken {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenStoreChild$", "-test.v", "-test.count=1", "-test.timeout=120s")
			cmd.Env = append(os.Environ(), brokenEnv+"="+kind)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("child run: %v, want a failing exit; output:\n%s", err, out)
			}
			failed := failedCases(string(out))
			for _, c := range want {
				if !slices.Contains(failed, c) {
					t.Errorf("broken store %q: case %s did not fail; failed cases: %v", kind, c, failed)
				}
			}
			if t.Failed() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}

var failLine = regexp.MustCompile(`--- FAIL: TestBrokenStoreChild/(\S+)`)

func failedCases(out string) []string {
	var names []string
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		names = append(names, m[1])
	}
	return names
}

// TestBrokenStoreChild runs the suite against a broken store when started
// by TestSuiteFailsBrokenStores; otherwise it skips.
func TestBrokenStoreChild(t *testing.T) {
	kind := os.Getenv(brokenEnv)
	if kind == "" {
		t.Skip("runs only as a child of TestSuiteFailsBrokenStores")
	}
	storetest.Run(t, func(t *testing.T) store.Store {
		good := memory.New()
		switch kind {
		case "noguard":
			return &noGuard{Store: good}
		case "losecolumn":
			return &loseColumn{Store: good}
		case "plainerrors":
			return plainErrors(good)
		case "notatomic":
			return &notAtomic{Store: good}
		case "casestate":
			return &caseState{Store: good, states: map[[2]string]store.SyncState{}}
		case "casemeta":
			return &caseMeta{Store: good, metas: map[[2]string]store.ObjectMeta{}}
		}
		t.Fatalf("unknown kind %q", kind)
		return nil
	})
}

// TestMemoryPasses checks the control: the suite passes the good store
// that the broken ones wrap (also run by store/memory's own test).
func TestMemoryPasses(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
}

// noGuard clears the stored timestamps of every row before upserting, so
// every row applies whatever its timestamp.
type noGuard struct{ store.Store }

func (s *noGuard) Upsert(ctx context.Context, u store.Upsert) (store.UpsertResult, error) {
	tb, err := s.Table(ctx, u.Object)
	if err != nil || len(u.Rows) == 0 {
		return s.Store.Upsert(ctx, u)
	}
	stored, _ := s.ReadRows(ctx, store.ReadQuery{OrgID: u.OrgID, Object: u.Object, IncludeDeleted: true})
	exists := map[string]bool{}
	for _, r := range stored {
		exists[r.ID] = true
	}
	var clear []store.Row
	for _, r := range u.Rows {
		if !exists[r.ID] {
			continue
		}
		c := store.Row{ID: r.ID, Values: map[string]any{}}
		for _, f := range []string{store.FieldSystemModstamp, store.FieldLastModifiedDate} {
			if _, ok := tb.Column(f); ok {
				c.Values[f] = nil
			}
		}
		clear = append(clear, c)
	}
	if len(clear) > 0 {
		s.Store.Upsert(ctx, store.Upsert{OrgID: u.OrgID, Object: u.Object, Rows: clear})
	}
	return s.Store.Upsert(ctx, u)
}

// loseColumn drops the alphabetically last column of every row it writes.
type loseColumn struct{ store.Store }

func (s *loseColumn) Upsert(ctx context.Context, u store.Upsert) (store.UpsertResult, error) {
	rows := make([]store.Row, len(u.Rows))
	for i, r := range u.Rows {
		v := map[string]any{}
		last := ""
		for k, x := range r.Values {
			v[k] = x
			if k > last && !strings.EqualFold(k, "Id") {
				last = k
			}
		}
		delete(v, last)
		rows[i] = store.Row{ID: r.ID, Values: v}
	}
	u.Rows = rows
	return s.Store.Upsert(ctx, u)
}

// notAtomic writes a batch row by row.
type notAtomic struct{ store.Store }

func (s *notAtomic) Upsert(ctx context.Context, u store.Upsert) (store.UpsertResult, error) {
	var total store.UpsertResult
	for _, r := range u.Rows {
		one := u
		one.Rows = []store.Row{r}
		res, err := s.Store.Upsert(ctx, one)
		if err != nil {
			return total, err
		}
		total.Inserted += res.Inserted
		total.Updated += res.Updated
		total.Stale += res.Stale
	}
	if len(u.Rows) == 0 {
		return s.Store.Upsert(ctx, u)
	}
	return total, nil
}

// caseState keeps sync state under the exact (org, object) spelling.
type caseState struct {
	store.Store
	mu     sync.Mutex
	states map[[2]string]store.SyncState
}

func (s *caseState) SaveSyncState(ctx context.Context, st store.SyncState) error {
	if err := s.Store.SaveSyncState(ctx, st); err != nil {
		return err
	}
	saved, err := s.Store.SyncState(ctx, st.OrgID, st.Object)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.states[[2]string{st.OrgID, st.Object}] = saved
	return nil
}

func (s *caseState) SyncState(ctx context.Context, orgID, object string) (store.SyncState, error) {
	if _, err := s.Store.SyncState(ctx, orgID, object); err != nil {
		return store.SyncState{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.states[[2]string{orgID, object}]; ok {
		return st, nil
	}
	return store.SyncState{OrgID: orgID, Object: object}, nil
}

// caseMeta keeps describes under the exact (org, name) spelling.
type caseMeta struct {
	store.Store
	mu    sync.Mutex
	metas map[[2]string]store.ObjectMeta
}

func (s *caseMeta) SaveObjectMeta(ctx context.Context, orgID string, m store.ObjectMeta) error {
	if err := s.Store.SaveObjectMeta(ctx, orgID, m); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.metas[[2]string{orgID, m.Name}] = m
	return nil
}

func (s *caseMeta) ObjectMetas(ctx context.Context, orgID string) ([]store.ObjectMeta, error) {
	if _, err := s.Store.ObjectMetas(ctx, orgID); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.ObjectMeta
	for k, m := range s.metas {
		if k[0] == orgID {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b store.ObjectMeta) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
