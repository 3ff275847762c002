package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfsync/salesforce-sync/store"
)

// SyncState returns the state of (orgID, object), or a zero SyncState
// with OrgID and Object set when none is stored. The object name matches
// case-insensitively (a unique index on lower(object)); Object is
// returned as given.
func (s *Store) SyncState(ctx context.Context, orgID, object string) (store.SyncState, error) {
	st := store.SyncState{OrgID: orgID, Object: object}
	if err := s.checkOpen(); err != nil {
		return st, err
	}
	var wm, calc, recon, upd *time.Time
	err := s.pool.QueryRow(ctx, `SELECT watermark, checkpoint, calculated_at, reconciled_at, updated_at
		FROM `+s.qschema+`._sfsync_sync_state WHERE org_id = $1 AND lower(object) = lower($2)`, orgID, object).
		Scan(&wm, &st.Checkpoint, &calc, &recon, &upd)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, s.wrap("sync state "+object, err)
	}
	st.Watermark, st.CalculatedAt, st.ReconciledAt, st.UpdatedAt = goTime(wm), goTime(calc), goTime(recon), goTime(upd)
	return st, nil
}

// SaveSyncState inserts or replaces the state; a state stored under
// another spelling of the object name is replaced, spelling included. A zero UpdatedAt is
// stored as the time of the call.
func (s *Store) SaveSyncState(ctx context.Context, st store.SyncState) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	for _, v := range []string{st.OrgID, st.Object, st.Checkpoint} {
		if err := checkText(v); err != nil {
			return &store.ValueError{Table: "sync_state", RowID: st.Object,
				Err: fmt.Errorf("%w: %v", store.ErrBadValue, err)}
		}
	}
	if st.OrgID == "" || st.Object == "" {
		return &store.ValueError{Table: "sync_state", RowID: st.Object,
			Err: fmt.Errorf("%w: org ID and object are required", store.ErrBadValue)}
	}
	if st.UpdatedAt.IsZero() {
		st.UpdatedAt = now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO `+s.qschema+`._sfsync_sync_state
		(org_id, object, watermark, checkpoint, calculated_at, reconciled_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (org_id, lower(object)) DO UPDATE SET object = EXCLUDED.object, watermark = EXCLUDED.watermark,
			checkpoint = EXCLUDED.checkpoint, calculated_at = EXCLUDED.calculated_at,
			reconciled_at = EXCLUDED.reconciled_at, updated_at = EXCLUDED.updated_at`,
		st.OrgID, st.Object, dbTime(st.Watermark), st.Checkpoint, dbTime(st.CalculatedAt),
		dbTime(st.ReconciledAt), dbTime(st.UpdatedAt))
	return s.wrap("save sync state "+st.Object, err)
}

// progressJSON is how a job's per-object progress is stored: a JSON
// array a user can query with jsonb operators.
type progressJSON struct {
	Object     string     `json:"object"`
	Phase      string     `json:"phase,omitempty"`
	Done       int64      `json:"done"`
	Total      int64      `json:"total"`
	Deleted    int64      `json:"deleted"`
	Error      string     `json:"error,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

func jsonTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Millisecond)
	return &u
}

// SaveJob inserts or replaces a job record. A job without an ID gets a
// random one, and one without CreatedAt the time of the call; both are
// set in j.
func (s *Store) SaveJob(ctx context.Context, j *store.Job) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if j.ID == "" {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return fmt.Errorf("save job: %w", err)
		}
		j.ID = hex.EncodeToString(b[:])
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now()
	}
	for _, v := range append([]string{j.ID, j.OrgID, j.Mode, string(j.State), j.Error}, j.Objects...) {
		if err := checkText(v); err != nil {
			return &store.ValueError{Table: "jobs", RowID: j.ID, Err: fmt.Errorf("%w: %v", store.ErrBadValue, err)}
		}
	}
	var objects, progress []byte
	var err error
	if j.Objects != nil {
		if objects, err = json.Marshal(j.Objects); err != nil {
			return fmt.Errorf("save job %s: %w", j.ID, err)
		}
	}
	if j.Progress != nil {
		ps := make([]progressJSON, len(j.Progress))
		for i, p := range j.Progress {
			if err := checkText(p.Object + p.Phase + p.Error); err != nil {
				return &store.ValueError{Table: "jobs", RowID: j.ID, Err: fmt.Errorf("%w: %v", store.ErrBadValue, err)}
			}
			ps[i] = progressJSON{p.Object, p.Phase, p.Done, p.Total, p.Deleted, p.Error,
				jsonTime(p.StartedAt), jsonTime(p.FinishedAt)}
		}
		if progress, err = json.Marshal(ps); err != nil {
			return fmt.Errorf("save job %s: %w", j.ID, err)
		}
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO `+s.qschema+`._sfsync_jobs
		(id, org_id, objects, mode, state, progress, error, created_at, started_at, finished_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET org_id = EXCLUDED.org_id, objects = EXCLUDED.objects,
			mode = EXCLUDED.mode, state = EXCLUDED.state, progress = EXCLUDED.progress,
			error = EXCLUDED.error, created_at = EXCLUDED.created_at,
			started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at`,
		j.ID, j.OrgID, nilJSON(objects), j.Mode, string(j.State), nilJSON(progress), j.Error,
		dbTime(j.CreatedAt), dbTime(j.StartedAt), dbTime(j.FinishedAt))
	return s.wrap("save job "+j.ID, err)
}

func nilJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

const jobColumns = `id, org_id, objects::text, mode, state, progress::text, error, created_at, started_at, finished_at`

// Job returns a job by ID, or store.ErrNotFound.
func (s *Store) Job(ctx context.Context, id string) (*store.Job, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM `+s.qschema+`._sfsync_jobs WHERE id = $1`, id)
	if err != nil {
		return nil, s.wrap("job "+id, err)
	}
	js, err := collectJobs(rows)
	if err != nil {
		return nil, s.wrap("job "+id, err)
	}
	if len(js) == 0 {
		return nil, fmt.Errorf("job %s: %w", id, store.ErrNotFound)
	}
	return js[0], nil
}

// Jobs lists jobs matching f, newest (by CreatedAt, then ID) first.
func (s *Store) Jobs(ctx context.Context, f store.JobFilter) ([]*store.Job, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if f.OrgID != "" {
		args = append(args, f.OrgID)
		where = append(where, "org_id = $"+strconv.Itoa(len(args)))
	}
	if f.State != "" {
		args = append(args, string(f.State))
		where = append(where, "state = $"+strconv.Itoa(len(args)))
	}
	sql := `SELECT ` + jobColumns + ` FROM ` + s.qschema + `._sfsync_jobs`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY created_at DESC, id DESC"
	if f.Limit > 0 {
		sql += " LIMIT " + strconv.Itoa(f.Limit)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, s.wrap("jobs", err)
	}
	js, err := collectJobs(rows)
	if err != nil {
		return nil, s.wrap("jobs", err)
	}
	return js, nil
}

func collectJobs(rows pgx.Rows) ([]*store.Job, error) {
	defer rows.Close()
	var out []*store.Job
	for rows.Next() {
		var (
			j                 store.Job
			objects, progress *string
			state             string
			started, finished *time.Time
		)
		if err := rows.Scan(&j.ID, &j.OrgID, &objects, &j.Mode, &state, &progress, &j.Error,
			&j.CreatedAt, &started, &finished); err != nil {
			return nil, err
		}
		j.State = store.JobState(state)
		j.CreatedAt = j.CreatedAt.UTC()
		j.StartedAt, j.FinishedAt = goTime(started), goTime(finished)
		if objects != nil {
			if err := json.Unmarshal([]byte(*objects), &j.Objects); err != nil {
				return nil, fmt.Errorf("job %s objects: %w", j.ID, err)
			}
		}
		if progress != nil {
			var ps []progressJSON
			if err := json.Unmarshal([]byte(*progress), &ps); err != nil {
				return nil, fmt.Errorf("job %s progress: %w", j.ID, err)
			}
			j.Progress = make([]store.ObjectProgress, len(ps))
			for i, p := range ps {
				j.Progress[i] = store.ObjectProgress{Object: p.Object, Phase: p.Phase, Done: p.Done,
					Total: p.Total, Deleted: p.Deleted, Error: p.Error,
					StartedAt: goTime(p.StartedAt), FinishedAt: goTime(p.FinishedAt)}
			}
		}
		out = append(out, &j)
	}
	return out, rows.Err()
}
