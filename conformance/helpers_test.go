package conformance_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/conformance"
	"github.com/azsim/azsim/sim"
)

// endpoints converts the simulator's endpoints.
func endpoints(s *sim.Sim) api.Endpoints {
	ep := s.Endpoints()
	return api.Endpoints{HTTPS: ep.HTTPS, Admin: ep.Admin, IMDS: ep.IMDS, CAFile: ep.CAFile, TenantID: ep.TenantID, Hosts: ep.Hosts}
}

// simTarget is the target of s, with or without its admin API.
func simTarget(t *testing.T, s *sim.Sim, admin bool) *conformance.Target {
	t.Helper()
	tgt, err := conformance.TargetFromEndpoints(context.Background(), endpoints(s), "")
	require.NoError(t, err)
	if !admin {
		tgt.Admin = nil
	}
	return tgt
}

// runProviders runs the providers suite against tgt.
func runProviders(t *testing.T, tgt *conformance.Target, filter string) *conformance.Report {
	t.Helper()
	suite, err := conformance.ProvidersSuite(tgt)
	require.NoError(t, err)
	rep := conformance.Run(context.Background(), suite, conformance.Options{Filter: conformance.ParseFilter(filter)})
	var out bytes.Buffer
	require.NoError(t, rep.WriteConsole(&out, false))
	t.Log("\n" + out.String())
	return rep
}

// requireNoFailures fails the test on any Fail or Error case.
func requireNoFailures(t *testing.T, rep *conformance.Report) {
	t.Helper()
	assert.Empty(t, rep.WithStatus(conformance.Fail), "failed cases")
	assert.Empty(t, rep.WithStatus(conformance.Error), "errored cases")
	require.True(t, rep.OK())
}
