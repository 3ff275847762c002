package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sfsync/salesforce-sync/store"
)

// maxAttempts bounds the retries of a transaction that PostgreSQL aborted
// (see retryable); nothing of it was written.
const maxAttempts = 5

// prepRow is a validated row: the indices of the columns it sets (in the
// table's order) and their encoded values.
type prepRow struct {
	id      string
	set     []int
	vals    []any
	deleted bool // the row sets IsDeleted to true
}

// group is rows of one column set with distinct Ids, written by one
// statement.
type group struct {
	set  []int
	rows []*prepRow
}

// Upsert writes the batch in one transaction with the timestamp guard
// (see store.RecordStore and the package documentation for the write
// paths). Rows are checked before anything is sent: a bad name, an
// unknown column or a value that does not fit its column is a
// *store.ValueError and nothing is written.
func (s *Store) Upsert(ctx context.Context, u store.Upsert) (store.UpsertResult, error) {
	if err := s.checkOpen(); err != nil {
		return store.UpsertResult{}, err
	}
	for _, id := range u.Receipts {
		if id == "" || checkText(id) != nil {
			return store.UpsertResult{}, &store.ValueError{Table: u.Object,
				Err: fmt.Errorf("%w: receipt ID %q", store.ErrBadValue, id)}
		}
	}
	var (
		ti   *tableInfo
		rows []*prepRow
	)
	if len(u.Rows) > 0 {
		var err error
		if ti, rows, err = s.prepareUpsert(ctx, u); err != nil {
			return store.UpsertResult{}, err
		}
	} else if u.OrgID == "" || checkText(u.OrgID) != nil {
		return store.UpsertResult{}, &store.ValueError{Table: u.Object, Column: store.ColOrgID,
			Err: fmt.Errorf("%w: org ID %q", store.ErrBadValue, u.OrgID)}
	}
	if len(rows) == 0 && len(u.Receipts) == 0 {
		return store.UpsertResult{}, nil
	}
	rounds := splitRounds(rows)
	syncedAt := now()
	var res store.UpsertResult
	attempt := 0
	err := s.retryTx(ctx, func(tx pgx.Tx) error {
		res = store.UpsertResult{}
		attempt++
		return s.upsertTx(ctx, tx, ti, u, rounds, syncedAt, attempt == 1, &res)
	})
	if err != nil {
		return store.UpsertResult{}, s.wrap("upsert "+u.Object, err)
	}
	return res, nil
}

// prepareUpsert resolves the table and validates and encodes the rows.
// A column unknown to the cached schema sends it to the database once,
// for another instance may have added the column.
func (s *Store) prepareUpsert(ctx context.Context, u store.Upsert) (*tableInfo, []*prepRow, error) {
	if u.OrgID == "" || checkText(u.OrgID) != nil {
		return nil, nil, &store.ValueError{Table: u.Object, Column: store.ColOrgID,
			Err: fmt.Errorf("%w: org ID %q", store.ErrBadValue, u.OrgID)}
	}
	ti, err := s.resolve(ctx, u.Object)
	if err != nil {
		return nil, nil, err
	}
	rows, err := prepareRows(ti, u.Rows)
	if errors.Is(err, store.ErrUnknownColumn) {
		if ti, err = s.cachedTable(ctx, u.Object, true); err != nil {
			return nil, nil, s.wrap("table "+u.Object, err)
		}
		if ti == nil {
			return nil, nil, fmt.Errorf("table %s: %w", u.Object, store.ErrNotFound)
		}
		rows, err = prepareRows(ti, u.Rows)
	}
	return ti, rows, err
}

// parallelPrep is the batch size from which rows are checked and
// converted on several cores.
const parallelPrep = 512

// prepareRows checks and converts the rows of a batch. A large batch is
// split across GOMAXPROCS goroutines; the error reported is that of the
// first bad row, as when checking in order.
func prepareRows(ti *tableInfo, in []store.Row) ([]*prepRow, error) {
	out := make([]*prepRow, len(in))
	workers := min(runtime.GOMAXPROCS(0), len(in)/(parallelPrep/2))
	if len(in) < parallelPrep || workers < 2 {
		for i, r := range in {
			p, err := prepareRow(ti, r)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	}
	chunk := (len(in) + workers - 1) / workers
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(in))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				p, err := prepareRow(ti, in[i])
				if err != nil {
					errs[w] = err
					return
				}
				out[i] = p
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func prepareRow(ti *tableInfo, r store.Row) (*prepRow, error) {
	if r.ID == "" || len(r.ID) > 255 || checkText(r.ID) != nil {
		return nil, &store.ValueError{Table: ti.name, Column: store.FieldID, RowID: r.ID,
			Err: fmt.Errorf("%w: bad record Id", store.ErrBadValue)}
	}
	// The common case: every key spelled as the table spells it. Walking
	// the columns in order gives the set in the table's order.
	p := &prepRow{id: r.ID, set: make([]int, 0, len(r.Values)), vals: make([]any, 0, len(r.Values))}
	matched := 0
	for i, c := range ti.cols {
		v, ok := r.Values[c.Name]
		if !ok {
			continue
		}
		matched++
		if err := p.add(ti, r, i, c.Name, v); err != nil {
			return nil, err
		}
	}
	if matched == len(r.Values) {
		return p, nil
	}
	return prepareRowFold(ti, r)
}

// add appends the value of column i, as the key name gave it.
func (p *prepRow) add(ti *tableInfo, r store.Row, i int, name string, v any) error {
	c := ti.cols[i]
	if c.Name == store.FieldID {
		if id, ok := v.(string); !ok || id != r.ID {
			return &store.ValueError{Table: ti.name, Column: store.FieldID, RowID: r.ID,
				Err: fmt.Errorf("%w: Id value differs from the row's Id", store.ErrBadValue)}
		}
		return nil
	}
	ev, err := encode(c, v)
	if err != nil {
		return &store.ValueError{Table: ti.name, Column: c.Name, RowID: r.ID, Err: err}
	}
	if c.Name == ti.isDeleted && ev == true {
		p.deleted = true
	}
	p.set = append(p.set, i)
	p.vals = append(p.vals, ev)
	return nil
}

// prepareRowFold handles keys in another case than the table's (API
// names match case-insensitively), unknown keys and keys naming one
// column twice.
func prepareRowFold(ti *tableInfo, r store.Row) (*prepRow, error) {
	byCol := make(map[int]string, len(r.Values))
	for name := range r.Values {
		_, i, ok := ti.column(name)
		if !ok {
			return nil, &store.ValueError{Table: ti.name, Column: name, RowID: r.ID, Err: store.ErrUnknownColumn}
		}
		if _, dup := byCol[i]; dup {
			return nil, &store.ValueError{Table: ti.name, Column: ti.cols[i].Name, RowID: r.ID,
				Err: fmt.Errorf("%w: column set twice", store.ErrBadValue)}
		}
		byCol[i] = name
	}
	p := &prepRow{id: r.ID}
	for i := range ti.cols {
		if name, ok := byCol[i]; ok {
			if err := p.add(ti, r, i, name, r.Values[name]); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// splitRounds splits rows so that no Id appears twice in a round (one
// statement may not change a row twice); round k holds the k-th
// occurrence of each Id. Within a round, rows are grouped by column set
// and sorted by Id, so that concurrent batches lock rows in one order.
func splitRounds(rows []*prepRow) [][]*group {
	seen := make(map[string]int, len(rows))
	var rounds [][]*group
	keys := []map[string]*group{}
	for _, r := range rows {
		k := seen[r.id]
		seen[r.id] = k + 1
		if k == len(rounds) {
			rounds = append(rounds, nil)
			keys = append(keys, map[string]*group{})
		}
		sk := setKey(r.set)
		g := keys[k][sk]
		if g == nil {
			g = &group{set: r.set}
			keys[k][sk] = g
			rounds[k] = append(rounds[k], g)
		}
		g.rows = append(g.rows, r)
	}
	for _, round := range rounds {
		for _, g := range round {
			slices.SortFunc(g.rows, func(a, b *prepRow) int { return strings.Compare(a.id, b.id) })
		}
	}
	return rounds
}

func setKey(set []int) string {
	b := make([]byte, 0, len(set)*3)
	for _, i := range set {
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ',')
	}
	return string(b)
}

// retryTx runs f in a transaction, again when PostgreSQL aborted it for a
// deadlock or a serialization failure.
func (s *Store) retryTx(ctx context.Context, f func(pgx.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = pgx.BeginFunc(ctx, s.pool, f)
		if err == nil || attempt == maxAttempts || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		}
	}
}

// retryable reports a deadlock, a serialization failure, or a unique
// violation: copyNew found no stored row of its Ids, then a concurrent
// transaction inserted one (the retry merges instead).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001" || pe.Code == "23505")
}

// upsertTx writes the rounds and the receipts. Consecutive small groups
// go out as one pipeline; a COPY group flushes the pipeline first, so
// rounds stay in order.
func (s *Store) upsertTx(ctx context.Context, tx pgx.Tx, ti *tableInfo, u store.Upsert,
	rounds [][]*group, syncedAt time.Time, direct bool, res *store.UpsertResult) error {
	var (
		batch   pgx.Batch
		pending []int // rows per queued statement
		stage   int
	)
	flush := func() error {
		if batch.Len() == 0 {
			return nil
		}
		br := tx.SendBatch(ctx, &batch)
		for _, n := range pending {
			if n < 0 { // the receipts statement
				if _, err := br.Exec(); err != nil {
					br.Close()
					return err
				}
				continue
			}
			rows, err := br.Query()
			if err != nil {
				br.Close()
				return err
			}
			if err := count(rows, n, res); err != nil {
				br.Close()
				return err
			}
		}
		batch, pending = pgx.Batch{}, nil
		return br.Close()
	}
	for r, round := range rounds {
		for _, g := range round {
			if len(g.rows) >= s.copyMin {
				if err := flush(); err != nil {
					return err
				}
				if direct && r == 0 {
					done, err := s.copyNew(ctx, tx, ti, u.OrgID, g, syncedAt, res)
					if err != nil {
						return err
					}
					if done {
						continue
					}
				}
				stage++
				if err := s.copyGroup(ctx, tx, ti, u.OrgID, g, syncedAt, stage, res); err != nil {
					return err
				}
				continue
			}
			args, err := arrayArgs(ti, u.OrgID, g, syncedAt)
			if err != nil {
				return err
			}
			batch.Queue(s.arrayStmt(ti, g.set), args...)
			pending = append(pending, len(g.rows))
		}
	}
	if len(u.Receipts) > 0 {
		batch.Queue(`INSERT INTO `+s.qschema+`._sfsync_receipts (org_id, id, received_at)
			SELECT $1, r, $3 FROM unnest($2::text[]) AS r ON CONFLICT DO NOTHING`,
			u.OrgID, u.Receipts, syncedAt)
		pending = append(pending, -1)
	}
	return flush()
}

// count adds the RETURNING (xmax = 0) results of a statement of n rows:
// true for an insert, false for an update; rows not returned were stale.
func count(rows pgx.Rows, n int, res *store.UpsertResult) error {
	defer rows.Close()
	got := 0
	for rows.Next() {
		var inserted bool
		if err := rows.Scan(&inserted); err != nil {
			return err
		}
		if inserted {
			res.Inserted++
		} else {
			res.Updated++
		}
		got++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	res.Stale += n - got
	return nil
}

// insertColumns lists the columns an upsert of set writes: the system
// columns, then the set ones.
func (s *Store) insertColumns(ti *tableInfo, set []int) []string {
	cols := make([]string, 0, len(set)+4)
	cols = append(cols, store.ColOrgID, store.FieldID, store.ColSyncedAt, store.ColDeleted)
	for _, i := range set {
		cols = append(cols, ti.cols[i].Name)
	}
	return cols
}

// conflictClause is the ON CONFLICT part shared by both write paths: set
// the given columns, undelete (or keep the deletion of a row that says
// IsDeleted), and apply only where the guard holds.
func (s *Store) conflictClause(ti *tableInfo, set []int) string {
	var b strings.Builder
	b.WriteString(" ON CONFLICT (" + store.ColOrgID + `, "Id") DO UPDATE SET `)
	setsDeleted := false
	for _, i := range set {
		q := quoteIdent(ti.cols[i].Name)
		b.WriteString(q + " = EXCLUDED." + q + ", ")
		if ti.cols[i].Name == ti.isDeleted {
			setsDeleted = true
		}
	}
	if ti.isDeleted != "" && !setsDeleted {
		q := quoteIdent(ti.isDeleted)
		b.WriteString(q + " = CASE WHEN t." + store.ColDeleted + " IS NOT NULL THEN false ELSE t." + q + " END, ")
	}
	b.WriteString(store.ColSyncedAt + " = EXCLUDED." + store.ColSyncedAt + ", ")
	b.WriteString(store.ColDeleted + " = CASE WHEN EXCLUDED." + store.ColDeleted +
		" IS NULL THEN NULL ELSE coalesce(t." + store.ColDeleted + ", EXCLUDED." + store.ColDeleted + ") END")
	if g := guard(ti, "EXCLUDED"); g != "" {
		b.WriteString(" WHERE " + g)
	}
	b.WriteString(" RETURNING (xmax = 0)")
	return b.String()
}

// guard is the condition under which incoming data (the row source named
// in) may overwrite the stored row t. Each side's timestamp is its
// SystemModstamp, else its LastModifiedDate (as store.Row.Modstamp); the
// incoming row is stale only when both sides have one and the stored one
// is newer. Equal timestamps apply, so a repeated write is idempotent.
func guard(ti *tableInfo, in string) string {
	inTS, storedTS := stamp(ti, in), stamp(ti, "t")
	if inTS == "" {
		return ""
	}
	return "coalesce(" + inTS + " >= " + storedTS + ", true)"
}

// stamp is the guard timestamp of the row source named from.
func stamp(ti *tableInfo, from string) string {
	var cols []string
	for _, c := range []string{ti.modstamp, ti.lastModified} {
		if c != "" {
			cols = append(cols, from+"."+quoteIdent(c))
		}
	}
	switch len(cols) {
	case 0:
		return ""
	case 1:
		return cols[0]
	}
	return "coalesce(" + strings.Join(cols, ", ") + ")"
}

// arrayStmt is the single statement that upserts a small group: the
// group's columns arrive as one array parameter each ($1 the org, $2
// the sync time, then Ids, deletion times and the set columns), so that
// the text depends only on the column set and stays prepared on each
// connection whatever the number of rows.
func (s *Store) arrayStmt(ti *tableInfo, set []int) string {
	// The column count is in the key: a column added later (such as
	// SystemModstamp) changes the guard.
	key := ti.name + "\x00" + strconv.Itoa(len(ti.cols)) + "\x00" + setKey(set)
	if v, ok := s.stmts.Load(key); ok {
		return v.(string)
	}
	var ins, sel, arrs, alias strings.Builder
	ins.WriteString(store.ColOrgID + `, "Id", ` + store.ColSyncedAt + ", " + store.ColDeleted)
	sel.WriteString("$1, u.id, $2, u.del")
	arrs.WriteString("$3::text[], $4::timestamptz[]")
	alias.WriteString("id, del")
	for k, i := range set {
		c := ti.cols[i]
		ins.WriteString(", " + quoteIdent(c.Name))
		arr, cast := arrayType(c)
		u := "u.c" + strconv.Itoa(k)
		sel.WriteString(", " + u + cast)
		arrs.WriteString(", $" + strconv.Itoa(k+5) + "::" + arr)
		alias.WriteString(", c" + strconv.Itoa(k))
	}
	sql := "INSERT INTO " + s.qtable(ti) + " AS t (" + ins.String() + ") SELECT " + sel.String() +
		" FROM unnest(" + arrs.String() + ") AS u(" + alias.String() + ")" + s.conflictClause(ti, set)
	s.stmts.Store(key, sql)
	return sql
}

// arrayType is the array type a column's values travel in, and the cast
// from its element to the column type. Decimals and JSON travel as text,
// which the server parses exactly.
func arrayType(c store.Column) (array, cast string) {
	switch c.Type {
	case store.Integer:
		return "bigint[]", ""
	case store.Numeric:
		return "text[]", "::numeric"
	case store.Real:
		return "double precision[]", ""
	case store.Boolean:
		return "boolean[]", ""
	case store.Date:
		return "date[]", ""
	case store.DateTime:
		return "timestamptz[]", ""
	case store.Time:
		return "time[]", ""
	case store.JSON:
		return "text[]", "::jsonb"
	case store.Blob:
		return "bytea[]", ""
	}
	return "text[]", ""
}

// arrayArgs builds the parameters of arrayStmt for a group.
func arrayArgs(ti *tableInfo, org string, g *group, syncedAt time.Time) ([]any, error) {
	n := len(g.rows)
	ids := make([]string, n)
	dels := make([]pgtype.Timestamptz, n)
	for r, row := range g.rows {
		ids[r] = row.id
		dels[r] = pgtype.Timestamptz{Time: syncedAt, Valid: row.deleted}
	}
	args := make([]any, 0, len(g.set)+4)
	args = append(args, org, syncedAt, ids, pgtype.FlatArray[pgtype.Timestamptz](dels))
	for k, i := range g.set {
		col, err := columnArray(ti.cols[i], g.rows, k)
		if err != nil {
			return nil, err
		}
		args = append(args, col)
	}
	return args, nil
}

// plainArray gathers the k-th values into a plain slice (which pgx
// encodes without reflection or per-element plans) when none is NULL.
func plainArray(c store.Column, rows []*prepRow, k int) (any, bool) {
	for _, row := range rows {
		if row.vals[k] == nil {
			return nil, false
		}
	}
	switch c.Type {
	case store.Text:
		return gather[string](rows, k), true
	case store.Integer:
		return gather[int64](rows, k), true
	case store.Real:
		return gather[float64](rows, k), true
	case store.Boolean:
		return gather[bool](rows, k), true
	case store.DateTime:
		return gather[time.Time](rows, k), true
	case store.Numeric:
		a := make([]string, len(rows))
		for r, row := range rows {
			a[r] = string(row.vals[k].(store.Decimal))
		}
		return a, true
	}
	return nil, false
}

func gather[T any](rows []*prepRow, k int) []T {
	a := make([]T, len(rows))
	for r, row := range rows {
		a[r] = row.vals[k].(T)
	}
	return a
}

// columnArray gathers the k-th set value of each row into the typed
// slice pgx encodes as the column's array; nil becomes NULL.
func columnArray(c store.Column, rows []*prepRow, k int) (any, error) {
	n := len(rows)
	if a, ok := plainArray(c, rows, k); ok {
		return a, nil
	}
	switch c.Type {
	case store.Integer:
		a := make([]pgtype.Int8, n)
		for r, row := range rows {
			v, ok := row.vals[k].(int64)
			a[r] = pgtype.Int8{Int64: v, Valid: ok}
		}
		return pgtype.FlatArray[pgtype.Int8](a), nil
	case store.Real:
		a := make([]pgtype.Float8, n)
		for r, row := range rows {
			v, ok := row.vals[k].(float64)
			a[r] = pgtype.Float8{Float64: v, Valid: ok}
		}
		return pgtype.FlatArray[pgtype.Float8](a), nil
	case store.Boolean:
		a := make([]pgtype.Bool, n)
		for r, row := range rows {
			v, ok := row.vals[k].(bool)
			a[r] = pgtype.Bool{Bool: v, Valid: ok}
		}
		return pgtype.FlatArray[pgtype.Bool](a), nil
	case store.Date:
		a := make([]pgtype.Date, n)
		for r, row := range rows {
			v, ok := row.vals[k].(time.Time)
			a[r] = pgtype.Date{Time: v, Valid: ok}
		}
		return pgtype.FlatArray[pgtype.Date](a), nil
	case store.DateTime:
		a := make([]pgtype.Timestamptz, n)
		for r, row := range rows {
			v, ok := row.vals[k].(time.Time)
			a[r] = pgtype.Timestamptz{Time: v, Valid: ok}
		}
		return pgtype.FlatArray[pgtype.Timestamptz](a), nil
	case store.Time:
		a := make([]pgtype.Time, n)
		for r, row := range rows {
			if v, ok := row.vals[k].(pgtype.Time); ok {
				a[r] = v
			}
		}
		return pgtype.FlatArray[pgtype.Time](a), nil
	case store.Blob:
		a := make([][]byte, n)
		for r, row := range rows {
			a[r], _ = row.vals[k].([]byte)
		}
		return pgtype.FlatArray[[]byte](a), nil
	case store.Text, store.Numeric, store.JSON:
		a := make([]pgtype.Text, n)
		for r, row := range rows {
			switch v := row.vals[k].(type) {
			case string:
				a[r] = pgtype.Text{String: v, Valid: true}
			case store.Decimal:
				a[r] = pgtype.Text{String: string(v), Valid: true}
			case []byte:
				a[r] = pgtype.Text{String: string(v), Valid: true}
			}
		}
		return pgtype.FlatArray[pgtype.Text](a), nil
	}
	return nil, fmt.Errorf("column %s: unknown type %q", c.Name, c.Type)
}

// copyNew copies a group straight into the table when none of its Ids
// is stored yet, the shape of a first full sync: every row is an insert,
// and the stage and merge would only cost time. It reports false, having
// written nothing, when some Id is stored. Should another transaction
// insert one of the Ids meanwhile, the COPY fails on the primary key and
// Upsert retries the batch without this shortcut.
func (s *Store) copyNew(ctx context.Context, tx pgx.Tx, ti *tableInfo, org string, g *group,
	syncedAt time.Time, res *store.UpsertResult) (bool, error) {
	ids := make([]string, len(g.rows))
	for i, r := range g.rows {
		ids[i] = r.id
	}
	var stored bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+s.qtable(ti)+` WHERE `+store.ColOrgID+
		` = $1 AND "Id" = ANY($2))`, org, ids).Scan(&stored); err != nil {
		return false, err
	}
	if stored {
		return false, nil
	}
	n, err := copyIn(ctx, tx, s.qtable(ti), ti, s.insertColumns(ti, g.set), org, g, syncedAt)
	if err != nil {
		return false, fmt.Errorf("copy: %w", err)
	}
	res.Inserted += int(n)
	return true, nil
}

// copyGroup stages a group with COPY in a temporary table dropped at
// commit, then merges it with one INSERT ... SELECT ... ON CONFLICT.
func (s *Store) copyGroup(ctx context.Context, tx pgx.Tx, ti *tableInfo, org string, g *group,
	syncedAt time.Time, n int, res *store.UpsertResult) error {
	cols := s.insertColumns(ti, g.set)
	qcols := make([]string, len(cols))
	for i, c := range cols {
		qcols[i] = quoteIdent(c)
	}
	list := strings.Join(qcols, ", ")
	stage := "_sfsync_stage_" + strconv.Itoa(n)
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE "+stage+" ON COMMIT DROP AS SELECT "+list+
		" FROM "+s.qtable(ti)+" WITH NO DATA", pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("create stage: %w", err)
	}
	if _, err := copyIn(ctx, tx, stage, ti, cols, org, g, syncedAt); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	rows, err := tx.Query(ctx, "INSERT INTO "+s.qtable(ti)+" AS t ("+list+") SELECT "+list+
		" FROM "+stage+s.conflictClause(ti, g.set), pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return err
	}
	return count(rows, len(g.rows), res)
}
