package sftest

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// execute runs a compiled query; the caller holds the Org's read lock.
// all includes the recycle bin (queryAll). The records returned are
// immutable snapshots.
func (o *Org) execute(cq *compiledQuery, all bool) []*record {
	ec := &evalCtx{o: o, now: o.now}
	od := cq.root
	// Records are kept in Id order: an Id range in WHERE is a binary
	// search, ORDER BY Id needs no sort, and then LIMIT (with OFFSET)
	// can stop the scan early.
	recs := od.records
	if cq.idLo != "" {
		recs = recs[sort.Search(len(recs), func(i int) bool {
			c := recs[i].id[:15]
			return c > cq.idLo || cq.idLoIncl && c == cq.idLo
		}):]
	}
	if cq.idHi != "" {
		recs = recs[:sort.Search(len(recs), func(i int) bool {
			c := recs[i].id[:15]
			return c > cq.idHi || !cq.idHiIncl && c == cq.idHi
		})]
	}
	stop := -1
	if len(cq.groupBy) == 0 && (len(cq.order) == 0 || cq.orderByID == 1) {
		switch {
		case cq.hasOffset && cq.hasLimit:
			stop = cq.offset + min(cq.limit, 2000)
		case cq.hasOffset:
			stop = cq.offset + 2000
		case cq.hasLimit:
			stop = cq.limit
		}
	}
	var rows []*record
	for _, r := range recs {
		if r.deleted && !all {
			continue
		}
		if cq.where != nil && !cq.where(ec, od, r) {
			continue
		}
		rows = append(rows, r)
		if len(rows) == stop {
			break
		}
	}
	switch {
	case cq.orderByID == -1:
		slices.Reverse(rows)
	case len(cq.order) > 0 && cq.orderByID == 0:
		rows = sortRows(ec, od, rows, cq.order)
	}
	if len(cq.groupBy) > 0 {
		return rows // LIMIT and OFFSET apply to the groups
	}
	if cq.hasOffset {
		rows = rows[min(cq.offset, len(rows)):]
		// A query with OFFSET returns at most 2,000 rows (SOQL.md 7.2).
		if len(rows) > 2000 {
			rows = rows[:2000]
		}
	}
	if cq.hasLimit && len(rows) > cq.limit {
		rows = rows[:cq.limit]
	}
	return rows
}

// sortRows sorts by the ORDER BY keys; ties keep Id order (the records
// are scanned in Id order and the sort is stable).
func sortRows(ec *evalCtx, od *objectDef, rows []*record, keys []orderKey) []*record {
	type keyed struct {
		r    *record
		vals []any
	}
	ks := make([]keyed, len(rows))
	for i, r := range rows {
		vals := make([]any, len(keys))
		for j, k := range keys {
			vals[j] = ec.value(od, r, k.path)
		}
		ks[i] = keyed{r, vals}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		for j, k := range keys {
			if c := compareSort(k, a.vals[j], b.vals[j]); c != 0 {
				return c
			}
		}
		return 0
	})
	out := rows[:0:0]
	for _, k := range ks {
		out = append(out, k.r)
	}
	return out
}

func compareSort(k orderKey, a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if k.nullsLast {
			return 1
		}
		return -1
	case b == nil:
		if k.nullsLast {
			return -1
		}
		return 1
	}
	c := compareValues(k.path.leafDef(), a, b)
	if k.desc {
		return -c
	}
	return c
}

// compareValues orders two non-null values of field f as ORDER BY does
// (SOQL.md 6): picklists by their defined order, text case-insensitively,
// IDs byte-wise on the 15-character core.
func compareValues(f *fieldDef, a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		if f.Type == "id" || f.Type == "reference" {
			return strings.Compare(idCore(x), idCore(y))
		}
		if f.order != nil {
			xi, xok := f.order[x]
			yi, yok := f.order[y]
			if xok && yok {
				return cmp.Compare(xi, yi)
			}
		}
		if c := strings.Compare(strings.ToUpper(x), strings.ToUpper(y)); c != 0 {
			return c
		}
		return strings.Compare(x, y)
	case float64, int64:
		return cmp.Compare(toFloat(a), toFloat(b))
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case time.Time:
		y, _ := b.(time.Time)
		return x.Compare(y)
	}
	return 0
}

// groups computes the AggregateResult rows: one without GROUP BY, else
// one per group in order of first appearance (rows come sorted by any
// ORDER BY), then OFFSET and LIMIT.
func (o *Org) groups(cq *compiledQuery, rows []*record) [][]any {
	if len(cq.groupBy) == 0 {
		return [][]any{o.aggregate(cq, rows)}
	}
	ec := &evalCtx{o: o, now: o.now}
	index := map[string]int{}
	var members [][]*record
	var key strings.Builder
	for _, r := range rows {
		key.Reset()
		for _, g := range cq.groupBy {
			v := ec.value(cq.root, r, g)
			if s, ok := v.(string); ok {
				if f := g.leafDef(); f.Type == "id" || f.Type == "reference" {
					v = idCore(s)
				} else {
					v = strings.ToLower(s)
				}
			}
			fmt.Fprintf(&key, "%T:%v\x00", v, v)
		}
		i, ok := index[key.String()]
		if !ok {
			i = len(members)
			index[key.String()] = i
			members = append(members, nil)
		}
		members[i] = append(members[i], r)
	}
	if cq.hasOffset {
		members = members[min(cq.offset, len(members)):]
	}
	if cq.hasLimit && len(members) > cq.limit {
		members = members[:cq.limit]
	}
	out := make([][]any, len(members))
	for i, m := range members {
		out[i] = o.aggregate(cq, m)
	}
	return out
}

// aggregate computes one AggregateResult row over rows; a GROUP BY column
// takes the first row's value.
func (o *Org) aggregate(cq *compiledQuery, rows []*record) []any {
	ec := &evalCtx{o: o, now: o.now}
	out := make([]any, len(cq.aggs))
	for i, a := range cq.aggs {
		f := a.path.leafDef()
		var (
			count    int64
			sum      float64
			best     any
			distinct = map[any]bool{}
		)
		if a.fn == "" {
			if len(rows) > 0 {
				out[i] = ec.value(cq.root, rows[0], a.path)
			}
			continue
		}
		for _, r := range rows {
			v := ec.value(cq.root, r, a.path)
			if v == nil {
				continue
			}
			count++
			switch a.fn {
			case "sum", "avg":
				sum += toFloat(v)
			case "min", "max":
				if best == nil {
					best = v
				} else if c := compareValues(f, v, best); a.fn == "min" && c < 0 || a.fn == "max" && c > 0 {
					best = v
				}
			case "count_distinct":
				if s, ok := v.(string); ok && (f.Type == "id" || f.Type == "reference") {
					v = idCore(s)
				} else if ok {
					v = strings.ToLower(s)
				}
				distinct[v] = true
			}
		}
		switch a.fn {
		case "count":
			out[i] = count
		case "count_distinct":
			out[i] = int64(len(distinct))
		case "sum":
			if count > 0 {
				out[i] = sum
			}
		case "avg":
			if count > 0 {
				out[i] = sum / float64(count)
			}
		default:
			out[i] = best
		}
	}
	return out
}
