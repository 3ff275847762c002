package sftest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// fieldPath is a resolved field reference such as Owner.Name: the
// reference fields walked from the root, then the leaf.
type fieldPath struct {
	steps    []*fieldDef
	leaf     *fieldDef // nil when the last step is polymorphic: resolved by leafName per record
	leafName string
	key      string // canonical dotted name, the JSON key path
	relKeys  []string
}

// leafDef is the leaf's field; a polymorphic leaf is treated as text.
func (p *fieldPath) leafDef() *fieldDef {
	if p.leaf != nil {
		return p.leaf
	}
	return &fieldDef{Name: p.leafName, Type: "string", Length: 255}
}

type selNode struct {
	key      string
	head     string // `,"key":`, written before the value
	leaf     *fieldDef
	leafName string
	ref      *fieldDef // a relationship node's reference field
	kids     []*selNode
}

// aggCol is a column of an aggregate query: an aggregate function, or
// (fn "") a GROUP BY field.
type aggCol struct {
	key  string
	fn   string
	path *fieldPath
}

type orderKey struct {
	path      *fieldPath
	desc      bool
	nullsLast bool
}

type evalCtx struct {
	o   *Org
	now time.Time
}

type predicate func(ec *evalCtx, od *objectDef, r *record) bool

// compiledQuery is a parsed query checked against the schema.
type compiledQuery struct {
	text      string
	root      *objectDef
	sel       []*selNode
	flat      []*fieldPath
	aggs      []aggCol
	groupBy   []*fieldPath
	countOnly bool
	where     predicate
	order     []orderKey
	limit     int
	hasLimit  bool
	offset    int
	hasOffset bool
	longText  int
	compound  bool

	// The scan shortcuts execute takes: an Id range from top-level AND
	// comparisons on Id (cores; "" is unbounded), and whether ORDER BY is
	// just Id (the order records are kept in).
	idLo, idHi         string
	idLoIncl, idHiIncl bool
	orderByID          int // 1 ascending, -1 descending, 0 otherwise
}

const fieldAdvice = ". If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."

// compile parses q and checks it against the org's schema; the caller
// holds the Org's read lock.
func (o *Org) compile(q string) (*compiledQuery, *queryError) {
	pq, err := parseSOQL(q)
	if err != nil {
		return nil, err
	}
	od := o.byName[strings.ToLower(pq.object)]
	if od == nil {
		return nil, errAt(q, pq.objPos, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", pq.object))
	}
	c := &compiler{o: o, q: q, root: od, alias: pq.alias}
	cq := &compiledQuery{text: q, root: od, limit: pq.limit, hasLimit: pq.hasLimit, offset: pq.offset, hasOffset: pq.hasOff}
	for _, g := range pq.groupBy {
		p, err := c.path(g.path, g.pos)
		if err != nil {
			return nil, err
		}
		if !p.leafDef().groupable() {
			return nil, errAt(q, g.pos, "INVALID_FIELD", fmt.Sprintf("field '%s' can not be grouped in a query call", p.leafName))
		}
		cq.groupBy = append(cq.groupBy, p)
	}
	if err := c.selectList(cq, pq); err != nil {
		return nil, err
	}
	if pq.where != nil {
		pred, err := c.cond(pq.where)
		if err != nil {
			return nil, err
		}
		cq.where = pred
	}
	for _, it := range pq.order {
		p, err := c.path(it.path, it.pos)
		if err != nil {
			return nil, err
		}
		if !p.leafDef().sortable() {
			return nil, errAt(q, it.pos, "INVALID_FIELD", fmt.Sprintf("field '%s' can not be sorted in a query call", p.leafName))
		}
		cq.order = append(cq.order, orderKey{path: p, desc: it.desc, nullsLast: it.nullsLast})
	}
	if pq.where != nil {
		c.idRange(cq, pq.where)
	}
	if len(cq.order) == 1 {
		if k := cq.order[0]; len(k.path.steps) == 0 && k.path.leaf != nil && k.path.leaf == od.field("Id") {
			cq.orderByID = 1
			if k.desc {
				cq.orderByID = -1
			}
		}
	}
	if len(cq.groupBy) > 0 {
		for _, k := range cq.order {
			if !slices.ContainsFunc(cq.groupBy, func(g *fieldPath) bool { return strings.EqualFold(g.key, k.path.key) }) {
				return nil, malformed(q, -1, "Ordered field must be grouped or aggregated: "+k.path.key)
			}
		}
	} else if len(cq.aggs) > 0 && (len(cq.order) > 0 || pq.hasOff || pq.hasLimit) {
		return nil, malformed(q, -1, "Aggregate query does not support ORDER BY, LIMIT or OFFSET without GROUP BY")
	}
	return cq, nil
}

// idRange narrows cq's Id range by the comparisons on the root's Id that
// n requires (n itself or, through AND, its parts). The WHERE predicate
// still checks every row; the range only skips rows it would reject.
func (c *compiler) idRange(cq *compiledQuery, n *condNode) {
	if n.op == "and" {
		for _, k := range n.kids {
			c.idRange(cq, k)
		}
		return
	}
	if n.op != "cmp" || len(n.vals) != 1 {
		return
	}
	switch n.cmpOp {
	case "=", ">", ">=", "<", "<=":
	default:
		return
	}
	p, err := c.path(n.path, n.pos)
	if err != nil || len(p.steps) != 0 || p.leaf == nil || p.leaf != c.root.field("Id") {
		return
	}
	l, err := c.literal(p.leaf, n.vals[0], n.cmpOp)
	if err != nil || l.null {
		return
	}
	if n.cmpOp != "<" && n.cmpOp != "<=" { // a lower bound: keep the larger
		incl := n.cmpOp != ">"
		if cq.idLo == "" || l.s > cq.idLo || l.s == cq.idLo && !incl {
			cq.idLo, cq.idLoIncl = l.s, incl
		}
	}
	if n.cmpOp != ">" && n.cmpOp != ">=" { // an upper bound: keep the smaller
		incl := n.cmpOp != "<"
		if cq.idHi == "" || l.s < cq.idHi || l.s == cq.idHi && !incl {
			cq.idHi, cq.idHiIncl = l.s, incl
		}
	}
}

type compiler struct {
	o     *Org
	q     string
	root  *objectDef
	alias string
}

func (c *compiler) selectList(cq *compiledQuery, pq *parsedQuery) *queryError {
	seen := map[string]bool{}
	plain, expr := 0, 0
	for _, it := range pq.items {
		if it.countAll {
			if len(pq.items) > 1 || len(pq.groupBy) > 0 {
				return malformed(c.q, it.pos, "COUNT() must be the only element in the SELECT list")
			}
			cq.countOnly = true
			continue
		}
		p, err := c.path(it.path, it.pos)
		if err != nil {
			return err
		}
		if it.agg != "" {
			if err := checkAgg(c.q, it, p); err != nil {
				return err
			}
			key := it.alias
			if key == "" {
				key = "expr" + strconv.Itoa(expr)
				expr++
			}
			if seen[strings.ToLower(key)] {
				return errAt(c.q, it.pos, "INVALID_FIELD", "duplicate alias: "+key)
			}
			seen[strings.ToLower(key)] = true
			cq.aggs = append(cq.aggs, aggCol{key: key, fn: it.agg, path: p})
			continue
		}
		if len(cq.groupBy) > 0 {
			if !slices.ContainsFunc(cq.groupBy, func(g *fieldPath) bool { return strings.EqualFold(g.key, p.key) }) {
				return malformed(c.q, it.pos, "Field must be grouped or aggregated: "+p.key)
			}
			key := it.alias
			if key == "" {
				key = p.leafName
			}
			if seen[strings.ToLower(key)] {
				return errAt(c.q, it.pos, "INVALID_FIELD", "duplicate alias: "+key)
			}
			seen[strings.ToLower(key)] = true
			cq.aggs = append(cq.aggs, aggCol{key: key, path: p})
			continue
		}
		if it.alias != "" {
			return malformed(c.q, it.aliasPos, "unexpected token: '"+it.alias+"'")
		}
		plain++
		if seen[strings.ToLower(p.key)] {
			return errAt(c.q, it.pos, "INVALID_FIELD", "duplicate field selected: "+p.key)
		}
		seen[strings.ToLower(p.key)] = true
		if f := p.leafDef(); f.isLongText() {
			cq.longText++
		}
		if p.leafDef().isCompound() {
			cq.compound = true
		}
		cq.flat = append(cq.flat, p)
		cq.sel = addSel(cq.sel, p, 0)
	}
	if len(cq.aggs) > 0 && plain > 0 {
		for _, it := range pq.items {
			if it.agg == "" {
				return malformed(c.q, it.pos, "Field must be grouped or aggregated: "+it.path)
			}
		}
	}
	return nil
}

func checkAgg(q string, it selectItem, p *fieldPath) *queryError {
	f := p.leafDef()
	switch it.agg {
	case "sum", "avg":
		if !f.isNumber() {
			return malformed(q, it.pos, fmt.Sprintf("field %s does not support aggregate operator %s", p.key, strings.ToUpper(it.agg)))
		}
	case "min", "max":
		if f.isCompound() || f.Type == "boolean" || f.Type == "multipicklist" || f.isLongText() || f.Type == "base64" {
			return malformed(q, it.pos, fmt.Sprintf("field %s does not support aggregate operator %s", p.key, strings.ToUpper(it.agg)))
		}
	default:
		if f.isCompound() || f.isLongText() || f.Type == "base64" {
			return malformed(q, it.pos, fmt.Sprintf("field %s does not support aggregate operator %s", p.key, strings.ToUpper(it.agg)))
		}
	}
	return nil
}

// addSel inserts path p into the selection tree, grouping the fields of
// one relationship under one nested record (SALESFORCE.md 2.2).
func addSel(nodes []*selNode, p *fieldPath, depth int) []*selNode {
	if depth == len(p.steps) {
		return append(nodes, &selNode{key: p.leafName, head: nodeHead(p.leafName), leaf: p.leaf, leafName: p.leafName})
	}
	rk := p.relKeys[depth]
	for _, n := range nodes {
		if n.ref != nil && n.key == rk {
			n.kids = addSel(n.kids, p, depth+1)
			return nodes
		}
	}
	n := &selNode{key: rk, head: nodeHead(rk), ref: p.steps[depth]}
	n.kids = addSel(nil, p, depth+1)
	return append(nodes, n)
}

// nodeHead is the JSON written before a selected value: a comma and the
// key (an API name, which needs no escaping).
func nodeHead(key string) string { return `,"` + key + `":` }

// path resolves a dotted field path from the root object.
func (c *compiler) path(text string, pos int) (*fieldPath, *queryError) {
	segs := strings.Split(text, ".")
	for _, s := range segs {
		if s == "" {
			return nil, malformed(c.q, pos, "unexpected token: '"+text+"'")
		}
	}
	if len(segs) > 1 && (strings.EqualFold(segs[0], c.root.Name) || c.alias != "" && strings.EqualFold(segs[0], c.alias)) &&
		c.root.rels[strings.ToLower(segs[0])] == nil {
		segs = segs[1:]
	}
	if len(segs) > 6 {
		return nil, malformed(c.q, pos, "Relationship path "+text+" is deeper than 5 levels")
	}
	p := &fieldPath{}
	objs := []*objectDef{c.root}
	var keys []string
	for i, s := range segs {
		last := i == len(segs)-1
		if last {
			p.leafName = s
			if len(objs) == 1 {
				f := objs[0].field(s)
				if f == nil {
					return nil, errAt(c.q, pos, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'%s", s, objs[0].Name, fieldAdvice))
				}
				p.leaf, p.leafName = f, f.Name
			} else if !polyHas(objs, s) {
				return nil, errAt(c.q, pos, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity 'Name'%s", s, fieldAdvice))
			} else {
				p.leafName = polyCanonical(objs, s)
			}
			break
		}
		if len(objs) > 1 {
			return nil, errAt(c.q, pos, "INVALID_FIELD", fmt.Sprintf("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", s))
		}
		rf := objs[0].rels[strings.ToLower(s)]
		if rf == nil {
			return nil, errAt(c.q, pos, "INVALID_FIELD", fmt.Sprintf("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.", s))
		}
		p.steps = append(p.steps, rf)
		keys = append(keys, rf.RelationshipName)
		objs = objs[:0:0]
		for _, t := range rf.ReferenceTo {
			if od := c.o.byName[strings.ToLower(t)]; od != nil {
				objs = append(objs, od)
			}
		}
	}
	p.relKeys = keys
	p.key = strings.Join(append(slices.Clone(keys), p.leafName), ".")
	return p, nil
}

// polyHas reports whether a polymorphic relationship's targets know
// field s; Name always resolves (to each target's name field).
func polyHas(objs []*objectDef, s string) bool {
	if strings.EqualFold(s, "Name") || strings.EqualFold(s, "Type") {
		return true
	}
	for _, od := range objs {
		if od.field(s) != nil {
			return true
		}
	}
	return false
}

func polyCanonical(objs []*objectDef, s string) string {
	if strings.EqualFold(s, "Type") {
		return "Type"
	}
	for _, od := range objs {
		if f := od.field(s); f != nil {
			return f.Name
		}
	}
	return "Name"
}

// nameField is the field a polymorphic Name reads on od.
func nameField(od *objectDef) *fieldDef {
	for _, f := range od.Fields {
		if f.NameField {
			return f
		}
	}
	return od.field("Id")
}

// value resolves p on record r of od; nil when a parent on the way is
// null (or in the recycle bin).
func (ec *evalCtx) value(od *objectDef, r *record, p *fieldPath) any {
	cur, co := r, od
	for _, s := range p.steps {
		var ok bool
		if cur, co, ok = ec.parent(co, cur, s); !ok {
			return nil
		}
	}
	f := p.leaf
	if f == nil && p.leafName == "Type" {
		return co.Name
	}
	if f == nil {
		f = co.field(p.leafName)
		if f == nil && p.leafName == "Name" {
			f = nameField(co)
		}
		if f == nil && p.leafName == "Type" {
			return co.Name
		}
		if f == nil {
			return nil
		}
	}
	return cur.get(f, co, ec.now)
}

func (ec *evalCtx) parent(od *objectDef, r *record, ref *fieldDef) (*record, *objectDef, bool) {
	id, _ := r.get(ref, od, ec.now).(string)
	if id == "" {
		return nil, nil, false
	}
	t := ec.o.objectOfID(id)
	if t == nil {
		return nil, nil, false
	}
	pr := t.lookup(id)
	if pr == nil || pr.deleted {
		return nil, nil, false
	}
	return pr, t, true
}

// cond compiles a WHERE tree into a predicate.
func (c *compiler) cond(n *condNode) (predicate, *queryError) {
	switch n.op {
	case "and", "or":
		kids := make([]predicate, len(n.kids))
		for i, k := range n.kids {
			p, err := c.cond(k)
			if err != nil {
				return nil, err
			}
			kids[i] = p
		}
		if n.op == "and" {
			return func(ec *evalCtx, od *objectDef, r *record) bool {
				for _, k := range kids {
					if !k(ec, od, r) {
						return false
					}
				}
				return true
			}, nil
		}
		return func(ec *evalCtx, od *objectDef, r *record) bool {
			for _, k := range kids {
				if k(ec, od, r) {
					return true
				}
			}
			return false
		}, nil
	case "not":
		k, err := c.cond(n.kids[0])
		if err != nil {
			return nil, err
		}
		return func(ec *evalCtx, od *objectDef, r *record) bool { return !k(ec, od, r) }, nil
	}
	return c.comparison(n)
}

// lit is a literal converted to the compared field's type.
type lit struct {
	null  bool
	s     string    // strings (lower case), ids (15-char core), dates
	f     float64   // numbers
	b     bool      // booleans
	t     time.Time // datetimes
	rng   bool      // a date literal range [from, to)
	from  time.Time
	to    time.Time
	parts []string // multipicklist value set
}

func (c *compiler) comparison(n *condNode) (predicate, *queryError) {
	p, err := c.path(n.path, n.pos)
	if err != nil {
		return nil, err
	}
	f := p.leafDef()
	if !f.filterable() {
		return nil, errAt(c.q, n.pos, "INVALID_FIELD", fmt.Sprintf("field '%s' can not be filtered in a query call", f.Name))
	}
	switch n.cmpOp {
	case "like":
		if !f.isString() || f.Type == "multipicklist" || f.Type == "id" || f.Type == "reference" {
			return nil, errAt(c.q, n.pos, "INVALID_FIELD", fmt.Sprintf("invalid operator on field '%s': LIKE works on string fields only", f.Name))
		}
		m := likeMatcher(n.vals[0].str)
		return func(ec *evalCtx, od *objectDef, r *record) bool {
			s, ok := ec.value(od, r, p).(string)
			return ok && m(s)
		}, nil
	case "includes", "excludes":
		if f.Type != "multipicklist" {
			return nil, errAt(c.q, n.pos, "INVALID_FIELD", fmt.Sprintf("invalid operator on field '%s': INCLUDES and EXCLUDES work on multi-select picklists only", f.Name))
		}
	}
	lits := make([]lit, len(n.vals))
	for i, v := range n.vals {
		l, err := c.literal(f, v, n.cmpOp)
		if err != nil {
			return nil, err
		}
		lits[i] = l
	}
	cmp := compareFunc(f)
	get := func(ec *evalCtx, od *objectDef, r *record) any { return ec.value(od, r, p) }
	switch n.cmpOp {
	case "in", "notin":
		neg := n.cmpOp == "notin"
		return func(ec *evalCtx, od *objectDef, r *record) bool {
			v := get(ec, od, r)
			for i := range lits {
				if matchEq(f, v, &lits[i], cmp) {
					return !neg
				}
			}
			return neg
		}, nil
	case "includes", "excludes":
		neg := n.cmpOp == "excludes"
		return func(ec *evalCtx, od *objectDef, r *record) bool {
			s, _ := get(ec, od, r).(string)
			have := splitMulti(s)
			for i := range lits {
				if subset(lits[i].parts, have) {
					return !neg
				}
			}
			return neg
		}, nil
	}
	l := lits[0]
	op := n.cmpOp
	return func(ec *evalCtx, od *objectDef, r *record) bool {
		v := get(ec, od, r)
		switch op {
		case "=":
			return matchEq(f, v, &l, cmp)
		case "!=":
			return !matchEq(f, v, &l, cmp)
		}
		if v == nil {
			return false
		}
		if l.rng {
			t := asTime(f, v)
			switch op {
			case "<":
				return t.Before(l.from)
			case "<=":
				return t.Before(l.to)
			case ">":
				return !t.Before(l.to)
			default:
				return !t.Before(l.from)
			}
		}
		d := cmp(v, &l)
		switch op {
		case "<":
			return d < 0
		case "<=":
			return d <= 0
		case ">":
			return d > 0
		}
		return d >= 0
	}, nil
}

// matchEq is = for any type; null matches a missing value, and a false
// boolean (SOQL.md 5.5).
func matchEq(f *fieldDef, v any, l *lit, cmp func(any, *lit) int) bool {
	if l.null {
		if f.Type == "boolean" {
			b, _ := v.(bool)
			return !b
		}
		return v == nil
	}
	if f.Type == "boolean" {
		b, _ := v.(bool)
		return b == l.b
	}
	if v == nil {
		return false
	}
	if l.rng {
		t := asTime(f, v)
		return !t.Before(l.from) && t.Before(l.to)
	}
	if f.Type == "multipicklist" {
		have := splitMulti(v.(string))
		return len(have) == len(l.parts) && subset(l.parts, have)
	}
	return cmp(v, l) == 0
}

func asTime(f *fieldDef, v any) time.Time {
	switch x := v.(type) {
	case time.Time:
		return x
	case string:
		t, _ := time.Parse("2006-01-02", x)
		return t
	}
	return time.Time{}
}

func splitMulti(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ";")
	for i := range parts {
		parts[i] = strings.ToLower(strings.TrimSpace(parts[i]))
	}
	return parts
}

func subset(want, have []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// compareFunc orders a stored value against a literal for f's type.
func compareFunc(f *fieldDef) func(v any, l *lit) int {
	switch {
	case f.Type == "id" || f.Type == "reference":
		return func(v any, l *lit) int { return strings.Compare(idCore(v.(string)), l.s) }
	case f.isNumber():
		return func(v any, l *lit) int {
			x := toFloat(v)
			switch {
			case x < l.f:
				return -1
			case x > l.f:
				return 1
			}
			return 0
		}
	case f.Type == "datetime":
		return func(v any, l *lit) int { return v.(time.Time).Compare(l.t) }
	case f.Type == "date":
		return func(v any, l *lit) int { return strings.Compare(v.(string), l.s) }
	}
	return func(v any, l *lit) int {
		s, _ := v.(string)
		return strings.Compare(strings.ToLower(s), l.s)
	}
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	}
	return math.NaN()
}

// literal converts token t to f's type, with Salesforce's errors for a
// literal of the wrong kind (SOQL.md 3, 5).
func (c *compiler) literal(f *fieldDef, t token, op string) (lit, *queryError) {
	if t.kind == tIdent && strings.EqualFold(t.text, "null") {
		if op != "=" && op != "!=" && op != "in" && op != "notin" {
			return lit{}, unexpected(c.q, t)
		}
		return lit{null: true}, nil
	}
	wrong := func(typ string) (lit, *queryError) {
		return lit{}, errAt(c.q, t.pos, "INVALID_QUERY_FILTER_OPERATOR",
			fmt.Sprintf("value of filter criterion for field '%s' must be of type %s and should not be enclosed in quotes", f.Name, typ))
	}
	if t.kind == tString && t.pct {
		return lit{}, malformed(c.q, t.pos, fmt.Sprintf("Invalid string literal '%s'. Illegal character sequence '\\%c' in string literal.", t.text, pctChar(t.str)))
	}
	if t.kind == tString && len([]rune(t.str)) > 4000 {
		return lit{}, malformed(c.q, t.pos, "String literal is longer than 4000 characters")
	}
	switch {
	case f.Type == "id" || f.Type == "reference":
		if t.kind != tString {
			return wrong("id")
		}
		if t.str == "" && f.Type == "reference" {
			return lit{null: true}, nil
		}
		if !validIDChars(t.str) {
			return lit{}, errAt(c.q, t.pos, "INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: "+t.str)
		}
		return lit{s: idCore(t.str)}, nil
	case f.Type == "boolean":
		if t.kind == tIdent && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")) {
			if op != "=" && op != "!=" && op != "in" && op != "notin" {
				return lit{}, unexpected(c.q, t)
			}
			return lit{b: strings.EqualFold(t.text, "true")}, nil
		}
		return wrong("boolean")
	case f.isNumber():
		if t.kind != tNumber {
			return wrong(numberTypeName(f))
		}
		x, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return wrong(numberTypeName(f))
		}
		return lit{f: x}, nil
	case f.Type == "date" || f.Type == "datetime":
		if t.kind == tIdent {
			from, to, ok := dateLiteralRange(t.text, c.o.now)
			if !ok {
				return lit{}, unexpected(c.q, t)
			}
			return lit{rng: true, from: from, to: to}, nil
		}
		if f.Type == "date" {
			if t.kind != tDate {
				return wrong("date")
			}
			return lit{s: t.text}, nil
		}
		if t.kind != tDateTime {
			return wrong("dateTime")
		}
		tm, _ := parseDateTimeLiteral(t.text)
		return lit{t: tm}, nil
	case f.Type == "time":
		return wrong("time")
	case f.Type == "multipicklist":
		if t.kind != tString {
			return wrong("string")
		}
		if op != "=" && op != "!=" && op != "includes" && op != "excludes" {
			return lit{}, errAt(c.q, t.pos, "INVALID_QUERY_FILTER_OPERATOR", "invalid operator on multipicklist field")
		}
		return lit{parts: splitMulti(t.str)}, nil
	}
	if t.kind != tString {
		return wrong("string")
	}
	return lit{s: strings.ToLower(t.str)}, nil
}

func pctChar(s string) rune {
	if i := strings.Index(s, `\%`); i >= 0 {
		return '%'
	}
	return '_'
}

func numberTypeName(f *fieldDef) string {
	if f.Type == "int" {
		return "int"
	}
	return "double"
}

// likeMatcher compiles a LIKE pattern (SOQL.md 2.3): % any run, _ one
// character, \% and \_ literal; case-insensitive.
func likeMatcher(pat string) func(string) bool {
	type elem struct {
		r    rune
		kind byte // 'c' char, '%' run, '_' one
	}
	var els []elem
	rs := []rune(strings.ToLower(pat))
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs) && (rs[i+1] == '%' || rs[i+1] == '_'):
			els = append(els, elem{r: rs[i+1], kind: 'c'})
			i++
		case rs[i] == '%':
			els = append(els, elem{kind: '%'})
		case rs[i] == '_':
			els = append(els, elem{kind: '_'})
		default:
			els = append(els, elem{r: rs[i], kind: 'c'})
		}
	}
	return func(s string) bool {
		str := []rune(strings.ToLower(s))
		// Iterative wildcard matching with backtracking to the last %.
		si, pi, star, mark := 0, 0, -1, 0
		for si < len(str) {
			switch {
			case pi < len(els) && (els[pi].kind == '_' || els[pi].kind == 'c' && els[pi].r == str[si]):
				si++
				pi++
			case pi < len(els) && els[pi].kind == '%':
				star, mark = pi, si
				pi++
			case star >= 0:
				pi = star + 1
				mark++
				si = mark
			default:
				return false
			}
		}
		for pi < len(els) && els[pi].kind == '%' {
			pi++
		}
		return pi == len(els)
	}
}
