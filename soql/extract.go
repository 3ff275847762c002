package soql

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strings"
)

// Extract describes a full read of one object: every record, ordered by
// Id, optionally after a checkpoint Id.
type Extract struct {
	// Object is the API name of the object to read.
	Object string
	// Fields to select; Id is added first when missing. They must be
	// fields of Object (a Bulk query cannot select compound or base64
	// fields; use metadata.BulkFields for BulkExtract).
	Fields []string
	// Where, when set, filters the records.
	Where Expr
	// All reads deleted and archived rows too (queryAll).
	All bool
	// AfterID resumes after this Id (records with a greater Id); "" reads
	// from the start.
	AfterID string
}

// fields returns the field list with Id first and no duplicates.
func (e Extract) fields() ([]string, error) {
	out := []string{"Id"}
	seen := map[string]bool{"id": true}
	for _, f := range e.Fields {
		if err := checkPath(f); err != nil {
			return nil, err
		}
		k := strings.ToLower(f)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out, nil
}

func (e Extract) where() Expr {
	var parts []Expr
	if e.Where != nil {
		parts = append(parts, e.Where)
	}
	if e.AfterID != "" {
		parts = append(parts, Cmp("Id", Gt, ID(e.AfterID)))
	}
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	return And(parts...)
}

// queries builds the statements of a REST extract: one, or several with
// disjoint field lists (each starting with Id) when one statement's URI
// would exceed the limit.
func (c *Client) queries(e Extract) ([]string, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	fields, err := e.fields()
	if err != nil {
		return nil, err
	}
	base := Select{Fields: []string{"Id"}, From: e.Object, Where: e.where(), OrderBy: []Order{{Field: "Id"}}}
	q, err := base.Build()
	if err != nil {
		return nil, err
	}
	path := "/services/data/v" + c.REST.Version() + "/query?q="
	if e.All {
		path = "/services/data/v" + c.REST.Version() + "/queryAll?q="
	}
	fixed := len(path) + len(url.QueryEscape(q))
	limit := c.MaxURILength
	if limit <= 0 {
		limit = DefaultMaxURILength
	}
	var parts [][]string
	cur, size := []string{"Id"}, fixed
	for _, f := range fields[1:] {
		add := len(url.QueryEscape("," + f))
		if fixed+add > limit {
			return nil, fmt.Errorf("%w: field %s alone makes the query too long", ErrInvalidQuery, f)
		}
		if size+add > limit {
			parts = append(parts, cur)
			cur, size = []string{"Id"}, fixed
		}
		cur = append(cur, f)
		size += add
	}
	parts = append(parts, cur)
	out := make([]string, len(parts))
	for i, fs := range parts {
		s := base
		s.Fields = fs
		if out[i], err = s.Build(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Extract reads every record of e.Object through the REST API, ordered by
// Id, in pages. When the query URI would pass MaxURILength, the field list
// is split into several queries that each select Id and order by Id; their
// rows are merged by Id while streaming, so memory holds one page per
// query. The sequence can be ranged more than once; each range runs the
// queries again.
//
// BUG(extract): with a split field list the queries run one after another
// page by page, not as one snapshot: a record created or deleted between
// them appears in only some of them and is left out, and a record updated
// between them merges fields read before and after the update. Either way
// its SystemModstamp is later than the extract's start, so the
// incremental sync that follows a full extract reads it again.
func (c *Client) Extract(ctx context.Context, e Extract) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		qs, err := c.queries(e)
		if err != nil {
			yield(nil, fmt.Errorf("extract %s: %w", e.Object, err))
			return
		}
		run := func(q string) *Cursor {
			if e.All {
				return c.QueryAll(ctx, q)
			}
			return c.Query(ctx, q)
		}
		if len(qs) == 1 {
			for r, err := range run(qs[0]).Records() {
				if err != nil {
					err = fmt.Errorf("extract %s: %w", e.Object, err)
				}
				if !yield(r, err) || err != nil {
					return
				}
			}
			return
		}
		seqs := make([]iter.Seq2[*Record, error], len(qs))
		for i, q := range qs {
			seqs[i] = run(q).Records()
		}
		for r, err := range mergeByID(seqs) {
			if err != nil {
				err = fmt.Errorf("extract %s: %w", e.Object, err)
			}
			if !yield(r, err) || err != nil {
				return
			}
		}
	}
}

// mergeByID joins sequences ordered by Id: a record is yielded when every
// sequence has it, with the fields of all (Id once), and skipped when some
// lack it.
func mergeByID(seqs []iter.Seq2[*Record, error]) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		type src struct {
			next func() (*Record, error, bool)
			stop func()
			head *Record
		}
		srcs := make([]*src, len(seqs))
		for i, s := range seqs {
			next, stop := iter.Pull2(s)
			srcs[i] = &src{next: next, stop: stop}
			defer stop()
		}
		advance := func(s *src) (bool, error) {
			r, err, ok := s.next()
			if !ok {
				s.head = nil
				return false, nil
			}
			if err != nil {
				return false, err
			}
			s.head = r
			return true, nil
		}
		for _, s := range srcs {
			if ok, err := advance(s); err != nil {
				yield(nil, err)
				return
			} else if !ok {
				return
			}
		}
		for {
			minID := srcs[0].head.ID()
			all := true
			for _, s := range srcs[1:] {
				id := s.head.ID()
				if id != minID {
					all = false
				}
				if id < minID {
					minID = id
				}
			}
			if all {
				if !yield(merge(srcs[0].head, func(yield func(*Record) bool) {
					for _, s := range srcs[1:] {
						if !yield(s.head) {
							return
						}
					}
				}), nil) {
					return
				}
			}
			for _, s := range srcs {
				if s.head.ID() != minID {
					continue
				}
				if ok, err := advance(s); err != nil {
					yield(nil, err)
					return
				} else if !ok {
					return
				}
			}
		}
	}
}

func merge(first *Record, rest iter.Seq[*Record]) *Record {
	n := len(first.fields)
	for r := range rest {
		n += len(r.fields) - 1
	}
	m := &Record{typ: first.typ, url: first.url, fields: make([]Field, 0, n)}
	m.fields = append(m.fields, first.fields...)
	for r := range rest {
		for _, f := range r.fields {
			if f.Name == "Id" {
				continue
			}
			m.fields = append(m.fields, f)
		}
	}
	return m
}
