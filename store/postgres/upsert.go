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
	var err error
	if needsCopy(rounds, s.copyMin) {
		err = s.retryTx(ctx, func(tx pgx.Tx) error {
			res = store.UpsertResult{}
			attempt++
			return s.upsertTx(ctx, tx.Conn(), tx, ti, u, rounds, syncedAt, attempt == 1, &res)
		})
	} else {
		// Only single statements: they go out as one pipeline without
		// BEGIN and COMMIT, which PostgreSQL runs as one implicit
		// transaction committed (durably) at its Sync message. One
		// round trip instead of three, with the same atomicity.
		err = s.retry(ctx, func() error {
			res = store.UpsertResult{}
			c, err := s.pool.Acquire(ctx)
			if err != nil {
				return err
			}
			defer c.Release()
			return s.upsertTx(ctx, c.Conn(), nil, ti, u, rounds, syncedAt, false, &res)
		})
	}
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
		var a rowSlab
		for i, r := range in {
			p, err := prepareRow(ti, r, &a)
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
			var a rowSlab
			for i := lo; i < hi; i++ {
				p, err := prepareRow(ti, in[i], &a)
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

// rowSlab hands out prepRows and their slices from shared blocks: a
// batch's rows live and die together, and a few large allocations cost
// the allocator and the garbage collector less than three per row.
type rowSlab struct {
	rows []prepRow
	ints []int
	vals []any
}

// row returns a new prepRow with room for n set columns.
func (a *rowSlab) row(id string, n int) *prepRow {
	if len(a.rows) == cap(a.rows) {
		a.rows = make([]prepRow, 0, 64)
	}
	if cap(a.ints)-len(a.ints) < n {
		a.ints = make([]int, 0, max(64*n, 256))
	}
	if cap(a.vals)-len(a.vals) < n {
		a.vals = make([]any, 0, max(64*n, 256))
	}
	a.rows = a.rows[:len(a.rows)+1]
	p := &a.rows[len(a.rows)-1]
	k, v := len(a.ints), len(a.vals)
	*p = prepRow{id: id, set: a.ints[k : k : k+n], vals: a.vals[v : v : v+n]}
	a.ints, a.vals = a.ints[:k+n], a.vals[:v+n]
	return p
}

func prepareRow(ti *tableInfo, r store.Row, a *rowSlab) (*prepRow, error) {
	if r.ID == "" || len(r.ID) > 255 || checkText(r.ID) != nil {
		return nil, &store.ValueError{Table: ti.name, Column: store.FieldID, RowID: r.ID,
			Err: fmt.Errorf("%w: bad record Id", store.ErrBadValue)}
	}
	// The common case: every key spelled as the table spells it. Walking
	// the row's map (in memory order) and looking each key up in the
	// table's small, hot index costs much less than probing the row's
	// map once per column; has then gives the set in the table's order.
	var (
		hasBuf [128]bool
		valBuf [128]any
		has    []bool
		vals   []any
	)
	if n := len(ti.cols); n <= len(hasBuf) {
		has, vals = hasBuf[:n], valBuf[:n]
	} else {
		has, vals = make([]bool, n), make([]any, n)
	}
	for name, v := range r.Values {
		i, ok := ti.exact[name]
		if !ok {
			return prepareRowFold(ti, r)
		}
		has[i], vals[i] = true, v
	}
	p := a.row(r.ID, len(r.Values))
	for i, c := range ti.cols {
		if !has[i] {
			continue
		}
		if err := p.add(ti, r, i, c.Name, vals[i]); err != nil {
			return nil, err
		}
	}
	return p, nil
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
	ev, err := encodeFast(c, v)
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
	var prevSet []int
	var sk string
	for _, r := range rows {
		k := seen[r.id]
		seen[r.id] = k + 1
		if k == len(rounds) {
			rounds = append(rounds, nil)
			keys = append(keys, map[string]*group{})
		}
		// Rows of a batch mostly share one column set: its key is
		// built once.
		if prevSet == nil || !slices.Equal(prevSet, r.set) {
			prevSet, sk = r.set, setKey(r.set)
		}
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

// needsCopy reports whether a group of the rounds goes through COPY.
func needsCopy(rounds [][]*group, copyMin int) bool {
	for _, round := range rounds {
		for _, g := range round {
			if len(g.rows) >= copyMin {
				return true
			}
		}
	}
	return false
}

// retry runs f, which sends one implicit transaction, again when
// PostgreSQL aborted it as retryTx does.
func (s *Store) retry(ctx context.Context, f func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = f()
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
// violation (copyNew handles its own; kept for safety, the retry merges
// without the direct COPY).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001" || pe.Code == "23505")
}

// upsertTx writes the rounds and the receipts. Consecutive small groups
// go out as one pipeline on conn; a COPY group flushes the pipeline
// first, so rounds stay in order, and needs tx (nil when no group is
// large enough for COPY; conn is then outside a transaction block).
func (s *Store) upsertTx(ctx context.Context, conn *pgx.Conn, tx pgx.Tx, ti *tableInfo, u store.Upsert,
	rounds [][]*group, syncedAt time.Time, direct bool, res *store.UpsertResult) error {
	var (
		stmts []pipeStmt
		stage int
	)
	flush := func() error {
		if len(stmts) == 0 {
			return nil
		}
		err := sendPipeline(ctx, conn, stmts, res)
		stmts = stmts[:0]
		return err
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
			st, err := arrayParams(ti, u.OrgID, g, syncedAt)
			if err != nil {
				return err
			}
			st.sql = s.arrayStmt(ti, g.set)
			stmts = append(stmts, st)
		}
	}
	if len(u.Receipts) > 0 {
		st := receiptParams(u.OrgID, u.Receipts, syncedAt)
		st.sql = `INSERT INTO ` + s.qschema + `._sfsync_receipts (org_id, id, received_at)
			SELECT $1::text, r, $3::timestamptz FROM unnest($2::text[]) AS r ON CONFLICT DO NOTHING`
		stmts = append(stmts, st)
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
	// The cache lives on the tableInfo, which is replaced whenever the
	// table's columns change (a column added, the table dropped and
	// made again with other types), so the text always fits them.
	key := setKey(set)
	if v, ok := ti.stmts.Load(key); ok {
		return v.(string)
	}
	var ins, sel, arrs, alias strings.Builder
	ins.WriteString(store.ColOrgID + `, "Id", ` + store.ColSyncedAt + ", " + store.ColDeleted)
	sel.WriteString("$1::text, u.id, $2::timestamptz, u.del")
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
	ti.stmts.Store(key, sql)
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

// copyNew copies a group straight into the table, the shape of a first
// full sync: every row is an insert, and the stage and merge would only
// cost time. It reports false, having written nothing, when some Id is
// stored: the COPY, in a savepoint, fails on the primary key, and the
// savepoint is rolled back. Trying costs less than looking every Id up
// first, which took longer than the whole COPY of new rows.
func (s *Store) copyNew(ctx context.Context, tx pgx.Tx, ti *tableInfo, org string, g *group,
	syncedAt time.Time, res *store.UpsertResult) (bool, error) {
	// The lowest and highest Ids (the group is sorted) are looked up
	// first, in two index probes: a re-sync of stored rows then skips
	// the failing COPY.
	var stored bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+s.qtable(ti)+` WHERE `+store.ColOrgID+
		` = $1 AND "Id" = ANY($2))`, org, []string{g.rows[0].id, g.rows[len(g.rows)-1].id}).Scan(&stored); err != nil {
		return false, err
	}
	if stored {
		return false, nil
	}
	if _, err := tx.Exec(ctx, "SAVEPOINT _sfsync_copy_new", pgx.QueryExecModeSimpleProtocol); err != nil {
		return false, err
	}
	n, err := copyIn(ctx, tx, s.qtable(ti), ti, s.insertColumns(ti, g.set), org, g, syncedAt)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT _sfsync_copy_new", pgx.QueryExecModeSimpleProtocol); err != nil {
			return false, err
		}
		return false, nil
	}
	if err != nil {
		return false, copyErr(err)
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
		return copyErr(err)
	}
	rows, err := tx.Query(ctx, "INSERT INTO "+s.qtable(ti)+" AS t ("+list+") SELECT "+list+
		" FROM "+stage+s.conflictClause(ti, g.set), pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return err
	}
	return count(rows, len(g.rows), res)
}

// copyErr annotates an error of copyIn; a bad value found while
// encoding is returned as it is, a *store.ValueError.
func copyErr(err error) error {
	var ve *store.ValueError
	if errors.As(err, &ve) {
		return err
	}
	return fmt.Errorf("copy: %w", err)
}
