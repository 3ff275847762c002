package soql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Expr is a condition of a WHERE clause. Make one with Cmp, In, NotIn,
// Includes, Excludes, Like, And, Or and Not; every group is emitted in
// parentheses so AND and OR never mix at one level (SOQL.md 5.3).
type Expr interface {
	build(b *strings.Builder) error
}

// Op is a comparison operator.
type Op string

// The comparison operators Cmp accepts.
const (
	Eq Op = "="
	Ne Op = "!="
	Lt Op = "<"
	Le Op = "<="
	Gt Op = ">"
	Ge Op = ">="
)

type cmpExpr struct {
	field string
	op    Op
	lit   Literal
}

// Cmp compares a field path with a literal. Null is allowed only with Eq
// and Ne.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_comparisonoperators.htm
func Cmp(field string, op Op, lit Literal) Expr { return cmpExpr{field, op, lit} }

func (e cmpExpr) build(b *strings.Builder) error {
	if err := checkPath(e.field); err != nil {
		return err
	}
	switch e.op {
	case Eq, Ne, Lt, Le, Gt, Ge:
	default:
		return fmt.Errorf("%w: operator %q", ErrInvalidQuery, e.op)
	}
	if err := checkLit(e.lit); err != nil {
		return err
	}
	if l, ok := e.lit.(literal); ok && l.null && e.op != Eq && e.op != Ne {
		return fmt.Errorf("%w: null compared with %s", ErrInvalidQuery, e.op)
	}
	b.WriteString(e.field)
	b.WriteString(" ")
	b.WriteString(string(e.op))
	b.WriteString(" ")
	b.WriteString(e.lit.soql())
	return nil
}

func checkLit(l Literal) error {
	if l == nil {
		return fmt.Errorf("%w: nil literal", ErrInvalidLiteral)
	}
	return l.err()
}

type inExpr struct {
	field string
	op    string
	lits  []Literal
}

// In is field IN (values...). An empty list matches nothing: it is
// emitted as Id = null, since an Id is never null.
func In(field string, lits ...Literal) Expr { return inExpr{field, "IN", lits} }

// NotIn is field NOT IN (values...). An empty list matches everything
// (Id != null).
func NotIn(field string, lits ...Literal) Expr { return inExpr{field, "NOT IN", lits} }

// Includes is multi-select field INCLUDES (values...); each value may hold
// several ";"-separated picklist values that must all be present.
func Includes(field string, lits ...Literal) Expr { return inExpr{field, "INCLUDES", lits} }

// Excludes is multi-select field EXCLUDES (values...).
func Excludes(field string, lits ...Literal) Expr { return inExpr{field, "EXCLUDES", lits} }

func (e inExpr) build(b *strings.Builder) error {
	if err := checkPath(e.field); err != nil {
		return err
	}
	if len(e.lits) == 0 {
		switch e.op {
		case "IN", "INCLUDES":
			b.WriteString("Id = null")
		default:
			b.WriteString("Id != null")
		}
		return nil
	}
	b.WriteString(e.field)
	b.WriteString(" " + e.op + " (")
	for i, l := range e.lits {
		if err := checkLit(l); err != nil {
			return err
		}
		if ll, ok := l.(literal); ok && ll.null && e.op != "IN" && e.op != "NOT IN" {
			return fmt.Errorf("%w: null in %s", ErrInvalidQuery, e.op)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.soql())
	}
	b.WriteString(")")
	return nil
}

type likeExpr struct {
	field string
	p     Pattern
}

// Like is field LIKE pattern.
func Like(field string, p Pattern) Expr { return likeExpr{field, p} }

func (e likeExpr) build(b *strings.Builder) error {
	if err := checkPath(e.field); err != nil {
		return err
	}
	if e.p.bad != nil {
		return e.p.bad
	}
	if e.p.text == "" {
		return fmt.Errorf("%w: zero Pattern", ErrInvalidLiteral)
	}
	b.WriteString(e.field + " LIKE " + e.p.text)
	return nil
}

type groupExpr struct {
	op    string
	exprs []Expr
}

// And joins conditions with AND; nil conditions are skipped, and an And of
// nothing is no condition at all.
func And(exprs ...Expr) Expr { return groupExpr{"AND", exprs} }

// Or joins conditions with OR; nil conditions are skipped.
func Or(exprs ...Expr) Expr { return groupExpr{"OR", exprs} }

func (g groupExpr) live() []Expr {
	var out []Expr
	for _, e := range g.exprs {
		if e == nil {
			continue
		}
		if sub, ok := e.(groupExpr); ok && len(sub.live()) == 0 {
			continue
		}
		out = append(out, e)
	}
	return out
}

func (g groupExpr) build(b *strings.Builder) error {
	exprs := g.live()
	if len(exprs) == 0 {
		return fmt.Errorf("%w: empty %s", ErrInvalidQuery, g.op)
	}
	b.WriteString("(")
	for i, e := range exprs {
		if i > 0 {
			b.WriteString(" " + g.op + " ")
		}
		if err := e.build(b); err != nil {
			return err
		}
	}
	b.WriteString(")")
	return nil
}

type notExpr struct{ e Expr }

// Not negates a condition; it is emitted as (NOT cond).
func Not(e Expr) Expr { return notExpr{e} }

func (n notExpr) build(b *strings.Builder) error {
	if n.e == nil {
		return fmt.Errorf("%w: NOT of nothing", ErrInvalidQuery)
	}
	b.WriteString("(NOT ")
	if err := n.e.build(b); err != nil {
		return err
	}
	b.WriteString(")")
	return nil
}

// Order is one ORDER BY key. Nulls placement is always stated (NULLS
// FIRST unless NullsLast), since Salesforce's default for DESC is not
// pinned down (SOQL.md 6); it is left out for Id, which is never null.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_orderby.htm
type Order struct {
	Field     string // a field path
	Desc      bool   // DESC instead of ascending
	NullsLast bool   // NULLS LAST instead of NULLS FIRST
}

// Select is a SELECT statement. Fields are field paths (Owner.Name);
// Limit and Offset are emitted when above zero (Offset at most 2000).
// When OrderBy is set and does not end with Id, Build adds Id as the last
// key so that ties come back in a stable order.
//
// Salesforce reference: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select.htm
type Select struct {
	Fields  []string // field paths, validated; at least one
	From    string   // the object's API name, validated
	Where   Expr     // nil for no WHERE clause
	OrderBy []Order  // ORDER BY keys; Id is added last
	Limit   int      // LIMIT when above zero
	Offset  int      // OFFSET when above zero, at most MaxOffset
}

// Build returns the statement, or an error wrapping ErrInvalidIdentifier,
// ErrInvalidLiteral or ErrInvalidQuery. The result is plain SOQL; the REST
// transport percent-encodes it.
func (s Select) Build() (string, error) {
	if len(s.Fields) == 0 {
		return "", fmt.Errorf("%w: no fields", ErrInvalidQuery)
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	seen := make(map[string]bool, len(s.Fields))
	for i, f := range s.Fields {
		if err := checkPath(f); err != nil {
			return "", err
		}
		if k := strings.ToLower(f); seen[k] {
			return "", fmt.Errorf("%w: duplicate field %s", ErrInvalidQuery, f)
		} else {
			seen[k] = true
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(f)
	}
	if err := s.tail(&b); err != nil {
		return "", err
	}
	return finish(b.String())
}

// count builds SELECT COUNT() FROM ... WHERE ....
func count(from string, where Expr) (string, error) {
	var b strings.Builder
	b.WriteString("SELECT COUNT()")
	if err := (Select{From: from, Where: where}).tail(&b); err != nil {
		return "", err
	}
	return finish(b.String())
}

func (s Select) tail(b *strings.Builder) error {
	if err := checkName(s.From); err != nil {
		return err
	}
	b.WriteString(" FROM " + s.From)
	if s.Where != nil {
		if g, ok := s.Where.(groupExpr); !ok || len(g.live()) > 0 {
			b.WriteString(" WHERE ")
			if err := s.Where.build(b); err != nil {
				return err
			}
		}
	}
	if err := s.orderBy(b); err != nil {
		return err
	}
	if s.Limit < 0 || s.Offset < 0 || s.Offset > MaxOffset {
		return fmt.Errorf("%w: limit %d offset %d", ErrInvalidQuery, s.Limit, s.Offset)
	}
	if s.Limit > 0 {
		b.WriteString(" LIMIT " + strconv.Itoa(s.Limit))
	}
	if s.Offset > 0 {
		b.WriteString(" OFFSET " + strconv.Itoa(s.Offset))
	}
	return nil
}

func (s Select) orderBy(b *strings.Builder) error {
	if len(s.OrderBy) == 0 {
		return nil
	}
	keys := s.OrderBy
	if !strings.EqualFold(keys[len(keys)-1].Field, "Id") {
		keys = append(keys[:len(keys):len(keys)], Order{Field: "Id"})
	}
	b.WriteString(" ORDER BY ")
	for i, o := range keys {
		if err := checkPath(o.Field); err != nil {
			return err
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(o.Field)
		if o.Desc {
			b.WriteString(" DESC")
		}
		if strings.EqualFold(o.Field, "Id") {
			continue
		}
		if o.NullsLast {
			b.WriteString(" NULLS LAST")
		} else {
			b.WriteString(" NULLS FIRST")
		}
	}
	return nil
}

func finish(q string) (string, error) {
	if n := utf8.RuneCountInString(q); n > MaxStatementLength {
		return "", fmt.Errorf("%w: statement of %d characters exceeds %d", ErrInvalidQuery, n, MaxStatementLength)
	}
	return q, nil
}
