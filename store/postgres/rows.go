package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/sfsync/salesforce-sync/store"
)

// Delete marks rows deleted, or removes them with d.Hard, in one
// statement. A tombstone applies unless the stored row is newer than its
// Modstamp (by SystemModstamp, else LastModifiedDate); a zero Modstamp
// always applies. A soft delete sets IsDeleted (where the table has it)
// and _deleted_at (kept when the row was already deleted), and moves the
// stored SystemModstamp (else LastModifiedDate) up to the tombstone's, so
// that a delayed upsert older than the deletion cannot undelete the row.
// A tombstone named twice counts twice, with the outcome of the newer.
func (s *Store) Delete(ctx context.Context, d store.Delete) (store.DeleteResult, error) {
	if err := s.checkOpen(); err != nil {
		return store.DeleteResult{}, err
	}
	if d.OrgID == "" || checkText(d.OrgID) != nil {
		return store.DeleteResult{}, &store.ValueError{Table: d.Object, Column: store.ColOrgID,
			Err: fmt.Errorf("%w: org ID %q", store.ErrBadValue, d.OrgID)}
	}
	if len(d.Rows) == 0 {
		return store.DeleteResult{}, nil
	}
	ti, err := s.resolve(ctx, d.Object)
	if err != nil {
		return store.DeleteResult{}, err
	}
	// One entry per Id: a zero Modstamp (unknown) wins, else the newest.
	stamps := map[string]time.Time{}
	var ids []string
	for _, t := range d.Rows {
		if t.ID == "" || checkText(t.ID) != nil {
			return store.DeleteResult{}, &store.ValueError{Table: ti.name, Column: store.FieldID,
				RowID: t.ID, Err: fmt.Errorf("%w: record Id %q", store.ErrBadValue, t.ID)}
		}
		old, seen := stamps[t.ID]
		switch {
		case !seen:
			ids = append(ids, t.ID)
			stamps[t.ID] = t.Modstamp
		case old.IsZero() || t.Modstamp.IsZero():
			stamps[t.ID] = time.Time{}
		case t.Modstamp.After(old):
			stamps[t.ID] = t.Modstamp
		}
	}
	ms := make([]*time.Time, len(ids))
	for i, id := range ids {
		if t := stamps[id]; !t.IsZero() {
			u := t.UTC().Truncate(time.Millisecond)
			ms[i] = &u
		}
	}
	sql := s.deleteStmt(ti, d.Hard)
	var applied, present map[string]bool
	err = s.retryTx(ctx, func(tx pgx.Tx) error {
		applied, present = map[string]bool{}, map[string]bool{}
		args := []any{d.OrgID, ids, ms}
		if !d.Hard {
			args = append(args, now())
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var done bool
			if err := rows.Scan(&id, &done); err != nil {
				return err
			}
			present[id] = true
			applied[id] = done
		}
		return rows.Err()
	})
	if err != nil {
		return store.DeleteResult{}, s.wrap("delete "+d.Object, err)
	}
	var res store.DeleteResult
	for _, t := range d.Rows {
		switch {
		case applied[t.ID]:
			res.Deleted++
		case present[t.ID]:
			res.Stale++
		default:
			res.Missing++
		}
	}
	return res, nil
}

// deleteStmt builds the delete of tombstones $2 (Ids) with $3 (their
// modstamps, NULL when unknown) of org $1 at time $4. It returns each
// stored Id with whether the tombstone applied to it.
func (s *Store) deleteStmt(ti *tableInfo, hard bool) string {
	cond := `t.` + store.ColOrgID + ` = $1 AND t."Id" = d.id`
	if st := stamp(ti, "t"); st != "" {
		cond += " AND coalesce(d.ms >= " + st + ", true)"
	}
	var change string
	if hard {
		change = "DELETE FROM " + s.qtable(ti) + " AS t USING d WHERE " + cond + ` RETURNING t."Id"`
	} else {
		set := store.ColDeleted + " = coalesce(t." + store.ColDeleted + ", $4), " +
			store.ColSyncedAt + " = $4"
		if ti.isDeleted != "" {
			set += ", " + quoteIdent(ti.isDeleted) + " = true"
		}
		bump := ti.modstamp
		if bump == "" {
			bump = ti.lastModified
		}
		if bump != "" {
			q := quoteIdent(bump)
			set += ", " + q + " = CASE WHEN d.ms IS NOT NULL AND (t." + q + " IS NULL OR d.ms > t." + q +
				") THEN d.ms ELSE t." + q + " END"
		}
		change = "UPDATE " + s.qtable(ti) + " AS t SET " + set + " FROM d WHERE " + cond + ` RETURNING t."Id"`
	}
	// The final SELECT reads the snapshot from before the change, so it
	// sees every row that was stored.
	return `WITH d AS (SELECT * FROM unnest($2::text[], $3::timestamptz[]) AS u(id, ms)),
		c AS (` + change + `)
		SELECT t."Id", EXISTS (SELECT 1 FROM c WHERE c."Id" = t."Id")
		FROM ` + s.qtable(ti) + ` AS t WHERE t.` + store.ColOrgID + ` = $1 AND t."Id" = ANY($2)`
}

// Count counts the rows of an org in a table, excluding rows marked
// deleted unless includeDeleted. An unknown table is store.ErrNotFound.
func (s *Store) Count(ctx context.Context, orgID, object string, includeDeleted bool) (int64, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	ti, err := s.resolve(ctx, object)
	if err != nil {
		return 0, err
	}
	sql := "SELECT count(*) FROM " + s.qtable(ti) + " WHERE " + store.ColOrgID + " = $1"
	if !includeDeleted {
		sql += " AND " + store.ColDeleted + " IS NULL"
	}
	var n int64
	if err := s.pool.QueryRow(ctx, sql, orgID).Scan(&n); err != nil {
		return 0, s.wrap("count "+object, err)
	}
	return n, nil
}

// IDs lists the Ids of an org's rows that are not marked deleted, in
// ascending byte order.
func (s *Store) IDs(ctx context.Context, orgID, object string) ([]string, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	ti, err := s.resolve(ctx, object)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT "Id" FROM `+s.qtable(ti)+" WHERE "+store.ColOrgID+
		" = $1 AND "+store.ColDeleted+` IS NULL ORDER BY "Id"`, orgID)
	if err != nil {
		return nil, s.wrap("ids "+object, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.wrap("ids "+object, err)
	}
	return ids, nil
}

// ReadRows reads rows ordered by Id (byte order). Values hold every
// declared column (NULL as nil) plus ColSyncedAt and ColDeleted.
func (s *Store) ReadRows(ctx context.Context, q store.ReadQuery) ([]store.Row, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if !validName(q.Object) {
		return nil, &store.ValueError{Table: q.Object, Err: store.ErrInvalidName}
	}
	ti, err := s.cachedTable(ctx, q.Object, true)
	if err != nil {
		return nil, s.wrap("read "+q.Object, err)
	}
	if ti == nil {
		return nil, fmt.Errorf("read %s: %w", q.Object, store.ErrNotFound)
	}
	var b strings.Builder
	b.WriteString(`SELECT "Id", ` + store.ColSyncedAt + ", " + store.ColDeleted)
	for _, c := range ti.cols {
		q := quoteIdent(c.Name)
		if c.Type == store.Numeric || c.Type == store.JSON {
			q += "::text"
		}
		b.WriteString(", " + q)
	}
	b.WriteString(" FROM " + s.qtable(ti) + " WHERE " + store.ColOrgID + ` = $1 AND "Id" > $2`)
	if !q.IncludeDeleted {
		b.WriteString(" AND " + store.ColDeleted + " IS NULL")
	}
	b.WriteString(` ORDER BY "Id"`)
	if q.Limit > 0 {
		b.WriteString(fmt.Sprintf(" LIMIT %d", q.Limit))
	}
	rows, err := s.pool.Query(ctx, b.String(), q.OrgID, q.AfterID)
	if err != nil {
		return nil, s.wrap("read "+q.Object, err)
	}
	defer rows.Close()
	var out []store.Row
	for rows.Next() {
		r, err := scanRow(rows, ti)
		if err != nil {
			return nil, s.wrap("read "+q.Object, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("read "+q.Object, err)
	}
	return out, nil
}

func scanRow(rows pgx.Rows, ti *tableInfo) (store.Row, error) {
	var (
		id       string
		synced   *time.Time
		deleted  *time.Time
		dest     = make([]any, 3+len(ti.cols))
		texts    = make([]*string, len(ti.cols))
		ints     = make([]*int64, len(ti.cols))
		floats   = make([]*float64, len(ti.cols))
		bools    = make([]*bool, len(ti.cols))
		times    = make([]*time.Time, len(ti.cols))
		clocks   = make([]pgtype.Time, len(ti.cols))
		blobs    = make([][]byte, len(ti.cols))
		colTypes = ti.cols
	)
	dest[0], dest[1], dest[2] = &id, &synced, &deleted
	for i, c := range colTypes {
		var d any
		switch c.Type {
		case store.Text, store.Numeric, store.JSON:
			d = &texts[i]
		case store.Integer:
			d = &ints[i]
		case store.Real:
			d = &floats[i]
		case store.Boolean:
			d = &bools[i]
		case store.Date, store.DateTime:
			d = &times[i]
		case store.Time:
			d = &clocks[i]
		case store.Blob:
			d = &blobs[i]
		}
		dest[3+i] = d
	}
	if err := rows.Scan(dest...); err != nil {
		return store.Row{}, err
	}
	vals := make(map[string]any, len(ti.cols)+2)
	vals[store.ColSyncedAt] = optTime(synced)
	vals[store.ColDeleted] = optTime(deleted)
	for i, c := range colTypes {
		vals[c.Name] = value(c, texts[i], ints[i], floats[i], bools[i], times[i], clocks[i], blobs[i])
	}
	return store.Row{ID: id, Values: vals}, nil
}

func value(c store.Column, t *string, n *int64, f *float64, b *bool, tm *time.Time, clk pgtype.Time, blob []byte) any {
	switch c.Type {
	case store.Text:
		if t != nil {
			return *t
		}
	case store.Numeric:
		if t != nil {
			return store.Decimal(*t)
		}
	case store.JSON:
		if t != nil {
			return json.RawMessage(*t)
		}
	case store.Integer:
		if n != nil {
			return *n
		}
	case store.Real:
		if f != nil {
			return *f
		}
	case store.Boolean:
		if b != nil {
			return *b
		}
	case store.Date, store.DateTime:
		if tm != nil {
			return tm.UTC()
		}
	case store.Time:
		if clk.Valid {
			return formatTime(clk)
		}
	case store.Blob:
		if blob != nil {
			return blob
		}
	}
	return nil
}

func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}
