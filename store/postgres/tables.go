package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/sfsync/salesforce-sync/store"
)

// maxIdent is PostgreSQL's identifier limit (NAMEDATALEN - 1 bytes).
const maxIdent = 63

// tableInfo is the declared schema of one object table, resolved for
// writing. It is never changed once built: a reload replaces it.
type tableInfo struct {
	name string
	cols []store.Column
	idx  map[string]int // lower-case column name -> index in cols
	// exact maps each column name as the table spells it to its index:
	// the lookup of the common case, where a row's keys are spelled so.
	exact map[string]int

	stmts sync.Map // arrayStmt text by column set (setKey)

	// Canonical names of the guard and delete-flag columns, "" when the
	// table has none.
	modstamp, lastModified, isDeleted string
}

func newTableInfo(name string, cols []store.Column) *tableInfo {
	ti := &tableInfo{name: name, cols: cols, idx: make(map[string]int, len(cols)),
		exact: make(map[string]int, len(cols))}
	for i, c := range cols {
		ti.idx[strings.ToLower(c.Name)] = i
		ti.exact[c.Name] = i
		switch {
		case strings.EqualFold(c.Name, store.FieldSystemModstamp) && c.Type == store.DateTime:
			ti.modstamp = c.Name
		case strings.EqualFold(c.Name, store.FieldLastModifiedDate) && c.Type == store.DateTime:
			ti.lastModified = c.Name
		case strings.EqualFold(c.Name, store.FieldIsDeleted) && c.Type == store.Boolean:
			ti.isDeleted = c.Name
		}
	}
	return ti
}

func (ti *tableInfo) column(name string) (store.Column, int, bool) {
	i, ok := ti.idx[strings.ToLower(name)]
	if !ok {
		return store.Column{}, -1, false
	}
	return ti.cols[i], i, true
}

func (ti *tableInfo) table() store.Table {
	return store.Table{Name: ti.name, Columns: append([]store.Column(nil), ti.cols...)}
}

func validName(name string) bool { return store.ValidName(name) }

// sqlType is the native type of a column.
func sqlType(c store.Column) (string, error) {
	switch c.Type {
	case store.Text:
		return "text", nil
	case store.Integer:
		return "bigint", nil
	case store.Numeric:
		if c.Precision < 0 || c.Scale < 0 {
			return "", errors.New("negative precision or scale")
		}
		if c.Precision == 0 || c.Precision > 1000 {
			return "numeric", nil
		}
		if c.Scale > c.Precision {
			return "", errors.New("scale larger than precision")
		}
		return "numeric(" + strconv.Itoa(c.Precision) + "," + strconv.Itoa(c.Scale) + ")", nil
	case store.Real:
		return "double precision", nil
	case store.Boolean:
		return "boolean", nil
	case store.Date:
		return "date", nil
	case store.DateTime:
		return "timestamptz", nil
	case store.Time:
		return "time(3)", nil
	case store.JSON:
		return "jsonb", nil
	case store.Blob:
		return "bytea", nil
	}
	return "", fmt.Errorf("unknown column type %q", c.Type)
}

// checkTable validates the names and types of t with store.CheckTable
// and returns it with its Id column first when t did not declare one.
func checkTable(t store.Table) (store.Table, error) {
	ct, err := store.CheckTable(t)
	if err != nil {
		return t, err
	}
	for _, c := range ct.Columns {
		if _, err := sqlType(c); err != nil {
			return t, &store.ValueError{Table: t.Name, Column: c.Name,
				Err: fmt.Errorf("%w: %v", store.ErrBadValue, err)}
		}
	}
	return ct, nil
}

// EnsureTable creates the table or adds the columns it lacks, in one
// transaction under an advisory lock on the table's name, so that two
// instances ensuring the same table do not race. Names match
// case-insensitively: a table or column that exists under another case
// is the same one. A column that exists keeps its type.
func (s *Store) EnsureTable(ctx context.Context, t store.Table) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	t, err := checkTable(t)
	if err != nil {
		return err
	}
	var ti *tableInfo
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
			"sfsync.table:"+s.schema+"."+strings.ToLower(t.Name)); err != nil {
			return err
		}
		cur, err := s.loadTable(ctx, tx, t.Name)
		if err != nil {
			return err
		}
		if cur == nil {
			ti, err = s.createTable(ctx, tx, t)
		} else {
			ti, err = s.addColumns(ctx, tx, cur, t.Columns)
		}
		return err
	})
	if err != nil {
		return s.wrap("ensure table "+t.Name, err)
	}
	s.cache(ti)
	return nil
}

func (s *Store) createTable(ctx context.Context, tx pgx.Tx, t store.Table) (*tableInfo, error) {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + s.qschema + "." + quoteIdent(t.Name) + " (\n")
	b.WriteString("\t" + store.ColOrgID + ` text COLLATE "C" NOT NULL,` + "\n")
	b.WriteString("\t" + `"Id" text COLLATE "C" NOT NULL,` + "\n")
	for _, c := range t.Columns {
		if strings.EqualFold(c.Name, store.FieldID) {
			continue
		}
		typ, _ := sqlType(c)
		b.WriteString("\t" + quoteIdent(c.Name) + " " + typ + ",\n")
	}
	b.WriteString("\t" + store.ColSyncedAt + " timestamptz NOT NULL,\n")
	b.WriteString("\t" + store.ColDeleted + " timestamptz,\n")
	b.WriteString("\tPRIMARY KEY (" + store.ColOrgID + `, "Id")` + "\n)")
	if _, err := tx.Exec(ctx, b.String()); err != nil {
		return nil, err
	}
	if err := s.register(ctx, tx, t.Name, 0, t.Columns); err != nil {
		return nil, err
	}
	return newTableInfo(t.Name, t.Columns), nil
}

func (s *Store) addColumns(ctx context.Context, tx pgx.Tx, cur *tableInfo, want []store.Column) (*tableInfo, error) {
	var add []store.Column
	for _, c := range want {
		if _, _, ok := cur.column(c.Name); ok {
			continue
		}
		typ, _ := sqlType(c)
		if _, err := tx.Exec(ctx, "ALTER TABLE "+s.qschema+"."+quoteIdent(cur.name)+
			" ADD COLUMN IF NOT EXISTS "+quoteIdent(c.Name)+" "+typ); err != nil {
			return nil, err
		}
		add = append(add, c)
	}
	if len(add) == 0 {
		return cur, nil
	}
	if err := s.register(ctx, tx, cur.name, len(cur.cols), add); err != nil {
		return nil, err
	}
	return newTableInfo(cur.name, append(append([]store.Column(nil), cur.cols...), add...)), nil
}

func (s *Store) register(ctx context.Context, tx pgx.Tx, table string, from int, cols []store.Column) error {
	var batch pgx.Batch
	for i, c := range cols {
		batch.Queue(`INSERT INTO `+s.qschema+`._sfsync_columns
			(table_name, column_name, position, type, precision, scale)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			table, c.Name, from+i, string(c.Type), c.Precision, c.Scale)
	}
	return tx.SendBatch(ctx, &batch).Close()
}

// querier is a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// loadTable reads the declared schema of a table (matched
// case-insensitively), or nil when it does not exist.
func (s *Store) loadTable(ctx context.Context, q querier, name string) (*tableInfo, error) {
	rows, err := q.Query(ctx, `SELECT table_name, column_name, type, precision, scale
		FROM `+s.qschema+`._sfsync_columns
		WHERE lower(table_name) = lower($1) ORDER BY position`, name)
	if err != nil {
		return nil, err
	}
	all, err := collectTables(rows)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return all[0], nil
}

func collectTables(rows pgx.Rows) ([]*tableInfo, error) {
	defer rows.Close()
	var (
		out  []*tableInfo
		name string
		cols []store.Column
	)
	flush := func() {
		if name != "" {
			out = append(out, newTableInfo(name, cols))
		}
	}
	for rows.Next() {
		var tn string
		var c store.Column
		var typ string
		if err := rows.Scan(&tn, &c.Name, &typ, &c.Precision, &c.Scale); err != nil {
			return nil, err
		}
		c.Type = store.ColumnType(typ)
		if tn != name {
			flush()
			name, cols = tn, nil
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	flush()
	return out, nil
}

func (s *Store) cache(ti *tableInfo) {
	if ti == nil {
		return
	}
	s.mu.Lock()
	s.tables[strings.ToLower(ti.name)] = ti
	s.mu.Unlock()
}

// cachedTable returns the schema of a table from the cache, reading it
// from the database when it is not cached or when fresh is set (another
// instance may have added columns). It returns nil when the table does
// not exist.
func (s *Store) cachedTable(ctx context.Context, name string, fresh bool) (*tableInfo, error) {
	if !fresh {
		s.mu.RLock()
		ti := s.tables[strings.ToLower(name)]
		s.mu.RUnlock()
		if ti != nil {
			return ti, nil
		}
	}
	ti, err := s.loadTable(ctx, s.pool, name)
	if err != nil {
		return nil, err
	}
	s.cache(ti)
	return ti, nil
}

// Table returns the declared schema of a table, or store.ErrNotFound.
// The Columns are in the order they were added; the system columns are
// implied.
func (s *Store) Table(ctx context.Context, name string) (store.Table, error) {
	if err := s.checkOpen(); err != nil {
		return store.Table{}, err
	}
	ti, err := s.cachedTable(ctx, name, true)
	if err != nil {
		return store.Table{}, s.wrap("table "+name, err)
	}
	if ti == nil {
		return store.Table{}, fmt.Errorf("table %s: %w", name, store.ErrNotFound)
	}
	return ti.table(), nil
}

// Tables lists the object tables, ordered by name.
func (s *Store) Tables(ctx context.Context) ([]store.Table, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT table_name, column_name, type, precision, scale
		FROM `+s.qschema+`._sfsync_columns ORDER BY table_name, position`)
	if err != nil {
		return nil, s.wrap("tables", err)
	}
	all, err := collectTables(rows)
	if err != nil {
		return nil, s.wrap("tables", err)
	}
	out := make([]store.Table, 0, len(all))
	for _, ti := range all {
		s.cache(ti)
		out = append(out, ti.table())
	}
	return out, nil
}

// resolve returns the schema of an existing table for a write or read,
// or an error wrapping store.ErrInvalidName or store.ErrNotFound.
func (s *Store) resolve(ctx context.Context, name string) (*tableInfo, error) {
	if !validName(name) {
		return nil, &store.ValueError{Table: name, Err: store.ErrInvalidName}
	}
	ti, err := s.cachedTable(ctx, name, false)
	if err != nil {
		return nil, s.wrap("table "+name, err)
	}
	if ti == nil {
		return nil, fmt.Errorf("table %s: %w", name, store.ErrNotFound)
	}
	return ti, nil
}

func (s *Store) qtable(ti *tableInfo) string {
	return s.qschema + "." + quoteIdent(ti.name)
}
