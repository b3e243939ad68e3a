package sim

import "github.com/azsim/azsim/api"

// Faults returns the active fault rules.
func (s *Sim) Faults() []api.FaultRule { return s.faults.List() }

// AddFault validates and installs rule, returning it with its ID and
// defaults filled in.
func (s *Sim) AddFault(rule api.FaultRule) (api.FaultRule, error) { return s.faults.Add(rule) }

// ClearFaults removes every fault rule.
func (s *Sim) ClearFaults() { s.faults.Delete("") }
