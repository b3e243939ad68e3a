package world

import (
	"fmt"
	"strings"
)

// condExpr is a parsed ABAC condition (conditionVersion 2.0), limited to the
// forms used for registry repositories (protocols.md 4.2):
// ActionMatches{'…'}, @Request[…:name] StringEquals[IgnoreCase] /
// StringStartsWith[IgnoreCase] / StringNotEquals[IgnoreCase] '…', with
// !, AND, OR and parentheses.
type condExpr interface {
	eval(action, repo string) bool
}

type (
	condNot   struct{ x condExpr }
	condAnd   struct{ l, r condExpr }
	condOr    struct{ l, r condExpr }
	condMatch struct{ action string }
	condCmp   struct {
		op, value string
	}
)

func (n condNot) eval(a, r string) bool   { return !n.x.eval(a, r) }
func (n condAnd) eval(a, r string) bool   { return n.l.eval(a, r) && n.r.eval(a, r) }
func (n condOr) eval(a, r string) bool    { return n.l.eval(a, r) || n.r.eval(a, r) }
func (n condMatch) eval(a, _ string) bool { return strings.EqualFold(a, n.action) }
func (n condCmp) eval(_, repo string) bool {
	switch n.op {
	case "StringEquals":
		return repo == n.value
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(repo, n.value)
	case "StringNotEquals":
		return repo != n.value
	case "StringNotEqualsIgnoreCase":
		return !strings.EqualFold(repo, n.value)
	case "StringStartsWith":
		return strings.HasPrefix(repo, n.value)
	case "StringStartsWithIgnoreCase":
		return strings.HasPrefix(lower(repo), lower(n.value))
	}
	return false
}

const repoAttribute = "@Request[Microsoft.ContainerRegistry/registries/repositories:name]"

// maxConditionDepth bounds the nesting of a condition, so that a hostile
// world file cannot exhaust the parser's stack (which is fatal in Go).
const maxConditionDepth = 64

type condParser struct {
	s     string
	pos   int
	depth int
}

// ValidateCondition reports whether cond is a condition azsim can evaluate.
func ValidateCondition(cond string) error {
	_, err := parseCondition(cond)
	return err
}

func parseCondition(s string) (condExpr, error) {
	p := &condParser{s: s}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.skip(); p.pos != len(p.s) {
		return nil, fmt.Errorf("unexpected %q at offset %d", p.rest(10), p.pos)
	}
	return e, nil
}

func (p *condParser) skip() {
	for p.pos < len(p.s) && strings.ContainsRune(" \t\r\n", rune(p.s[p.pos])) {
		p.pos++
	}
}

func (p *condParser) rest(n int) string { return p.s[p.pos:min(len(p.s), p.pos+n)] }

func (p *condParser) keyword(k string) bool {
	p.skip()
	if len(p.s)-p.pos >= len(k) && strings.EqualFold(p.s[p.pos:p.pos+len(k)], k) {
		p.pos += len(k)
		return true
	}
	return false
}

func (p *condParser) or() (condExpr, error) {
	l, err := p.and()
	for err == nil && p.keyword("OR") {
		var r condExpr
		if r, err = p.and(); err == nil {
			l = condOr{l, r}
		}
	}
	return l, err
}

func (p *condParser) and() (condExpr, error) {
	l, err := p.unary()
	for err == nil && p.keyword("AND") {
		var r condExpr
		if r, err = p.unary(); err == nil {
			l = condAnd{l, r}
		}
	}
	return l, err
}

func (p *condParser) unary() (condExpr, error) {
	if p.depth++; p.depth > maxConditionDepth {
		return nil, fmt.Errorf("nested more than %d levels deep at offset %d", maxConditionDepth, p.pos)
	}
	defer func() { p.depth-- }()
	switch {
	case p.keyword("!"):
		x, err := p.unary()
		return condNot{x}, err
	case p.keyword("("):
		x, err := p.or()
		if err == nil && !p.keyword(")") {
			err = fmt.Errorf("missing ')' at offset %d", p.pos)
		}
		return x, err
	case p.keyword("ActionMatches{"):
		v, err := p.quoted()
		if err == nil && !p.keyword("}") {
			err = fmt.Errorf("missing '}' at offset %d", p.pos)
		}
		return condMatch{v}, err
	case p.keyword(repoAttribute):
		for _, op := range []string{"StringEqualsIgnoreCase", "StringEquals", "StringNotEqualsIgnoreCase", "StringNotEquals", "StringStartsWithIgnoreCase", "StringStartsWith"} {
			if p.keyword(op) {
				v, err := p.quoted()
				return condCmp{op, v}, err
			}
		}
		return nil, fmt.Errorf("unsupported operator at offset %d: %q", p.pos, p.rest(20))
	}
	return nil, fmt.Errorf("unexpected %q at offset %d", p.rest(20), p.pos)
}

func (p *condParser) quoted() (string, error) {
	if !p.keyword("'") {
		return "", fmt.Errorf("expected a quoted string at offset %d", p.pos)
	}
	end := strings.IndexByte(p.s[p.pos:], '\'')
	if end < 0 {
		return "", fmt.Errorf("unterminated string at offset %d", p.pos)
	}
	v := p.s[p.pos : p.pos+end]
	p.pos += end + 1
	return v, nil
}
