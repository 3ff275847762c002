package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// jsonText marshals a list as JSON text; nil and empty are "[]".
func jsonText[T any](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func fromJSON[T any](s string) ([]T, error) {
	var v []T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, nil
	}
	return v, nil
}

func ms(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// SaveConnection implements store.ConnectionStore. The version check and
// the write happen in one transaction of the single writer, so of two
// savers holding the same version exactly one wins, across processes too
// (BEGIN IMMEDIATE takes the database's write lock).
func (s *Store) SaveConnection(ctx context.Context, c *store.Connection) error {
	if c.OrgID == "" {
		return fmt.Errorf("save connection: %w: empty org ID", store.ErrBadValue)
	}
	in := *c
	err := s.write(ctx, 1, func(w *wtx) error {
		var version int64
		var created string
		err := w.conn.QueryRowContext(context.Background(),
			`SELECT version, created_at FROM _sfsync_connections WHERE org_id = ?`, in.OrgID).Scan(&version, &created)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			created = fmtTime(time.Now()).(string)
		case err != nil:
			return err
		}
		if in.Version != version {
			return store.ErrVersionConflict
		}
		now := fmtTime(time.Now())
		_, err = w.exec(`INSERT INTO _sfsync_connections (org_id, user_id, username, instance_url, identity_url,
			login_url, scopes, status, issued_at, sealed, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (org_id) DO UPDATE SET user_id = excluded.user_id, username = excluded.username,
			instance_url = excluded.instance_url, identity_url = excluded.identity_url, login_url = excluded.login_url,
			scopes = excluded.scopes, status = excluded.status, issued_at = excluded.issued_at, sealed = excluded.sealed,
			version = excluded.version, updated_at = excluded.updated_at`,
			in.OrgID, in.UserID, in.Username, in.InstanceURL, in.IdentityURL, in.LoginURL, jsonText(in.Scopes),
			string(in.Status), fmtTime(in.IssuedAt), in.Sealed, version+1, created, now)
		if err != nil {
			return err
		}
		w.afterCommit(func() {
			c.Version = version + 1
			c.CreatedAt, _ = parseTime(created)
			c.UpdatedAt, _ = parseTime(now)
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("save connection %s: %w", c.OrgID, err)
	}
	return nil
}

const connColumns = `org_id, user_id, username, instance_url, identity_url, login_url, scopes, status,
	issued_at, sealed, version, created_at, updated_at`

func scanConn(sc scanner) (*store.Connection, error) {
	var c store.Connection
	var scopes, status string
	var issued, created, updated any
	if err := sc.Scan(&c.OrgID, &c.UserID, &c.Username, &c.InstanceURL, &c.IdentityURL, &c.LoginURL,
		&scopes, &status, &issued, &c.Sealed, &c.Version, &created, &updated); err != nil {
		return nil, err
	}
	c.Status = store.ConnectionStatus(status)
	var err error
	if c.Scopes, err = fromJSON[string](scopes); err != nil {
		return nil, fmt.Errorf("scopes: %w", err)
	}
	for _, p := range []struct {
		dst *time.Time
		v   any
	}{{&c.IssuedAt, issued}, {&c.CreatedAt, created}, {&c.UpdatedAt, updated}} {
		if *p.dst, err = parseTime(p.v); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// Connection implements store.ConnectionStore.
func (s *Store) Connection(ctx context.Context, orgID string) (*store.Connection, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	c, err := scanConn(s.readers.QueryRowContext(ctx, `SELECT `+connColumns+` FROM _sfsync_connections WHERE org_id = ?`, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("connection %s: %w", orgID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", orgID, s.readErr(err))
	}
	return c, nil
}

// Connections implements store.ConnectionStore.
func (s *Store) Connections(ctx context.Context) ([]*store.Connection, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.readers.QueryContext(ctx, `SELECT `+connColumns+` FROM _sfsync_connections ORDER BY org_id`)
	if err != nil {
		return nil, fmt.Errorf("connections: %w", s.readErr(err))
	}
	defer rows.Close()
	var out []*store.Connection
	for rows.Next() {
		c, err := scanConn(rows)
		if err != nil {
			return nil, fmt.Errorf("connections: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("connections: %w", s.readErr(err))
	}
	return out, nil
}

// DeleteConnection implements store.ConnectionStore.
func (s *Store) DeleteConnection(ctx context.Context, orgID string) error {
	err := s.write(ctx, 1, func(w *wtx) error {
		r, err := w.exec(`DELETE FROM _sfsync_connections WHERE org_id = ?`, orgID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete connection %s: %w", orgID, err)
	}
	return nil
}

// HasReceipts implements store.RecordStore. The map has an entry for
// every ID asked.
func (s *Store) HasReceipts(ctx context.Context, orgID string, ids []string) (map[string]bool, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = false
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := []any{orgID}
		for _, id := range chunk {
			args = append(args, id)
		}
		q := `SELECT notification_id FROM _sfsync_receipts WHERE org_id = ? AND notification_id IN (` +
			strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ") + `)`
		if err := s.queryStrings(ctx, q, args, func(id string) { out[id] = true }); err != nil {
			return nil, fmt.Errorf("has receipts: %w", err)
		}
	}
	return out, nil
}

func (s *Store) queryStrings(ctx context.Context, q string, args []any, f func(string)) error {
	rows, err := s.readers.QueryContext(ctx, q, args...)
	if err != nil {
		return s.readErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		f(v)
	}
	return s.readErr(rows.Err())
}

// PruneReceipts implements store.RecordStore.
func (s *Store) PruneReceipts(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.write(ctx, 1, func(w *wtx) error {
		r, err := w.exec(`DELETE FROM _sfsync_receipts WHERE recorded_at < ?`, fmtTime(ms(before)))
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune receipts: %w", err)
	}
	return int(n), nil
}

// SaveObjectMeta implements store.RecordStore: the rows of the object in
// _sfsync_objects and _sfsync_fields are replaced in one transaction.
func (s *Store) SaveObjectMeta(ctx context.Context, orgID string, m store.ObjectMeta) error {
	if orgID == "" || m.Name == "" {
		return fmt.Errorf("save object meta: %w: empty org ID or object name", store.ErrBadValue)
	}
	err := s.write(ctx, len(m.Fields)+1, func(w *wtx) error {
		if _, err := w.exec(`DELETE FROM _sfsync_objects WHERE org_id = ? AND name = ?`, orgID, m.Name); err != nil {
			return err
		}
		if _, err := w.exec(`INSERT INTO _sfsync_objects (org_id, name, label, custom, updated_at) VALUES (?, ?, ?, ?, ?)`,
			orgID, m.Name, m.Label, m.Custom, fmtTime(time.Now())); err != nil {
			return err
		}
		st, err := w.stmt("field", func() string {
			return `INSERT INTO _sfsync_fields (org_id, object, position, name, label, type, custom, length, precision,
				scale, nillable, reference_to, relationship_name, picklist_values) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
		})
		if err != nil {
			return err
		}
		for i, f := range m.Fields {
			if _, err := st.Exec(orgID, m.Name, i, f.Name, f.Label, f.Type, f.Custom, f.Length, f.Precision, f.Scale,
				f.Nillable, jsonText(f.ReferenceTo), f.RelationshipName, jsonText(f.PicklistValues)); err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save object meta %s: %w", m.Name, err)
	}
	return nil
}

// ObjectMetas implements store.RecordStore.
func (s *Store) ObjectMetas(ctx context.Context, orgID string) ([]store.ObjectMeta, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	out, err := s.readObjects(ctx, orgID)
	if err != nil {
		return nil, fmt.Errorf("object metas: %w", s.readErr(err))
	}
	return out, nil
}

func (s *Store) readObjects(ctx context.Context, orgID string) ([]store.ObjectMeta, error) {
	rows, err := s.readers.QueryContext(ctx, `SELECT name, label, custom FROM _sfsync_objects WHERE org_id = ? ORDER BY name COLLATE BINARY`, orgID)
	if err != nil {
		return nil, err
	}
	var out []store.ObjectMeta
	index := map[string]int{}
	for rows.Next() {
		var m store.ObjectMeta
		if err := rows.Scan(&m.Name, &m.Label, &m.Custom); err != nil {
			rows.Close()
			return nil, err
		}
		index[strings.ToLower(m.Name)] = len(out)
		out = append(out, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.readers.QueryContext(ctx, `SELECT object, name, label, type, custom, length, precision, scale, nillable,
		reference_to, relationship_name, picklist_values FROM _sfsync_fields WHERE org_id = ? ORDER BY object, position`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var obj, refs, picks string
		var f store.FieldMeta
		if err := rows.Scan(&obj, &f.Name, &f.Label, &f.Type, &f.Custom, &f.Length, &f.Precision, &f.Scale, &f.Nillable,
			&refs, &f.RelationshipName, &picks); err != nil {
			return nil, err
		}
		if f.ReferenceTo, err = fromJSON[string](refs); err != nil {
			return nil, err
		}
		if f.PicklistValues, err = fromJSON[string](picks); err != nil {
			return nil, err
		}
		if i, ok := index[strings.ToLower(obj)]; ok {
			out[i].Fields = append(out[i].Fields, f)
		}
	}
	return out, rows.Err()
}

// SyncState implements store.StateStore.
func (s *Store) SyncState(ctx context.Context, orgID, object string) (store.SyncState, error) {
	st := store.SyncState{OrgID: orgID, Object: object}
	if err := s.check(ctx); err != nil {
		return st, err
	}
	var wm, calc, rec, upd any
	err := s.readers.QueryRowContext(ctx, `SELECT watermark, checkpoint, calculated_at, reconciled_at, updated_at
		FROM _sfsync_sync_state WHERE org_id = ? AND object = ?`, orgID, object).Scan(&wm, &st.Checkpoint, &calc, &rec, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("sync state %s %s: %w", orgID, object, s.readErr(err))
	}
	for _, p := range []struct {
		dst *time.Time
		v   any
	}{{&st.Watermark, wm}, {&st.CalculatedAt, calc}, {&st.ReconciledAt, rec}, {&st.UpdatedAt, upd}} {
		if *p.dst, err = parseTime(p.v); err != nil {
			return st, fmt.Errorf("sync state %s %s: %w", orgID, object, err)
		}
	}
	return st, nil
}

// SaveSyncState implements store.StateStore. A zero UpdatedAt is set to
// the current time.
func (s *Store) SaveSyncState(ctx context.Context, st store.SyncState) error {
	if st.OrgID == "" || st.Object == "" {
		return fmt.Errorf("save sync state: %w: empty org ID or object", store.ErrBadValue)
	}
	if st.UpdatedAt.IsZero() {
		st.UpdatedAt = time.Now()
	}
	err := s.write(ctx, 1, func(w *wtx) error {
		_, err := w.exec(`INSERT OR REPLACE INTO _sfsync_sync_state (org_id, object, watermark, checkpoint, calculated_at,
			reconciled_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, st.OrgID, st.Object, fmtTime(st.Watermark),
			st.Checkpoint, fmtTime(st.CalculatedAt), fmtTime(st.ReconciledAt), fmtTime(st.UpdatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("save sync state %s %s: %w", st.OrgID, st.Object, err)
	}
	return nil
}

// SaveJob implements store.StateStore. A zero CreatedAt is set to the
// current time, in j too.
func (s *Store) SaveJob(ctx context.Context, j *store.Job) error {
	if j.ID == "" {
		return fmt.Errorf("save job: %w: empty job ID", store.ErrBadValue)
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = ms(time.Now())
	}
	progress := make([]store.ObjectProgress, len(j.Progress))
	for i, p := range j.Progress {
		p.StartedAt, p.FinishedAt = ms(p.StartedAt), ms(p.FinishedAt)
		progress[i] = p
	}
	in := *j
	err := s.write(ctx, 1, func(w *wtx) error {
		_, err := w.exec(`INSERT OR REPLACE INTO _sfsync_jobs (id, org_id, objects, mode, state, progress, error,
			created_at, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.ID, in.OrgID, jsonText(in.Objects),
			in.Mode, string(in.State), jsonText(progress), in.Error, fmtTime(in.CreatedAt), fmtTime(in.StartedAt), fmtTime(in.FinishedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	}
	return nil
}

const jobColumns = `id, org_id, objects, mode, state, progress, error, created_at, started_at, finished_at`

func scanJob(sc scanner) (*store.Job, error) {
	var j store.Job
	var objects, state, progress string
	var created, started, finished any
	if err := sc.Scan(&j.ID, &j.OrgID, &objects, &j.Mode, &state, &progress, &j.Error, &created, &started, &finished); err != nil {
		return nil, err
	}
	j.State = store.JobState(state)
	var err error
	if j.Objects, err = fromJSON[string](objects); err != nil {
		return nil, err
	}
	if j.Progress, err = fromJSON[store.ObjectProgress](progress); err != nil {
		return nil, err
	}
	for i := range j.Progress {
		p := &j.Progress[i]
		p.StartedAt, p.FinishedAt = ms(p.StartedAt), ms(p.FinishedAt)
	}
	for _, p := range []struct {
		dst *time.Time
		v   any
	}{{&j.CreatedAt, created}, {&j.StartedAt, started}, {&j.FinishedAt, finished}} {
		if *p.dst, err = parseTime(p.v); err != nil {
			return nil, err
		}
	}
	return &j, nil
}

// Job implements store.StateStore.
func (s *Store) Job(ctx context.Context, id string) (*store.Job, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	j, err := scanJob(s.readers.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM _sfsync_jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("job %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", id, s.readErr(err))
	}
	return j, nil
}

// Jobs implements store.StateStore: newest CreatedAt first, then by ID
// descending.
func (s *Store) Jobs(ctx context.Context, f store.JobFilter) ([]*store.Job, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	q := `SELECT ` + jobColumns + ` FROM _sfsync_jobs WHERE (? = '' OR org_id = ?) AND (? = '' OR state = ?)
		ORDER BY created_at DESC, id DESC LIMIT ?`
	limit := -1
	if f.Limit > 0 {
		limit = f.Limit
	}
	rows, err := s.readers.QueryContext(ctx, q, f.OrgID, f.OrgID, string(f.State), string(f.State), limit)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", s.readErr(err))
	}
	defer rows.Close()
	var out []*store.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("jobs: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: %w", s.readErr(err))
	}
	return out, nil
}
