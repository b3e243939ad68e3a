package conformance

import (
	"fmt"
	"sort"
	"strings"
)

// Status is the outcome of a case, or the worst outcome of a group.
type Status int

// Statuses, ordered: a parent's status is the maximum of its children's.
const (
	// Unknown: not run (filtered out, or never reached).
	Unknown Status = iota
	// Disabled: the target does not declare a feature the case needs.
	Disabled
	// Skip: the case decided at run time that it does not apply.
	Skip
	// Pass: the implementation behaves as expected.
	Pass
	// Fail: the implementation diverges from the expected wire behaviour.
	Fail
	// Error: the harness broke (setup failed, a target that should be up
	// does not answer).
	Error
)

var statusNames = [...]string{"unknown", "disabled", "skip", "pass", "fail", "error"}

func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("status(%d)", int(s))
	}
	return statusNames[s]
}

// OK reports whether s is not worse than Pass.
func (s Status) OK() bool { return s <= Pass }

// MarshalText encodes the status name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a status name.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if strings.EqualFold(string(b), n) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("unknown status %q", b)
}

// Feature is a capability a target may declare; cases that need a feature
// the target lacks are Disabled.
type Feature string

// FeatureSet is the set of features a target declares.
type FeatureSet map[Feature]bool

// Missing returns the features of need that s lacks, sorted.
func (s FeatureSet) Missing(need []Feature) []string {
	var out []string
	for _, f := range need {
		if !s[f] {
			out = append(out, string(f))
		}
	}
	sort.Strings(out)
	return out
}
