package sftest

import (
	"strconv"
	"strings"
)

// The SOQL parser: SELECT fields FROM object [WHERE] [ORDER BY] [LIMIT]
// [OFFSET], the subset sync tools send (SOQL.md 4.1). Everything else the
// fake rejects with MALFORMED_QUERY rather than silently accepting it
// (SOQL.md "What a fake server must reject").

type selectItem struct {
	path     string
	pos      int
	aliasPos int
	agg      string // "" for a plain field; count, count_distinct, sum, avg, min, max
	countAll bool   // COUNT()
	alias    string
}

type orderItem struct {
	path      string
	pos       int
	desc      bool
	nullsLast bool
}

type condNode struct {
	op    string // and, or, not, cmp
	kids  []*condNode
	path  string
	pos   int
	cmpOp string // = != < <= > >= like in notin includes excludes
	vals  []token
}

type parsedQuery struct {
	items            []selectItem
	object, alias    string
	objPos           int
	where            *condNode
	groupBy          []selectItem
	order            []orderItem
	limit, offset    int
	hasLimit, hasOff bool
}

// reserved words cannot be identifiers or aliases (SOQL.md 1.4).
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields("and or true false with for limit where else rollup cube having includes excludes in not by asc desc nulls select from lookup as using null update first last like bind hierarchical group") {
		reserved[w] = true
	}
}

type parser struct {
	q    string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token { t := p.toks[p.i]; p.i = min(p.i+1, len(p.toks)-1); return t }

func isKw(t token, kw string) bool   { return t.kind == tIdent && strings.EqualFold(t.text, kw) }
func isPunct(t token, s string) bool { return t.kind == tPunct && t.text == s }

func (p *parser) expectKw(kw string) *queryError {
	if t := p.next(); !isKw(t, kw) {
		return unexpected(p.q, t)
	}
	return nil
}

func (p *parser) expectPunct(s string) *queryError {
	if t := p.next(); !isPunct(t, s) {
		return unexpected(p.q, t)
	}
	return nil
}

// parseSOQL parses q into a parsedQuery; it checks syntax only.
func parseSOQL(q string) (*parsedQuery, *queryError) {
	if len(q) > 100_000 {
		return nil, &queryError{code: "MALFORMED_QUERY", msg: "SOQL statements can not be longer than 100000 characters"}
	}
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{q: q, toks: toks}
	pq := &parsedQuery{}
	if err := p.expectKw("SELECT"); err != nil {
		return nil, err
	}
	if err := p.parseSelectList(pq); err != nil {
		return nil, err
	}
	if err := p.expectKw("FROM"); err != nil {
		return nil, err
	}
	t := p.next()
	// GROUP and ORDER are keywords only before BY: Group is an object (SOQL.md 1.4).
	if t.kind != tIdent || reserved[strings.ToLower(t.text)] && !strings.EqualFold(t.text, "group") || strings.Contains(t.text, ".") {
		return nil, unexpected(q, t)
	}
	pq.object, pq.objPos = t.text, t.pos
	if a := p.peek(); a.kind == tIdent && !isClauseWord(a) && !reserved[strings.ToLower(a.text)] {
		pq.alias = p.next().text
	}
	if isKw(p.peek(), "WHERE") {
		p.next()
		c, err := p.parseCond(true)
		if err != nil {
			return nil, err
		}
		pq.where = c
	}
	if isKw(p.peek(), "GROUP") && isKw(p.toks[p.i+1], "BY") {
		p.i += 2
		for {
			t := p.next()
			if t.kind != tIdent || reserved[strings.ToLower(t.text)] || isPunct(p.peek(), "(") {
				if isPunct(p.peek(), "(") {
					return nil, malformed(q, t.pos, "unexpected token: '"+t.text+"' (GROUP BY functions, ROLLUP and CUBE are not supported by sftest)")
				}
				return nil, unexpected(q, t)
			}
			pq.groupBy = append(pq.groupBy, selectItem{path: t.text, pos: t.pos})
			if !isPunct(p.peek(), ",") {
				break
			}
			p.next()
		}
	}
	if err := p.rejectUnsupported(); err != nil {
		return nil, err
	}
	if isKw(p.peek(), "ORDER") && isKw(p.toks[p.i+1], "BY") {
		p.i += 2
		if err := p.parseOrder(pq); err != nil {
			return nil, err
		}
	}
	if isKw(p.peek(), "LIMIT") {
		p.next()
		n, err := p.parseCount()
		if err != nil {
			return nil, err
		}
		pq.limit, pq.hasLimit = n, true
	}
	if isKw(p.peek(), "OFFSET") {
		p.next()
		t := p.peek()
		n, err := p.parseCount()
		if err != nil {
			return nil, err
		}
		if n > 2000 {
			return nil, errAt(q, t.pos, "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
		}
		pq.offset, pq.hasOff = n, true
	}
	if err := p.rejectUnsupported(); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, unexpected(q, t)
	}
	return pq, nil
}

func isClauseWord(t token) bool {
	for _, w := range []string{"WHERE", "ORDER", "LIMIT", "OFFSET", "GROUP", "USING", "WITH", "FOR", "UPDATE", "ALL", "HAVING"} {
		if isKw(t, w) {
			return true
		}
	}
	return false
}

// rejectUnsupported names the clauses the fake does not implement, with
// the messages Salesforce gives over the API where they are known.
func (p *parser) rejectUnsupported() *queryError {
	t := p.peek()
	switch {
	case isKw(t, "ALL") && isKw(p.toks[p.i+1], "ROWS"):
		return malformed(p.q, t.pos, "ALL ROWS not allowed in this context")
	case isKw(t, "WITH") && isKw(p.toks[p.i+1], "SECURITY_ENFORCED"):
		return malformed(p.q, t.pos, "SECURITY_ENFORCED not allowed in this context")
	case isKw(t, "FOR") && isKw(p.toks[p.i+1], "UPDATE"):
		return malformed(p.q, t.pos, "FOR UPDATE not allowed in this context")
	case isKw(t, "HAVING"):
		return malformed(p.q, t.pos, "unexpected token: 'HAVING' (not supported by sftest)")
	case isKw(t, "GROUP") || isKw(t, "USING") || isKw(t, "WITH") || isKw(t, "FOR") || isKw(t, "UPDATE"):
		return malformed(p.q, t.pos, "unexpected token: '"+t.text+"' (not supported by sftest)")
	}
	return nil
}

func (p *parser) parseCount() (int, *queryError) {
	t := p.next()
	if t.kind != tNumber || strings.ContainsAny(t.text, ".+-") {
		return 0, unexpected(p.q, t)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil {
		return 0, errAt(p.q, t.pos, "NUMBER_OUTSIDE_VALID_RANGE", "number out of range: "+t.text)
	}
	return n, nil
}

var aggFuncs = map[string]bool{"count": true, "count_distinct": true, "sum": true, "avg": true, "min": true, "max": true}

func (p *parser) parseSelectList(pq *parsedQuery) *queryError {
	for {
		t := p.next()
		switch {
		case isPunct(t, "("):
			return malformed(p.q, t.pos, "unexpected token: '(' (parent-to-child subqueries are not supported by sftest)")
		case t.kind != tIdent || reserved[strings.ToLower(t.text)]:
			return unexpected(p.q, t)
		case isKw(t, "TYPEOF"), isKw(t, "FIELDS") && isPunct(p.peek(), "("):
			return malformed(p.q, t.pos, "unexpected token: '"+t.text+"' (not supported by sftest)")
		}
		item := selectItem{path: t.text, pos: t.pos}
		if fn := strings.ToLower(t.text); aggFuncs[fn] && isPunct(p.peek(), "(") {
			p.next()
			item.agg = fn
			if fn == "count" && isPunct(p.peek(), ")") {
				item.countAll, item.path = true, ""
			} else {
				a := p.next()
				if a.kind != tIdent || reserved[strings.ToLower(a.text)] {
					return unexpected(p.q, a)
				}
				item.path, item.pos = a.text, a.pos
			}
			if err := p.expectPunct(")"); err != nil {
				return err
			}
			if a := p.peek(); a.kind == tIdent && !isKw(a, "FROM") && !item.countAll {
				if reserved[strings.ToLower(a.text)] || strings.Contains(a.text, ".") {
					return unexpected(p.q, a)
				}
				item.alias = p.next().text
			}
		} else if isPunct(p.peek(), "(") {
			return malformed(p.q, p.peek().pos, "unexpected token: '(' (function "+t.text+" is not supported by sftest)")
		} else if a := p.peek(); a.kind == tIdent && !isKw(a, "FROM") && !reserved[strings.ToLower(a.text)] && !strings.Contains(a.text, ".") {
			// An alias; legal only in a grouped query (checked by compile).
			item.alias, item.aliasPos = a.text, a.pos
			p.next()
		}
		pq.items = append(pq.items, item)
		if !isPunct(p.peek(), ",") {
			return nil
		}
		p.next()
	}
}

// parseCond parses one level of a condition: either all-AND or all-OR,
// NOT only first (SOQL.md 5.3).
func (p *parser) parseCond(top bool) (*condNode, *queryError) {
	if isKw(p.peek(), "NOT") {
		p.next()
		inner, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		if t := p.peek(); isKw(t, "AND") || isKw(t, "OR") {
			return nil, unexpected(p.q, t)
		}
		return &condNode{op: "not", kids: []*condNode{inner}}, nil
	}
	first, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	var op string
	node := first
	for {
		t := p.peek()
		var this string
		switch {
		case isKw(t, "AND"):
			this = "and"
		case isKw(t, "OR"):
			this = "or"
		default:
			return node, nil
		}
		if op != "" && op != this {
			return nil, unexpected(p.q, t)
		}
		if op == "" {
			op = this
			node = &condNode{op: op, kids: []*condNode{first}}
		}
		p.next()
		kid, err := p.parsePrimary()
		if err != nil {
			return nil, err
		}
		node.kids = append(node.kids, kid)
	}
}

func (p *parser) parsePrimary() (*condNode, *queryError) {
	t := p.next()
	if isPunct(t, "(") {
		c, err := p.parseCond(false)
		if err != nil {
			return nil, err
		}
		if err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return c, nil
	}
	if t.kind != tIdent || reserved[strings.ToLower(t.text)] {
		return nil, unexpected(p.q, t)
	}
	if isPunct(p.peek(), "(") {
		return nil, malformed(p.q, t.pos, "unexpected token: '(' (function "+t.text+" is not supported by sftest)")
	}
	c := &condNode{op: "cmp", path: t.text, pos: t.pos}
	o := p.next()
	switch {
	case o.kind == tPunct && (o.text == "=" || o.text == "!=" || o.text == "<>" || o.text == "<" ||
		o.text == "<=" || o.text == ">" || o.text == ">="):
		c.cmpOp = o.text
		if c.cmpOp == "<>" {
			c.cmpOp = "!="
		}
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		c.vals = []token{v}
	case isKw(o, "LIKE"):
		c.cmpOp = "like"
		v := p.next()
		if v.kind != tString {
			return nil, unexpected(p.q, v)
		}
		c.vals = []token{v}
	case isKw(o, "IN"), isKw(o, "INCLUDES"), isKw(o, "EXCLUDES"):
		c.cmpOp = strings.ToLower(o.text)
		vals, err := p.parseList()
		if err != nil {
			return nil, err
		}
		c.vals = vals
	case isKw(o, "NOT") && isKw(p.peek(), "IN"):
		p.next()
		c.cmpOp = "notin"
		vals, err := p.parseList()
		if err != nil {
			return nil, err
		}
		c.vals = vals
	case isKw(o, "NOT"):
		return nil, unexpected(p.q, p.peek())
	default:
		return nil, unexpected(p.q, o)
	}
	return c, nil
}

func (p *parser) parseList() ([]token, *queryError) {
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	if isKw(p.peek(), "SELECT") {
		return nil, malformed(p.q, p.peek().pos, "unexpected token: 'SELECT' (semi-joins are not supported by sftest)")
	}
	var vals []token
	for {
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		t := p.next()
		if isPunct(t, ")") {
			return vals, nil
		}
		if !isPunct(t, ",") {
			return nil, unexpected(p.q, t)
		}
	}
}

// parseValue reads one literal: string, number, boolean, null, date,
// datetime or a date literal such as TODAY or LAST_N_DAYS:30.
func (p *parser) parseValue() (token, *queryError) {
	t := p.next()
	switch t.kind {
	case tString, tNumber, tDate, tDateTime:
		return t, nil
	case tIdent:
		lw := strings.ToLower(t.text)
		if lw == "true" || lw == "false" || lw == "null" {
			return t, nil
		}
		up := strings.ToUpper(t.text)
		if fixedDateLiterals[up] {
			return t, nil
		}
		if nDateLiterals[up] {
			if !isPunct(p.peek(), ":") {
				return token{}, unexpected(p.q, p.peek())
			}
			p.next()
			n := p.next()
			if n.kind != tNumber || strings.ContainsAny(n.text, ".+-") {
				return token{}, unexpected(p.q, n)
			}
			t.text = up + ":" + n.text
			return t, nil
		}
	}
	return token{}, unexpected(p.q, t)
}

func (p *parser) parseOrder(pq *parsedQuery) *queryError {
	for {
		t := p.next()
		if t.kind != tIdent || reserved[strings.ToLower(t.text)] {
			return unexpected(p.q, t)
		}
		it := orderItem{path: t.text, pos: t.pos}
		if isKw(p.peek(), "ASC") {
			p.next()
		} else if isKw(p.peek(), "DESC") {
			p.next()
			it.desc, it.nullsLast = true, true
		}
		if isKw(p.peek(), "NULLS") {
			p.next()
			n := p.next()
			switch {
			case isKw(n, "FIRST"):
				it.nullsLast = false
			case isKw(n, "LAST"):
				it.nullsLast = true
			default:
				return unexpected(p.q, n)
			}
		}
		pq.order = append(pq.order, it)
		if !isPunct(p.peek(), ",") {
			return nil
		}
		p.next()
	}
}
