package memory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/salesforce-sync/store"
)

// Store is an in-memory store.Store. The zero value is not usable; call
// New. It is safe for concurrent use.
type Store struct {
	mu       sync.RWMutex
	closed   bool
	conns    map[string]*store.Connection
	tables   map[string]*table             // by lower-case name
	states   map[[2]string]store.SyncState // keyed by org ID and lower-cased object name
	jobs     map[string]*store.Job
	receipts map[[2]string]time.Time
	metas    map[string]map[string]store.ObjectMeta // org, lower-case object
}

type table struct {
	schema store.Table
	rows   map[[2]string]*row // (org, Id)
}

type row struct {
	values    map[string]any
	syncedAt  time.Time
	deletedAt time.Time
}

var _ store.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{
		conns:    map[string]*store.Connection{},
		tables:   map[string]*table{},
		states:   map[[2]string]store.SyncState{},
		jobs:     map[string]*store.Job{},
		receipts: map[[2]string]time.Time{},
		metas:    map[string]map[string]store.ObjectMeta{},
	}
}

// Close empties the Store; later calls return store.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.closed = true
	s.conns, s.tables, s.jobs = nil, nil, nil
	return nil
}

// lock takes the lock (write or read) after checking ctx and Close.
func (s *Store) lock(ctx context.Context, write bool) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if write {
		s.mu.Lock()
		unlock = s.mu.Unlock
	} else {
		s.mu.RLock()
		unlock = s.mu.RUnlock
	}
	if s.closed {
		unlock()
		return nil, store.ErrClosed
	}
	return unlock, nil
}

// ms is how a SQL backend keeps a timestamp: UTC, milliseconds.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

func now() time.Time { return ms(time.Now()) }

// SaveConnection implements store.ConnectionStore.
func (s *Store) SaveConnection(ctx context.Context, c *store.Connection) error {
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	if c.OrgID == "" {
		return fmt.Errorf("save connection: %w: empty org ID", store.ErrBadValue)
	}
	old := s.conns[c.OrgID]
	var version int64
	created := now()
	if old != nil {
		version, created = old.Version, old.CreatedAt
	}
	if c.Version != version {
		return fmt.Errorf("save connection %s: %w", c.OrgID, store.ErrVersionConflict)
	}
	c.Version = version + 1
	c.CreatedAt, c.UpdatedAt = created, now()
	s.conns[c.OrgID] = copyConn(c)
	return nil
}

func copyConn(c *store.Connection) *store.Connection {
	d := *c
	d.Scopes = slices.Clone(c.Scopes)
	if len(d.Scopes) == 0 {
		d.Scopes = nil
	}
	d.Sealed = slices.Clone(c.Sealed)
	d.IssuedAt = ms(c.IssuedAt)
	return &d
}

// Connection implements store.ConnectionStore.
func (s *Store) Connection(ctx context.Context, orgID string) (*store.Connection, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	c := s.conns[orgID]
	if c == nil {
		return nil, fmt.Errorf("connection %s: %w", orgID, store.ErrNotFound)
	}
	return copyConn(c), nil
}

// Connections implements store.ConnectionStore.
func (s *Store) Connections(ctx context.Context) ([]*store.Connection, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []*store.Connection
	for _, id := range slices.Sorted(maps.Keys(s.conns)) {
		out = append(out, copyConn(s.conns[id]))
	}
	return out, nil
}

// DeleteConnection implements store.ConnectionStore.
func (s *Store) DeleteConnection(ctx context.Context, orgID string) error {
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	if s.conns[orgID] == nil {
		return fmt.Errorf("delete connection %s: %w", orgID, store.ErrNotFound)
	}
	delete(s.conns, orgID)
	return nil
}

// EnsureTable implements store.RecordStore. A column that exists keeps its
// type; a Numeric column takes the new precision and scale.
func (s *Store) EnsureTable(ctx context.Context, t store.Table) error {
	t, err := store.CheckTable(t)
	if err != nil {
		return err
	}
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	tb := s.tables[strings.ToLower(t.Name)]
	if tb == nil {
		s.tables[strings.ToLower(t.Name)] = &table{schema: copyTable(t), rows: map[[2]string]*row{}}
		return nil
	}
	for _, c := range t.Columns {
		i := slices.IndexFunc(tb.schema.Columns, func(o store.Column) bool { return strings.EqualFold(o.Name, c.Name) })
		switch {
		case i < 0:
			tb.schema.Columns = append(tb.schema.Columns, c)
		case tb.schema.Columns[i].Type == c.Type && c.Type == store.Numeric:
			tb.schema.Columns[i].Precision, tb.schema.Columns[i].Scale = c.Precision, c.Scale
		}
	}
	return nil
}

func copyTable(t store.Table) store.Table {
	return store.Table{Name: t.Name, Columns: slices.Clone(t.Columns)}
}

func (s *Store) table(name string) (*table, error) {
	tb := s.tables[strings.ToLower(name)]
	if tb == nil {
		if !store.ValidName(name) {
			return nil, &store.ValueError{Table: name, Err: store.ErrInvalidName}
		}
		return nil, fmt.Errorf("table %s: %w", name, store.ErrNotFound)
	}
	return tb, nil
}

// Table implements store.RecordStore.
func (s *Store) Table(ctx context.Context, name string) (store.Table, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return store.Table{}, err
	}
	defer unlock()
	tb, err := s.table(name)
	if err != nil {
		return store.Table{}, err
	}
	return copyTable(tb.schema), nil
}

// Tables implements store.RecordStore.
func (s *Store) Tables(ctx context.Context) ([]store.Table, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []store.Table
	for _, tb := range s.tables {
		out = append(out, copyTable(tb.schema))
	}
	slices.SortFunc(out, func(a, b store.Table) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// guardTime is the stored or incoming timestamp the guard compares:
// SystemModstamp, else LastModifiedDate, among DateTime columns.
func guardTime(schema store.Table, values map[string]any) (time.Time, bool) {
	for _, f := range [...]string{store.FieldSystemModstamp, store.FieldLastModifiedDate} {
		if c, ok := schema.Column(f); ok && c.Type == store.DateTime {
			if t, ok := values[c.Name].(time.Time); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// Upsert implements store.RecordStore.
func (s *Store) Upsert(ctx context.Context, u store.Upsert) (store.UpsertResult, error) {
	var res store.UpsertResult
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return res, err
	}
	defer unlock()
	rows, tb, err := s.checkUpsert(u)
	if err != nil {
		return res, err
	}
	t := now()
	for _, r := range rows {
		s.apply(tb, u.OrgID, r, t, &res)
	}
	for _, id := range u.Receipts {
		k := [2]string{u.OrgID, id}
		if _, ok := s.receipts[k]; !ok {
			s.receipts[k] = t
		}
	}
	return res, nil
}

// checkUpsert validates the whole batch before anything is written.
func (s *Store) checkUpsert(u store.Upsert) ([]store.Row, *table, error) {
	if u.OrgID == "" {
		return nil, nil, &store.ValueError{Table: u.Object, Column: store.ColOrgID, Err: store.ErrBadValue}
	}
	for _, id := range u.Receipts {
		if id == "" {
			return nil, nil, &store.ValueError{Table: u.Object, Err: fmt.Errorf("%w: empty receipt ID", store.ErrBadValue)}
		}
	}
	if len(u.Rows) == 0 {
		return nil, nil, nil
	}
	tb, err := s.table(u.Object)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]store.Row, len(u.Rows))
	for i, r := range u.Rows {
		if rows[i], err = tb.schema.CheckRow(r); err != nil {
			return nil, nil, err
		}
	}
	return rows, tb, nil
}

func (s *Store) apply(tb *table, org string, r store.Row, t time.Time, res *store.UpsertResult) {
	var del time.Time
	if b, _ := r.Values[store.FieldIsDeleted].(bool); b {
		del = t
	}
	key := [2]string{org, r.ID}
	old := tb.rows[key]
	if old == nil {
		r.Values[store.FieldID] = r.ID
		tb.rows[key] = &row{values: r.Values, syncedAt: t, deletedAt: del}
		res.Inserted++
		return
	}
	if in, ok := guardTime(tb.schema, r.Values); ok {
		if st, ok := guardTime(tb.schema, old.values); ok && st.After(in) {
			res.Stale++
			return
		}
	}
	if c, ok := tb.schema.Column(store.FieldIsDeleted); ok && !old.deletedAt.IsZero() {
		if _, set := r.Values[c.Name]; !set {
			old.values[c.Name] = false
		}
	}
	maps.Copy(old.values, r.Values)
	if del.IsZero() || old.deletedAt.IsZero() {
		old.deletedAt = del
	}
	old.syncedAt = t
	res.Updated++
}

// Delete implements store.RecordStore.
func (s *Store) Delete(ctx context.Context, d store.Delete) (store.DeleteResult, error) {
	var res store.DeleteResult
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return res, err
	}
	defer unlock()
	if len(d.Rows) == 0 {
		return res, nil
	}
	tb, err := s.table(d.Object)
	if err != nil {
		return res, err
	}
	for _, ts := range d.Rows {
		if ts.ID == "" {
			return res, &store.ValueError{Table: tb.schema.Name, Column: store.FieldID, Err: fmt.Errorf("%w: empty record Id", store.ErrBadValue)}
		}
	}
	t := now()
	for _, ts := range d.Rows {
		key := [2]string{d.OrgID, ts.ID}
		old := tb.rows[key]
		mod := ms(ts.Modstamp)
		switch {
		case old == nil:
			res.Missing++
			continue
		case !mod.IsZero():
			if st, ok := guardTime(tb.schema, old.values); ok && st.After(mod) {
				res.Stale++
				continue
			}
		}
		res.Deleted++
		if d.Hard {
			delete(tb.rows, key)
			continue
		}
		markDeleted(tb.schema, old, mod, t)
	}
	return res, nil
}

func markDeleted(schema store.Table, r *row, mod, t time.Time) {
	if r.deletedAt.IsZero() {
		r.deletedAt = t
	}
	r.syncedAt = t
	if c, ok := schema.Column(store.FieldIsDeleted); ok && c.Type == store.Boolean {
		r.values[c.Name] = true
	}
	if mod.IsZero() {
		return
	}
	for _, f := range [...]string{store.FieldSystemModstamp, store.FieldLastModifiedDate} {
		if c, ok := schema.Column(f); ok && c.Type == store.DateTime {
			r.values[c.Name] = mod
			return
		}
	}
}

// Count implements store.RecordStore.
func (s *Store) Count(ctx context.Context, orgID, object string, includeDeleted bool) (int64, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return 0, err
	}
	defer unlock()
	tb, err := s.table(object)
	if err != nil {
		return 0, err
	}
	var n int64
	for k, r := range tb.rows {
		if k[0] == orgID && (includeDeleted || r.deletedAt.IsZero()) {
			n++
		}
	}
	return n, nil
}

// ReadRows implements store.RecordStore.
func (s *Store) ReadRows(ctx context.Context, q store.ReadQuery) ([]store.Row, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tb, err := s.table(q.Object)
	if err != nil {
		return nil, err
	}
	ids := tb.ids(q.OrgID, q.IncludeDeleted, q.AfterID)
	if q.Limit > 0 && len(ids) > q.Limit {
		ids = ids[:q.Limit]
	}
	out := make([]store.Row, 0, len(ids))
	for _, id := range ids {
		out = append(out, tb.read(q.OrgID, id))
	}
	return out, nil
}

func (tb *table) ids(org string, includeDeleted bool, after string) []string {
	var ids []string
	for k, r := range tb.rows {
		if k[0] == org && k[1] > after && (includeDeleted || r.deletedAt.IsZero()) {
			ids = append(ids, k[1])
		}
	}
	slices.Sort(ids)
	return ids
}

func (tb *table) read(org, id string) store.Row {
	r := tb.rows[[2]string{org, id}]
	v := make(map[string]any, len(tb.schema.Columns)+2)
	for _, c := range tb.schema.Columns {
		x, _ := store.CheckValue(c, r.values[c.Name]) // copies slices
		v[c.Name] = x
	}
	v[store.ColSyncedAt] = r.syncedAt
	v[store.ColDeleted] = nil
	if !r.deletedAt.IsZero() {
		v[store.ColDeleted] = r.deletedAt
	}
	return store.Row{ID: id, Values: v}
}

// IDs implements store.RecordStore.
func (s *Store) IDs(ctx context.Context, orgID, object string) ([]string, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tb, err := s.table(object)
	if err != nil {
		return nil, err
	}
	return tb.ids(orgID, false, ""), nil
}

// HasReceipts implements store.RecordStore. The map has an entry for
// every ID asked.
func (s *Store) HasReceipts(ctx context.Context, orgID string, ids []string) (map[string]bool, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		_, out[id] = s.receipts[[2]string{orgID, id}]
	}
	return out, nil
}

// PruneReceipts implements store.RecordStore.
func (s *Store) PruneReceipts(ctx context.Context, before time.Time) (int, error) {
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return 0, err
	}
	defer unlock()
	n := 0
	for k, t := range s.receipts {
		if t.Before(ms(before)) {
			delete(s.receipts, k)
			n++
		}
	}
	return n, nil
}

// SaveObjectMeta implements store.RecordStore.
func (s *Store) SaveObjectMeta(ctx context.Context, orgID string, m store.ObjectMeta) error {
	if orgID == "" || m.Name == "" {
		return fmt.Errorf("save object meta: %w: empty org ID or object name", store.ErrBadValue)
	}
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	if s.metas[orgID] == nil {
		s.metas[orgID] = map[string]store.ObjectMeta{}
	}
	s.metas[orgID][strings.ToLower(m.Name)] = copyMeta(m)
	return nil
}

func copyMeta(m store.ObjectMeta) store.ObjectMeta {
	m.Fields = slices.Clone(m.Fields)
	if len(m.Fields) == 0 {
		m.Fields = nil
	}
	for i, f := range m.Fields {
		f.ReferenceTo = slices.Clone(f.ReferenceTo)
		f.PicklistValues = slices.Clone(f.PicklistValues)
		if len(f.ReferenceTo) == 0 {
			f.ReferenceTo = nil
		}
		if len(f.PicklistValues) == 0 {
			f.PicklistValues = nil
		}
		m.Fields[i] = f
	}
	return m
}

// ObjectMetas implements store.RecordStore.
func (s *Store) ObjectMetas(ctx context.Context, orgID string) ([]store.ObjectMeta, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []store.ObjectMeta
	for _, m := range s.metas[orgID] {
		out = append(out, copyMeta(m))
	}
	slices.SortFunc(out, func(a, b store.ObjectMeta) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// SyncState implements store.StateStore.
func (s *Store) SyncState(ctx context.Context, orgID, object string) (store.SyncState, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return store.SyncState{}, err
	}
	defer unlock()
	st, ok := s.states[[2]string{orgID, strings.ToLower(object)}]
	if !ok {
		return store.SyncState{OrgID: orgID, Object: object}, nil
	}
	st.Object = object
	return st, nil
}

// SaveSyncState implements store.StateStore. A zero UpdatedAt is set to
// the current time.
func (s *Store) SaveSyncState(ctx context.Context, st store.SyncState) error {
	if st.OrgID == "" || st.Object == "" {
		return fmt.Errorf("save sync state: %w: empty org ID or object", store.ErrBadValue)
	}
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	if st.UpdatedAt.IsZero() {
		st.UpdatedAt = time.Now()
	}
	st.Watermark, st.CalculatedAt, st.ReconciledAt, st.UpdatedAt =
		ms(st.Watermark), ms(st.CalculatedAt), ms(st.ReconciledAt), ms(st.UpdatedAt)
	s.states[[2]string{st.OrgID, strings.ToLower(st.Object)}] = st
	return nil
}

// SaveJob implements store.StateStore. A zero CreatedAt is set to the
// current time, in j too.
func (s *Store) SaveJob(ctx context.Context, j *store.Job) error {
	if j.ID == "" {
		return fmt.Errorf("save job: %w: empty job ID", store.ErrBadValue)
	}
	unlock, err := s.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now()
	}
	s.jobs[j.ID] = copyJob(j)
	return nil
}

func copyJob(j *store.Job) *store.Job {
	d := *j
	d.Objects = slices.Clone(j.Objects)
	if len(d.Objects) == 0 {
		d.Objects = nil
	}
	d.Progress = slices.Clone(j.Progress)
	if len(d.Progress) == 0 {
		d.Progress = nil
	}
	for i, p := range d.Progress {
		p.StartedAt, p.FinishedAt = ms(p.StartedAt), ms(p.FinishedAt)
		d.Progress[i] = p
	}
	d.CreatedAt, d.StartedAt, d.FinishedAt = ms(j.CreatedAt), ms(j.StartedAt), ms(j.FinishedAt)
	return &d
}

// Job implements store.StateStore.
func (s *Store) Job(ctx context.Context, id string) (*store.Job, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	j := s.jobs[id]
	if j == nil {
		return nil, fmt.Errorf("job %s: %w", id, store.ErrNotFound)
	}
	return copyJob(j), nil
}

// Jobs implements store.StateStore: newest CreatedAt first, then by ID
// descending.
func (s *Store) Jobs(ctx context.Context, f store.JobFilter) ([]*store.Job, error) {
	unlock, err := s.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []*store.Job
	for _, j := range s.jobs {
		if (f.OrgID == "" || j.OrgID == f.OrgID) && (f.State == "" || j.State == f.State) {
			out = append(out, copyJob(j))
		}
	}
	slices.SortFunc(out, func(a, b *store.Job) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}
