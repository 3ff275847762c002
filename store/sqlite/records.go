package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sfsync/salesforce-sync/store"
)

// tableInfo is the cached schema of one object table. It is replaced, never
// changed, so a reader may keep using one it fetched.
type tableInfo struct {
	schema store.Table
	quoted string
	exact  map[string]int // column name -> index in schema.Columns
	lower  map[string]int // lower-case column name -> index
	guard  []int          // DateTime columns SystemModstamp, LastModifiedDate, in that order
	isDel  int            // the Boolean IsDeleted column, or -1
	idIdx  int
}

func newTableInfo(t store.Table) *tableInfo {
	ti := &tableInfo{schema: t, quoted: quote(t.Name), exact: map[string]int{}, lower: map[string]int{}, isDel: -1}
	for i, c := range t.Columns {
		ti.exact[c.Name] = i
		ti.lower[strings.ToLower(c.Name)] = i
	}
	for _, f := range []string{store.FieldSystemModstamp, store.FieldLastModifiedDate} {
		if i, ok := ti.lower[strings.ToLower(f)]; ok && t.Columns[i].Type == store.DateTime {
			ti.guard = append(ti.guard, i)
		}
	}
	if i, ok := ti.lower[strings.ToLower(store.FieldIsDeleted)]; ok && t.Columns[i].Type == store.Boolean {
		ti.isDel = i
	}
	ti.idIdx = ti.lower["id"]
	return ti
}

func (ti *tableInfo) column(name string) (int, bool) {
	if i, ok := ti.exact[name]; ok {
		return i, true
	}
	i, ok := ti.lower[strings.ToLower(name)]
	return i, ok
}

// guardExpr is the stored row's guard timestamp in SQL, or "" when the
// table has no timestamp column.
func (ti *tableInfo) guardExpr() string {
	switch len(ti.guard) {
	case 0:
		return ""
	case 1:
		return quote(ti.schema.Columns[ti.guard[0]].Name)
	}
	return "coalesce(" + quote(ti.schema.Columns[ti.guard[0]].Name) + ", " + quote(ti.schema.Columns[ti.guard[1]].Name) + ")"
}

// guardClause is the WHERE condition under which a row whose timestamp is
// parameter p applies.
func (ti *tableInfo) guardClause(p string) string {
	g := ti.guardExpr()
	if g == "" {
		return "(" + p + " IS NULL OR 1)"
	}
	return fmt.Sprintf("(%s IS NULL OR %s IS NULL OR %s <= %s)", p, g, g, p)
}

func (s *Store) loadSchemas(ctx context.Context) error {
	rows, err := s.wconn.QueryContext(ctx, `SELECT t.name, c.name, c.type, c.precision, c.scale
		FROM _sfsync_tables t JOIN _sfsync_columns c ON c.table_name = t.name ORDER BY t.name, c.position`)
	if err != nil {
		return fmt.Errorf("load schemas: %w", err)
	}
	defer rows.Close()
	byName := map[string]*store.Table{}
	for rows.Next() {
		var tn string
		var c store.Column
		if err := rows.Scan(&tn, &c.Name, &c.Type, &c.Precision, &c.Scale); err != nil {
			return fmt.Errorf("load schemas: %w", err)
		}
		t := byName[tn]
		if t == nil {
			t = &store.Table{Name: tn}
			byName[tn] = t
		}
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load schemas: %w", err)
	}
	for _, t := range byName {
		s.tables[strings.ToLower(t.Name)] = newTableInfo(*t)
	}
	return nil
}

// info returns the cached schema of a table, or ErrNotFound.
func (s *Store) info(name string) (*tableInfo, error) {
	s.schemaMu.RLock()
	ti := s.tables[strings.ToLower(name)]
	s.schemaMu.RUnlock()
	if ti != nil {
		return ti, nil
	}
	if !store.ValidName(name) {
		return nil, &store.ValueError{Table: name, Err: store.ErrInvalidName}
	}
	return nil, fmt.Errorf("table %s: %w", name, store.ErrNotFound)
}

func cloneTable(t store.Table) store.Table {
	return store.Table{Name: t.Name, Columns: slices.Clone(t.Columns)}
}

// EnsureTable implements store.RecordStore. A column that exists keeps its
// type; a Numeric column takes the new precision and scale (only the
// validation uses them: the value is TEXT either way). The table is named
// with the object's API name; besides the field columns it has _org_id,
// _synced_at and _deleted_at, and the primary key (_org_id, Id).
func (s *Store) EnsureTable(ctx context.Context, t store.Table) error {
	t, err := store.CheckTable(t)
	if err != nil {
		return err
	}
	if strings.HasPrefix(strings.ToLower(t.Name), "sqlite_") {
		return &store.ValueError{Table: t.Name, Err: fmt.Errorf("%w: reserved by SQLite", store.ErrInvalidName)}
	}
	if err := s.check(ctx); err != nil {
		return err
	}
	if old, _ := s.info(t.Name); old != nil && len(schemaChanges(old, t)) == 0 {
		return nil
	}
	err = s.writeAlone(ctx, func(w *wtx) error {
		s.schemaMu.RLock()
		old := s.tables[strings.ToLower(t.Name)]
		s.schemaMu.RUnlock()
		next, err := w.ensure(old, t)
		if err != nil {
			return err
		}
		w.afterCommit(func() {
			s.schemaMu.Lock()
			s.tables[strings.ToLower(next.schema.Name)] = next
			s.schemaMu.Unlock()
			s.resetStmts()
		})
		return nil
	})
	if err != nil {
		return fmt.Errorf("ensure table %s: %w", t.Name, err)
	}
	return nil
}

// schemaChanges lists the columns of t that old lacks or whose precision
// or scale differ (for a Numeric of the same type).
func schemaChanges(old *tableInfo, t store.Table) []store.Column {
	var out []store.Column
	for _, c := range t.Columns {
		i, ok := old.column(c.Name)
		if !ok {
			out = append(out, c)
			continue
		}
		o := old.schema.Columns[i]
		if o.Type == store.Numeric && c.Type == store.Numeric && (o.Precision != c.Precision || o.Scale != c.Scale) {
			out = append(out, c)
		}
	}
	return out
}

func (w *wtx) ensure(old *tableInfo, t store.Table) (*tableInfo, error) {
	now := fmtTime(time.Now())
	if old == nil {
		var b strings.Builder
		fmt.Fprintf(&b, "CREATE TABLE %s (%s TEXT NOT NULL", quote(t.Name), quote(store.ColOrgID))
		for _, c := range t.Columns {
			fmt.Fprintf(&b, ", %s %s", quote(c.Name), sqlType(c.Type))
		}
		fmt.Fprintf(&b, ", %s TEXT NOT NULL, %s TEXT, PRIMARY KEY (%s, %s))",
			quote(store.ColSyncedAt), quote(store.ColDeleted), quote(store.ColOrgID), quote(store.FieldID))
		if _, err := w.exec(b.String()); err != nil {
			return nil, err
		}
		if _, err := w.exec(`INSERT INTO _sfsync_tables (name, created_at) VALUES (?, ?)`, t.Name, now); err != nil {
			return nil, err
		}
		for i, c := range t.Columns {
			if err := w.insertColumn(t.Name, i, c); err != nil {
				return nil, err
			}
		}
		return newTableInfo(cloneTable(t)), nil
	}
	next := cloneTable(old.schema)
	for _, c := range schemaChanges(old, t) {
		if i, ok := old.column(c.Name); ok {
			next.Columns[i].Precision, next.Columns[i].Scale = c.Precision, c.Scale
			if _, err := w.exec(`UPDATE _sfsync_columns SET precision = ?, scale = ? WHERE table_name = ? AND name = ?`,
				c.Precision, c.Scale, old.schema.Name, next.Columns[i].Name); err != nil {
				return nil, err
			}
			continue
		}
		q := fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", old.quoted, quote(c.Name), sqlType(c.Type))
		if _, err := w.exec(q); err != nil {
			return nil, err
		}
		if err := w.insertColumn(old.schema.Name, len(next.Columns), c); err != nil {
			return nil, err
		}
		next.Columns = append(next.Columns, c)
	}
	return newTableInfo(next), nil
}

func (w *wtx) insertColumn(table string, pos int, c store.Column) error {
	_, err := w.exec(`INSERT INTO _sfsync_columns (table_name, position, name, type, precision, scale) VALUES (?, ?, ?, ?, ?, ?)`,
		table, pos, c.Name, string(c.Type), c.Precision, c.Scale)
	return err
}

// Table implements store.RecordStore.
func (s *Store) Table(ctx context.Context, name string) (store.Table, error) {
	if err := s.check(ctx); err != nil {
		return store.Table{}, err
	}
	ti, err := s.info(name)
	if err != nil {
		return store.Table{}, err
	}
	return cloneTable(ti.schema), nil
}

// Tables implements store.RecordStore.
func (s *Store) Tables(ctx context.Context) ([]store.Table, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	s.schemaMu.RLock()
	var out []store.Table
	for _, ti := range s.tables {
		out = append(out, cloneTable(ti.schema))
	}
	s.schemaMu.RUnlock()
	slices.SortFunc(out, func(a, b store.Table) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// prow is a validated row ready for the driver.
type prow struct {
	id   string
	mask []uint64 // bit i set: column i is written (the Id column excluded)
	vals []any    // the driver values of the written columns, in column order
	ts   any      // the guard timestamp as text, or nil
	del  bool     // the row sets IsDeleted true
}

// prepare validates r as store.Table.CheckRow does (same errors), faster:
// a column is found by a map lookup rather than a scan.
func (ti *tableInfo) prepare(r store.Row, scratch []any, p *prow) error {
	name := ti.schema.Name
	if r.ID == "" || len(r.ID) > 255 || !utf8.ValidString(r.ID) {
		return &store.ValueError{Table: name, Column: store.FieldID, RowID: r.ID,
			Err: fmt.Errorf("%w: bad record Id", store.ErrBadValue)}
	}
	words := (len(ti.schema.Columns) + 63) / 64
	if cap(p.mask) < words {
		p.mask = make([]uint64, words)
	}
	p.mask = p.mask[:words]
	clear(p.mask)
	p.id, p.vals, p.ts, p.del = r.ID, p.vals[:0], nil, false
	var stamps [2]any
	for k, v := range r.Values {
		i, ok := ti.column(k)
		if !ok {
			return &store.ValueError{Table: name, Column: k, RowID: r.ID, Err: store.ErrUnknownColumn}
		}
		c := ti.schema.Columns[i]
		if p.mask[i/64]&(1<<(i%64)) != 0 || i == ti.idIdx && scratch[i] != nil {
			return &store.ValueError{Table: name, Column: k, RowID: r.ID,
				Err: fmt.Errorf("%w: column set twice", store.ErrBadValue)}
		}
		var enc any
		var err error
		if v != nil {
			enc, err = checkEncode(c, v)
		}
		if err == nil && i == ti.idIdx && enc != r.ID {
			err = fmt.Errorf("%w: Id value differs from the row Id", store.ErrBadValue)
		}
		if err != nil {
			return &store.ValueError{Table: name, Column: c.Name, RowID: r.ID, Err: err}
		}
		if i == ti.idIdx {
			scratch[i] = true // seen; the Id is always written from r.ID
			continue
		}
		for g, gi := range ti.guard {
			if gi == i && enc != nil {
				stamps[g] = enc
			}
		}
		if i == ti.isDel && enc == boxedTrue {
			p.del = true
		}
		p.mask[i/64] |= 1 << (i % 64)
		scratch[i] = enc
	}
	if stamps[0] != nil {
		p.ts = stamps[0]
	} else if stamps[1] != nil {
		p.ts = stamps[1]
	}
	for wi, word := range p.mask {
		for word != 0 {
			i := wi*64 + bits.TrailingZeros64(word)
			word &= word - 1
			p.vals = append(p.vals, scratch[i])
			scratch[i] = nil
		}
	}
	scratch[ti.idIdx] = nil
	return nil
}

// columnsOf lists the columns a mask selects.
func (ti *tableInfo) columnsOf(mask []uint64) []string {
	var out []string
	for wi, word := range mask {
		for word != 0 {
			i := wi*64 + bits.TrailingZeros64(word)
			word &= word - 1
			out = append(out, quote(ti.schema.Columns[i].Name))
		}
	}
	return out
}

func maskKey(kind string, ti *tableInfo, mask []uint64) string {
	var b strings.Builder
	b.WriteString(kind)
	b.WriteString(strings.ToLower(ti.schema.Name))
	b.WriteByte(0)
	for _, w := range mask {
		for k := 0; k < 8; k++ {
			b.WriteByte(byte(w >> (8 * k)))
		}
	}
	return b.String()
}

// Upsert implements store.RecordStore. Rows are validated first (nothing
// is written when one is bad), then each is written with an INSERT that
// does nothing on a conflict and, for a row already stored, an UPDATE of
// its columns whose WHERE clause is the timestamp guard; the counts come
// from the rows each statement changed. Concurrent Upserts share a
// transaction (see the package doc); each returns after its commit.
func (s *Store) Upsert(ctx context.Context, u store.Upsert) (store.UpsertResult, error) {
	var res store.UpsertResult
	if err := s.check(ctx); err != nil {
		return res, err
	}
	ti, err := s.checkUpsert(u)
	if err != nil {
		return res, err
	}
	// Every row is validated and converted here, before the request
	// reaches the writer: a bad row fails the call without touching the
	// database, and the conversion (a third of the cost of a wide row) runs
	// on the caller's goroutine, in parallel with the writer, rather than
	// inside the one writer where it would hold up every other caller
	// (webhooks waiting behind a 2,000-row full-sync batch).
	var pre []prow
	if !validateInWriter || len(u.Rows) <= smallBatch {
		if pre, err = ti.prepareAll(u.Rows); err != nil {
			return res, err
		}
	}
	if validateInWriter {
		pre = nil
	}
	fn := func(w *wtx) error {
		res = store.UpsertResult{}
		if validateInWriter {
			var err error
			if pre, err = ti.prepareAll(u.Rows); err != nil {
				return err
			}
		}
		now := fmtTime(time.Now())
		if err := w.upsert(ti, u.OrgID, pre, now, &res); err != nil {
			return err
		}
		return w.receipts(u.OrgID, u.Receipts, now)
	}
	if err := s.write(ctx, len(u.Rows)+len(u.Receipts), fn); err != nil {
		return store.UpsertResult{}, fmt.Errorf("upsert %s: %w", u.Object, err)
	}
	return res, nil
}

// checkUpsert checks what is not per row and finds the table.
func (s *Store) checkUpsert(u store.Upsert) (*tableInfo, error) {
	if u.OrgID == "" {
		return nil, &store.ValueError{Table: u.Object, Column: store.ColOrgID, Err: store.ErrBadValue}
	}
	for _, id := range u.Receipts {
		if id == "" {
			return nil, &store.ValueError{Table: u.Object, Err: fmt.Errorf("%w: empty receipt ID", store.ErrBadValue)}
		}
	}
	if len(u.Rows) == 0 {
		return nil, nil
	}
	return s.info(u.Object)
}

// validateInWriter restores, for benchmarks that compare, the former
// scheme: rows validated inside the writer (and small batches once more
// before). It is never set outside tests.
var validateInWriter = false

// smallBatch is the size up to which the former scheme validated a batch
// before submitting it.
const smallBatch = 100

// prepareAll validates and converts rows for the writer. The masks and
// values of all rows share two allocations.
func (ti *tableInfo) prepareAll(in []store.Row) ([]prow, error) {
	if len(in) == 0 {
		return nil, nil
	}
	words := (len(ti.schema.Columns) + 63) / 64
	masks := make([]uint64, words*len(in))
	n := 0
	for _, r := range in {
		n += len(r.Values)
	}
	vals := make([]any, n)
	scratch := make([]any, len(ti.schema.Columns))
	out := make([]prow, len(in))
	for i, r := range in {
		p := &out[i]
		p.mask = masks[i*words : (i+1)*words : (i+1)*words]
		k := min(len(r.Values), len(vals))
		p.vals, vals = vals[:0:k], vals[k:]
		if err := ti.prepare(r, scratch, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (w *wtx) upsert(ti *tableInfo, org string, rows []prow, now any, res *store.UpsertResult) error {
	if len(rows) == 0 {
		return nil
	}
	// The row statements run on the driver connection directly: for wide
	// rows the database/sql layer costs a sixth of the writer's time.
	return w.conn.Raw(func(dc any) error {
		conn, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot prepare", dc)
		}
		var ins, upd driver.StmtExecContext
		var last []uint64
		args := make([]driver.NamedValue, 0, len(ti.schema.Columns)+5)
		for i := range rows {
			r := &rows[i]
			if i == 0 || !slices.Equal(r.mask, last) {
				var err error
				if ins, upd, err = w.rowStmts(conn, ti, r.mask); err != nil {
					return err
				}
				last = append(last[:0], r.mask...)
			}
			var del any
			if r.del {
				del = now
			}
			args = appendArgs(args[:0], org, r.id)
			args = appendArgs(args, r.vals...)
			args = appendArgs(args, now, del)
			n, err := execCount(ins, args)
			if err != nil {
				return fmt.Errorf("row %s: %w", r.id, err)
			}
			if n == 1 {
				res.Inserted++
				continue
			}
			args = appendArgs(args[:0], org, r.id, now, del, r.ts)
			args = appendArgs(args, r.vals...)
			if n, err = execCount(upd, args); err != nil {
				return fmt.Errorf("row %s: %w", r.id, err)
			}
			if n == 1 {
				res.Updated++
			} else {
				res.Stale++
			}
		}
		return nil
	})
}

func appendArgs(args []driver.NamedValue, vs ...any) []driver.NamedValue {
	for _, v := range vs {
		args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v})
	}
	return args
}

func sqlCount(st *sql.Stmt, args ...any) (int64, error) {
	r, err := st.Exec(args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

func execCount(st driver.StmtExecContext, args []driver.NamedValue) (int64, error) {
	r, err := st.ExecContext(context.Background(), args)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// rowStmts returns the INSERT and UPDATE statements for a column set.
func (w *wtx) rowStmts(conn driver.ConnPrepareContext, ti *tableInfo, mask []uint64) (ins, upd driver.StmtExecContext, err error) {
	cols := ti.columnsOf(mask)
	ins, err = w.rawStmt(conn, maskKey("i", ti, mask), func() string {
		all := append([]string{quote(store.ColOrgID), quote(store.FieldID)}, cols...)
		all = append(all, quote(store.ColSyncedAt), quote(store.ColDeleted))
		return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s, %s) DO NOTHING",
			ti.quoted, strings.Join(all, ", "), strings.TrimSuffix(strings.Repeat("?, ", len(all)), ", "),
			quote(store.ColOrgID), quote(store.FieldID))
	})
	if err != nil {
		return nil, nil, err
	}
	upd, err = w.rawStmt(conn, maskKey("u", ti, mask), func() string {
		// ?1 org, ?2 Id, ?3 now, ?4 deleted-at (or NULL), ?5 guard time, ?6... values.
		var set []string
		for i, c := range cols {
			set = append(set, fmt.Sprintf("%s = ?%d", c, i+6))
		}
		del := quote(store.ColDeleted)
		set = append(set, quote(store.ColSyncedAt)+" = ?3",
			fmt.Sprintf("%s = CASE WHEN ?4 IS NULL THEN NULL ELSE coalesce(%s, ?4) END", del, del))
		if ti.isDel >= 0 && mask[ti.isDel/64]&(1<<(ti.isDel%64)) == 0 {
			// Undeleting a row that does not say otherwise clears IsDeleted.
			d := quote(ti.schema.Columns[ti.isDel].Name)
			set = append(set, fmt.Sprintf("%s = CASE WHEN %s IS NOT NULL THEN 0 ELSE %s END", d, del, d))
		}
		return fmt.Sprintf("UPDATE %s SET %s WHERE %s = ?1 AND %s = ?2 AND %s", ti.quoted, strings.Join(set, ", "),
			quote(store.ColOrgID), quote(store.FieldID), ti.guardClause("?5"))
	})
	return ins, upd, err
}

func (w *wtx) receipts(org string, ids []string, now any) error {
	if len(ids) == 0 {
		return nil
	}
	st, err := w.stmt("receipt", func() string {
		return `INSERT INTO _sfsync_receipts (org_id, notification_id, recorded_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := st.Exec(org, id, now); err != nil {
			return fmt.Errorf("receipt %s: %w", id, err)
		}
	}
	return nil
}

// Delete implements store.RecordStore. A soft delete sets _deleted_at (kept
// if already set), IsDeleted where the table has it, and the tombstone's
// Modstamp as the row's SystemModstamp (else LastModifiedDate), so that an
// upsert older than the delete does not undelete the row.
func (s *Store) Delete(ctx context.Context, d store.Delete) (store.DeleteResult, error) {
	var res store.DeleteResult
	if err := s.check(ctx); err != nil {
		return res, err
	}
	if len(d.Rows) == 0 {
		return res, nil
	}
	ti, err := s.info(d.Object)
	if err != nil {
		return res, err
	}
	for _, t := range d.Rows {
		if t.ID == "" {
			return res, &store.ValueError{Table: ti.schema.Name, Column: store.FieldID, Err: fmt.Errorf("%w: empty record Id", store.ErrBadValue)}
		}
	}
	err = s.write(ctx, len(d.Rows), func(w *wtx) error {
		res = store.DeleteResult{}
		return w.delete(ti, d, &res)
	})
	if err != nil {
		return store.DeleteResult{}, fmt.Errorf("delete %s: %w", d.Object, err)
	}
	return res, nil
}

func (w *wtx) delete(ti *tableInfo, d store.Delete, res *store.DeleteResult) error {
	kind := "soft"
	if d.Hard {
		kind = "hard"
	}
	// ?1 org, ?2 Id, ?3 now, ?4 tombstone time (or NULL).
	del, err := w.stmt(kind+"\x00"+strings.ToLower(ti.schema.Name), func() string {
		where := fmt.Sprintf("WHERE %s = ?1 AND %s = ?2 AND %s", quote(store.ColOrgID), quote(store.FieldID), ti.guardClause("?4"))
		if d.Hard {
			return fmt.Sprintf("DELETE FROM %s %s AND (?3 IS NULL OR 1)", ti.quoted, where)
		}
		dc := quote(store.ColDeleted)
		set := []string{fmt.Sprintf("%s = coalesce(%s, ?3)", dc, dc), quote(store.ColSyncedAt) + " = ?3"}
		if ti.isDel >= 0 {
			set = append(set, quote(ti.schema.Columns[ti.isDel].Name)+" = 1")
		}
		if len(ti.guard) > 0 {
			g := quote(ti.schema.Columns[ti.guard[0]].Name)
			set = append(set, fmt.Sprintf("%s = coalesce(?4, %s)", g, g))
		}
		return fmt.Sprintf("UPDATE %s SET %s %s", ti.quoted, strings.Join(set, ", "), where)
	})
	if err != nil {
		return err
	}
	exists, err := w.stmt("exists\x00"+strings.ToLower(ti.schema.Name), func() string {
		return fmt.Sprintf("SELECT count(*) FROM %s WHERE %s = ? AND %s = ?", ti.quoted, quote(store.ColOrgID), quote(store.FieldID))
	})
	if err != nil {
		return err
	}
	now := fmtTime(time.Now())
	for _, t := range d.Rows {
		var mod any
		if !t.Modstamp.IsZero() {
			mod = fmtTime(t.Modstamp.Truncate(time.Millisecond))
		}
		n, err := sqlCount(del, d.OrgID, t.ID, now, mod)
		if err != nil {
			return fmt.Errorf("row %s: %w", t.ID, err)
		}
		if n == 1 {
			res.Deleted++
			continue
		}
		var found int
		if err := exists.QueryRow(d.OrgID, t.ID).Scan(&found); err != nil {
			return fmt.Errorf("row %s: %w", t.ID, err)
		}
		if found > 0 {
			res.Stale++
		} else {
			res.Missing++
		}
	}
	return nil
}

// Count implements store.RecordStore.
func (s *Store) Count(ctx context.Context, orgID, object string, includeDeleted bool) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	ti, err := s.info(object)
	if err != nil {
		return 0, err
	}
	q := fmt.Sprintf("SELECT count(*) FROM %s WHERE %s = ?", ti.quoted, quote(store.ColOrgID))
	if !includeDeleted {
		q += " AND " + quote(store.ColDeleted) + " IS NULL"
	}
	var n int64
	if err := s.readers.QueryRowContext(ctx, q, orgID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", object, s.readErr(err))
	}
	return n, nil
}

// ReadRows implements store.RecordStore.
func (s *Store) ReadRows(ctx context.Context, q store.ReadQuery) ([]store.Row, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	ti, err := s.info(q.Object)
	if err != nil {
		return nil, err
	}
	cols := make([]string, 0, len(ti.schema.Columns)+2)
	for _, c := range ti.schema.Columns {
		cols = append(cols, quote(c.Name))
	}
	cols = append(cols, quote(store.ColSyncedAt), quote(store.ColDeleted))
	query := fmt.Sprintf("SELECT %s FROM %s WHERE %s = ? AND %s > ?", strings.Join(cols, ", "), ti.quoted,
		quote(store.ColOrgID), quote(store.FieldID))
	if !q.IncludeDeleted {
		query += " AND " + quote(store.ColDeleted) + " IS NULL"
	}
	limit := int64(-1)
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	query += fmt.Sprintf(" ORDER BY %s LIMIT ?", quote(store.FieldID))
	rows, err := s.readers.QueryContext(ctx, query, q.OrgID, q.AfterID, limit)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", q.Object, s.readErr(err))
	}
	defer rows.Close()
	var out []store.Row
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read %s: %w", q.Object, err)
		}
		r, err := ti.decodeRow(raw)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", q.Object, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", q.Object, s.readErr(err))
	}
	return out, nil
}

func (ti *tableInfo) decodeRow(raw []any) (store.Row, error) {
	n := len(ti.schema.Columns)
	v := make(map[string]any, n+2)
	for i, c := range ti.schema.Columns {
		x, err := decode(c, raw[i])
		if err != nil {
			return store.Row{}, err
		}
		v[c.Name] = x
	}
	id, _ := v[store.FieldID].(string)
	for i, name := range []string{store.ColSyncedAt, store.ColDeleted} {
		t, err := parseTime(raw[n+i])
		if err != nil {
			return store.Row{}, fmt.Errorf("row %s %s: %w", id, name, err)
		}
		v[name] = nil
		if !t.IsZero() {
			v[name] = t
		}
	}
	return store.Row{ID: id, Values: v}, nil
}

// IDs implements store.RecordStore.
func (s *Store) IDs(ctx context.Context, orgID, object string) ([]string, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	ti, err := s.info(object)
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s = ? AND %s IS NULL ORDER BY %s", quote(store.FieldID), ti.quoted,
		quote(store.ColOrgID), quote(store.ColDeleted), quote(store.FieldID))
	rows, err := s.readers.QueryContext(ctx, q, orgID)
	if err != nil {
		return nil, fmt.Errorf("ids %s: %w", object, s.readErr(err))
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("ids %s: %w", object, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ids %s: %w", object, s.readErr(err))
	}
	return ids, nil
}
