package sim

import (
	"encoding/json"
	"os"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/state"
)

// Endpoints returns the simulator's addresses.
func (s *Sim) Endpoints() api.Endpoints {
	ix := s.Store.Snapshot()
	e := api.Endpoints{HTTPS: s.HTTPSAddr(), Admin: s.admin, IMDS: map[string]string{}, CAFile: s.State.File("ca.crt"),
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
	return state.WriteFile(s.State.File(api.EndpointsFile), append(b, '\n'), 0o644)
}
