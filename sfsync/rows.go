package sfsync

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sfsync/salesforce-sync/metadata"
	"github.com/sfsync/salesforce-sync/soql"
	"github.com/sfsync/salesforce-sync/store"
)

// rowMapper turns API values into typed row values for one table.
type rowMapper struct {
	table string
	exact map[string]store.Column // by name as stored
	cols  map[string]store.Column // by lower-case name
}

func newRowMapper(t store.Table) *rowMapper {
	m := &rowMapper{table: t.Name, exact: make(map[string]store.Column, len(t.Columns)),
		cols: make(map[string]store.Column, len(t.Columns))}
	for _, c := range t.Columns {
		m.exact[c.Name] = c
		m.cols[strings.ToLower(c.Name)] = c
	}
	return m
}

// column returns the column a field maps to; API names match
// case-insensitively, and the APIs mostly send the describe's spelling.
func (m *rowMapper) column(field string) (store.Column, bool) {
	if c, ok := m.exact[field]; ok {
		return c, true
	}
	c, ok := m.cols[strings.ToLower(field)]
	return c, ok
}

// value types one raw value (nil, string, json.Number, bool or a
// compound map) by its column, as the describe says.
func (m *rowMapper) value(id string, col store.Column, raw any) (any, error) {
	v, err := metadata.Value(col, raw)
	if err != nil {
		return nil, fmt.Errorf("%s %s field %s: %w", m.table, id, col.Name, err)
	}
	return v, nil
}

// fromRecord converts a queried record. Fields that are not columns
// (relationships, attributes) are skipped.
func (m *rowMapper) fromRecord(rec *soql.Record) (store.Row, error) {
	row := store.Row{ID: rec.ID(), Values: map[string]any{}}
	for _, f := range rec.Fields() {
		if _, nested := f.Value.(*soql.Record); nested {
			continue
		}
		col, ok := m.column(f.Name)
		if !ok {
			continue
		}
		v, err := m.value(row.ID, col, f.Value)
		if err != nil {
			return store.Row{}, err
		}
		row.Values[col.Name] = v
	}
	if row.ID == "" {
		if id, ok := row.Values[store.FieldID].(string); ok {
			row.ID = id
		}
	}
	if row.ID == "" {
		return store.Row{}, fmt.Errorf("%s record without Id", m.table)
	}
	return row, nil
}

// timestamp returns a record's timestamp field as a time, zero when
// absent or not a time.
func (m *rowMapper) timestamp(rec *soql.Record, field string) time.Time {
	if field == "" {
		return time.Time{}
	}
	raw, ok := rec.Get(field)
	col, okc := m.column(field)
	if !ok || !okc {
		return time.Time{}
	}
	v, err := metadata.Value(col, raw)
	if err != nil {
		return time.Time{}
	}
	t, _ := v.(time.Time)
	return t
}

// rowTime returns a row's timestamp value (SystemModstamp, else
// LastModifiedDate), zero when it has none.
func rowTime(r store.Row) time.Time {
	for _, f := range []string{store.FieldSystemModstamp, store.FieldLastModifiedDate} {
		if t, ok := r.Values[f].(time.Time); ok {
			return t
		}
	}
	return time.Time{}
}

// writeResult sums what write committed.
type writeResult struct {
	n       int64
	lastID  string    // the greatest Id committed
	ordered bool      // Ids came in ascending order, so lastID is a checkpoint
	maxTS   time.Time // the newest timestamp committed
}

func (r *writeResult) merge(o writeResult) {
	r.n += o.n
	r.maxTS = maxTime(r.maxTS, o.maxTS)
	if o.lastID > r.lastID {
		r.lastID = o.lastID
	}
}

// fetched is one batch handed from the fetching goroutine to the writer.
type fetched struct {
	recs []*soql.Record
	err  error // set on the last batch when fetching failed
}

// write stores the records of seq in batches of Config.BatchSize. A
// goroutine fetches the next batch while the current one is written.
// After each committed batch whose Ids so far ascend, commit (when set)
// is called with the last Id, to save a checkpoint. When fetching fails
// (or ctx is canceled), the records already fetched are still written,
// so a resumed extract refetches nothing it had.
func (o *objectSync) write(ctx context.Context, seq iter.Seq2[*soql.Record, error],
	commit func(ctx context.Context, lastID string) error) (writeResult, error) {
	ch := make(chan fetched, 1)
	stop := make(chan struct{})
	go produce(seq, o.s.cfg.BatchSize, ch, stop)

	res := writeResult{ordered: true}
	var werr error
	for b := range ch {
		if werr != nil {
			continue // draining after a failure; the producer is stopping
		}
		if len(b.recs) > 0 {
			if err := o.commitBatch(ctx, b.recs, &res, commit); err != nil {
				werr = err
				close(stop)
				continue
			}
		}
		if b.err != nil {
			werr = b.err // soql's errors already name the object: "extract Account: ..."
		}
	}
	return res, werr
}

func produce(seq iter.Seq2[*soql.Record, error], size int, ch chan<- fetched, stop <-chan struct{}) {
	defer close(ch)
	send := func(b fetched) bool {
		select {
		case <-stop:
			return false
		default:
		}
		select {
		case ch <- b:
			return true
		case <-stop:
			return false
		}
	}
	var recs []*soql.Record
	for rec, err := range seq {
		if err != nil {
			send(fetched{recs: recs, err: err})
			return
		}
		recs = append(recs, rec)
		if len(recs) >= size {
			if !send(fetched{recs: recs}) {
				return
			}
			recs = make([]*soql.Record, 0, size)
		}
	}
	if len(recs) > 0 {
		send(fetched{recs: recs})
	}
}

func (o *objectSync) commitBatch(ctx context.Context, recs []*soql.Record, res *writeResult,
	commit func(ctx context.Context, lastID string) error) error {
	rows := make([]store.Row, 0, len(recs))
	for _, rec := range recs {
		row, err := o.info.mapper.fromRecord(rec)
		if err != nil {
			return err
		}
		if res.lastID != "" && row.ID <= res.lastID {
			res.ordered = false
		}
		if row.ID > res.lastID {
			res.lastID = row.ID
		}
		res.maxTS = maxTime(res.maxTS, rowTime(row))
		rows = append(rows, row)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	_, lost, err := o.s.upsert(wctx, store.Upsert{OrgID: o.oc.orgID, Object: o.info.table.Name, Rows: rows})
	o.noteLeftOut(lost)
	if err != nil {
		return fmt.Errorf("store %s rows: %w", o.run.name, err)
	}
	res.n += int64(len(rows))
	o.run.add(int64(len(rows)), 0)
	if commit != nil && res.ordered {
		return commit(wctx, res.lastID)
	}
	return nil
}

// maxDropped bounds how many unfit values one batch may shed.
const maxDropped = 100

// leftOut is one value upsert left out of its row.
type leftOut struct {
	id, column string
	err        error
}

// upsert writes u for a sync. A value the Store refuses as not fitting
// its column (store.ErrBadValue: say a number beyond the field's
// precision, which Salesforce itself may hold after a field's precision
// was reduced) does not fail the batch: that one value is left out of
// its row (the column keeps its stored value, NULL for a new row), the
// batch is written again, and the loss is returned, logged at Warn,
// counted in Stats.ValuesLeftOut and listed in Stats.RecentErrors; the
// object's progress (and so the job record) names it too. Failing the
// batch instead would stop every other record of the object for good,
// as the value can never fit. Any other error fails the batch, as does a
// batch with more than maxDropped such values.
//
// Apply does not use it: a message whose value the Store refuses fails,
// so that the acknowledgement always means "stored" (the next sync stores
// the record, leaving out only that value, visibly).
func (s *Syncer) upsert(ctx context.Context, u store.Upsert) (store.UpsertResult, []leftOut, error) {
	var lost []leftOut
	for dropped := 0; ; dropped++ {
		res, err := s.st.Upsert(ctx, u)
		var ve *store.ValueError
		if err == nil || dropped >= maxDropped || !errors.Is(err, store.ErrBadValue) || !errors.As(err, &ve) || ve.RowID == "" || ve.Column == "" {
			return res, lost, err
		}
		i := slices.IndexFunc(u.Rows, func(r store.Row) bool { return r.ID == ve.RowID })
		if i < 0 {
			return res, lost, err
		}
		if _, ok := u.Rows[i].Values[ve.Column]; !ok {
			return res, lost, err
		}
		u.Rows = slices.Clone(u.Rows)
		vals := maps.Clone(u.Rows[i].Values)
		delete(vals, ve.Column)
		u.Rows[i].Values = vals
		lost = append(lost, leftOut{id: ve.RowID, column: ve.Column, err: err})
		s.log.WarnContext(ctx, "value left out: it does not fit its column", "org", u.OrgID, "object", u.Object,
			"id", ve.RowID, "column", ve.Column, "err", err)
		s.stats.leftOut(ErrorRecord{OrgID: u.OrgID, Source: "sync",
			Text: fmt.Sprintf("%s %s: value of %s left out: %v", u.Object, ve.RowID, ve.Column, err)})
	}
}
