package sim

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/azsim/azsim/internal/platform/state"
)

// Endpoints describes a running simulator; `azsim up` writes it to
// <state-dir>/endpoints.json, and the other commands read it.
type Endpoints struct {
	HTTPS    string            `json:"https"`
	Admin    string            `json:"admin"`
	IMDS     map[string]string `json:"imds"`
	CAFile   string            `json:"caFile"`
	TenantID string            `json:"tenantId"`
	Hosts    []string          `json:"hosts"`
	PID      int               `json:"pid"`
}

// Endpoints returns the simulator's addresses.
func (s *Sim) Endpoints() Endpoints {
	ix := s.Store.Snapshot()
	e := Endpoints{HTTPS: s.HTTPSAddr(), Admin: s.admin, IMDS: map[string]string{}, CAFile: s.State.File("ca.crt"),
		Hosts: ix.Hosts(), PID: os.Getpid()}
	for k, v := range s.imds {
		e.IMDS[k] = v
	}
	if len(ix.Tenants) > 0 {
		e.TenantID = ix.Tenants[0].ID
	}
	return e
}

// WriteEndpoints writes endpoints.json atomically into the state directory.
func (s *Sim) WriteEndpoints() error {
	b, err := json.MarshalIndent(s.Endpoints(), "", "  ")
	if err != nil {
		return err
	}
	return state.WriteFile(s.State.File("endpoints.json"), append(b, '\n'), 0o644)
}

// ReadEndpoints reads <dir>/endpoints.json written by a running `azsim up`.
func ReadEndpoints(dir string) (Endpoints, error) {
	var e Endpoints
	b, err := os.ReadFile(dir + "/endpoints.json")
	if err != nil {
		return e, fmt.Errorf("no running simulator found in state directory %q (start one with `azsim up`): %w", dir, err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("reading %s/endpoints.json: %w", dir, err)
	}
	return e, nil
}
