package fakeacr

import (
	"fmt"
	"strings"
)

// Scope is one requested access, `type:name:action[,action…]` (protocols.md
// 3.1), such as repository:team/app:pull,push or registry:catalog:*.
type Scope struct {
	Type    string
	Name    string
	Actions []string
}

// String renders the scope in its wire form.
func (s Scope) String() string {
	return s.Type + ":" + s.Name + ":" + strings.Join(s.Actions, ",")
}

// Scope parser limits.
const (
	maxScopes      = 64
	maxScopeLength = 1024
)

// Scope types and names the fake grants (protocols.md 3.1).
const (
	typeRepository = "repository"
	typeRegistry   = "registry"
	nameCatalog    = "catalog"
	actionAll      = "*"
)

// ParseScopes parses the scope parameters of a token request: each value
// may hold several space-separated scopes, and the parameter may repeat
// (protocols.md 3.1). Empty values are ignored.
func ParseScopes(values []string) ([]Scope, error) {
	var out []Scope
	for _, v := range values {
		for _, f := range strings.Fields(v) {
			if len(out) == maxScopes {
				return nil, fmt.Errorf("too many scopes: at most %d are allowed", maxScopes)
			}
			s, err := ParseScope(f)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// ParseScope parses one `type:name:actions` scope. The name may contain '/'
// but no ':' (a registry host:port never appears in ACR scopes); actions
// are a comma list. Unknown actions are kept here and ignored when granting.
func ParseScope(s string) (Scope, error) {
	if len(s) > maxScopeLength {
		return Scope{}, fmt.Errorf("invalid scope: longer than %d characters", maxScopeLength)
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Scope{}, fmt.Errorf("invalid scope %q: want type:name:actions", clip(s))
	}
	typ, name, acts := parts[0], parts[1], parts[2]
	if typ == "" || !allOf(typ, isLowerAlnum, "-") {
		return Scope{}, fmt.Errorf("invalid scope %q: bad resource type %q", clip(s), clip(typ))
	}
	if !validName(name) {
		return Scope{}, fmt.Errorf("invalid scope %q: bad resource name %q", clip(s), clip(name))
	}
	sc := Scope{Type: typ, Name: name}
	for _, a := range strings.Split(acts, ",") {
		if a == "" || (a != actionAll && !allOf(a, isLowerAlnum, "_")) {
			return Scope{}, fmt.Errorf("invalid scope %q: bad action %q", clip(s), clip(a))
		}
		sc.Actions = append(sc.Actions, a)
	}
	return sc, nil
}

// validName accepts repository names: lower-case alphanumeric path
// components separated by '/', with '.', '_' and '-' inside components.
func validName(name string) bool {
	if name == "" {
		return false
	}
	for _, comp := range strings.Split(name, "/") {
		if comp == "" || !isLowerAlnum(rune(comp[0])) || !isLowerAlnum(rune(comp[len(comp)-1])) ||
			!allOf(comp, isLowerAlnum, "._-") {
			return false
		}
	}
	return true
}

func isLowerAlnum(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }

func allOf(s string, ok func(rune) bool, extra string) bool {
	for _, r := range s {
		if !ok(r) && !strings.ContainsRune(extra, r) {
			return false
		}
	}
	return true
}

// clip shortens user input quoted in error messages.
func clip(s string) string {
	const n = 100
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
