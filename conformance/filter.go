package conformance

import (
	"path"
	"strings"
)

// Filter selects cases by ID. Each element is a prefix ("providers/imds"
// selects everything under it) or a glob with path.Match syntax per segment
// and "**" for any number of segments ("providers/*/token/**",
// "**/audience-*"); a glob also selects everything under what it matches.
// An empty filter selects everything; a case is selected when any element
// matches.
type Filter []string

// ParseFilter splits a comma-separated filter.
func ParseFilter(s string) Filter {
	var f Filter
	for _, p := range strings.Split(s, ",") {
		if p = strings.Trim(strings.TrimSpace(p), "/"); p != "" {
			f = append(f, p)
		}
	}
	return f
}

// Match reports whether id is selected.
func (f Filter) Match(id string) bool {
	if len(f) == 0 {
		return true
	}
	for _, p := range f {
		if matchID(p, id) {
			return true
		}
	}
	return false
}

func matchID(pattern, id string) bool {
	if !strings.ContainsAny(pattern, "*?[") {
		return id == pattern || strings.HasPrefix(id, pattern+"/")
	}
	return matchSegs(strings.Split(pattern, "/"), strings.Split(id, "/"))
}

// matchSegs matches pattern segments against a prefix of the ID segments.
func matchSegs(pat, id []string) bool {
	if len(pat) == 0 {
		return true // the pattern matched an ancestor (or the case itself)
	}
	if pat[0] == "**" {
		for i := 0; i <= len(id); i++ {
			if matchSegs(pat[1:], id[i:]) {
				return true
			}
		}
		return false
	}
	if len(id) == 0 {
		return false
	}
	ok, err := path.Match(pat[0], id[0])
	return err == nil && ok && matchSegs(pat[1:], id[1:])
}
