package sim

import (
	"encoding/json"
	"os"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/state"
)

// Endpoints returns the simulator's addresses.
func (s *Sim) Endpoints() api.Endpoints {
	ix := s.store.Snapshot()
	e := api.Endpoints{HTTPS: s.HTTPSAddr(), Admin: s.admin, IMDS: map[string]string{}, CAFile: s.CACertFile(),
		Hosts: ix.Hosts(), PID: os.Getpid()}
	for k, v := range s.imds {
		e.IMDS[k] = v
	}
	if len(ix.Tenants) > 0 {
		e.TenantID = ix.Tenants[0].ID
	}
	return e
}

// StateDir is the state directory holding the CA, the signing keys and
// endpoints.json.
func (s *Sim) StateDir() string { return s.state.Path() }

// StateFile returns the path of name inside the state directory.
func (s *Sim) StateFile(name string) string { return s.state.File(name) }

// WriteEndpoints writes endpoints.json atomically into the state directory.
func (s *Sim) WriteEndpoints() error {
	b, err := json.MarshalIndent(s.Endpoints(), "", "  ")
	if err != nil {
		return err
	}
	return state.WriteFile(s.state.File(api.EndpointsFile), append(b, '\n'), 0o644)
}
