package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sfsync/salesforce-sync/store"
)

// SaveObjectMeta replaces the stored describe of an object for an org, in
// one transaction. The name matches case-insensitively, and the stored
// name becomes the spelling of m.Name. It lives in _sfsync_objects (one row per object) and
// _sfsync_fields (one row per field, in describe order), which users may
// query like any table.
func (s *Store) SaveObjectMeta(ctx context.Context, orgID string, m store.ObjectMeta) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if orgID == "" || m.Name == "" {
		return &store.ValueError{Table: m.Name, Err: fmt.Errorf("%w: org ID and object name are required", store.ErrBadValue)}
	}
	texts := []string{orgID, m.Name, m.Label}
	for _, f := range m.Fields {
		texts = append(texts, f.Name, f.Label, f.Type, f.RelationshipName)
		texts = append(texts, f.ReferenceTo...)
		texts = append(texts, f.PicklistValues...)
	}
	for _, t := range texts {
		if err := checkText(t); err != nil {
			return &store.ValueError{Table: m.Name, Err: fmt.Errorf("%w: %v", store.ErrBadValue, err)}
		}
	}
	err := s.retryTx(ctx, func(tx pgx.Tx) error {
		var b pgx.Batch
		// The object row is matched case-insensitively (a unique index on
		// lower(name)) and takes the new spelling; its fields follow by
		// ON UPDATE CASCADE. Locking that row first serialises concurrent
		// saves of one object, so the DELETE below sees the other's fields.
		b.Queue(`INSERT INTO `+s.qschema+`._sfsync_objects (org_id, name, label, custom, updated_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (org_id, lower(name)) DO UPDATE SET name = EXCLUDED.name, label = EXCLUDED.label,
				custom = EXCLUDED.custom, updated_at = EXCLUDED.updated_at`,
			orgID, m.Name, m.Label, m.Custom, now())
		b.Queue(`DELETE FROM `+s.qschema+`._sfsync_fields WHERE org_id = $1 AND object = $2`, orgID, m.Name)
		for i, f := range m.Fields {
			b.Queue(`INSERT INTO `+s.qschema+`._sfsync_fields (org_id, object, name, position,
				label, type, custom, length, precision, scale, nillable, reference_to,
				relationship_name, picklist_values)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
				orgID, m.Name, f.Name, i, f.Label, f.Type, f.Custom, f.Length, f.Precision, f.Scale,
				f.Nillable, emptyToNil(f.ReferenceTo), f.RelationshipName, emptyToNil(f.PicklistValues))
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	return s.wrap("save object meta "+m.Name, err)
}

// ObjectMetas lists the stored describes of an org, ordered by name, each
// with its fields in describe order.
func (s *Store) ObjectMetas(ctx context.Context, orgID string) ([]store.ObjectMeta, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT o.name, o.label, o.custom,
			f.name, f.label, f.type, f.custom, f.length, f.precision, f.scale, f.nillable,
			f.reference_to, f.relationship_name, f.picklist_values
		FROM `+s.qschema+`._sfsync_objects o
		LEFT JOIN `+s.qschema+`._sfsync_fields f ON f.org_id = o.org_id AND f.object = o.name
		WHERE o.org_id = $1 ORDER BY o.name, f.position`, orgID)
	if err != nil {
		return nil, s.wrap("object metas", err)
	}
	defer rows.Close()
	var out []store.ObjectMeta
	for rows.Next() {
		var (
			m                      store.ObjectMeta
			fname, flabel, ftype   *string
			fcustom, fnillable     *bool
			flength, fprec, fscale *int
			refs, picks            []string
			rel                    *string
		)
		if err := rows.Scan(&m.Name, &m.Label, &m.Custom, &fname, &flabel, &ftype, &fcustom,
			&flength, &fprec, &fscale, &fnillable, &refs, &rel, &picks); err != nil {
			return nil, s.wrap("object metas", err)
		}
		if len(out) == 0 || out[len(out)-1].Name != m.Name {
			out = append(out, m)
		}
		if fname == nil {
			continue
		}
		last := &out[len(out)-1]
		last.Fields = append(last.Fields, store.FieldMeta{Name: *fname, Label: *flabel, Type: *ftype,
			Custom: *fcustom, Length: *flength, Precision: *fprec, Scale: *fscale, Nillable: *fnillable,
			ReferenceTo: emptyToNil(refs), RelationshipName: *rel, PicklistValues: emptyToNil(picks)})
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("object metas", err)
	}
	return out, nil
}

// HasReceipts reports which of the notification IDs were already applied
// for the org: the map holds true for each of them, and nothing for the
// others.
func (s *Store) HasReceipts(ctx context.Context, orgID string, ids []string) (map[string]bool, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM `+s.qschema+`._sfsync_receipts
		WHERE org_id = $1 AND id = ANY($2)`, orgID, ids)
	if err != nil {
		return nil, s.wrap("receipts", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.wrap("receipts", err)
	}
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}

// PruneReceipts removes receipts recorded before the given time and
// returns how many it removed.
func (s *Store) PruneReceipts(ctx context.Context, before time.Time) (int, error) {
	if err := s.checkOpen(); err != nil {
		return 0, err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM `+s.qschema+`._sfsync_receipts WHERE received_at < $1`, before.UTC())
	if err != nil {
		return 0, s.wrap("prune receipts", err)
	}
	return int(tag.RowsAffected()), nil
}
