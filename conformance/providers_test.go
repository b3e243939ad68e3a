package conformance_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/conformance"
	"github.com/azsim/azsim/sim/simtest"
)

// TestProvidersWithAdmin: azsim with its admin API passes every case; none
// is Disabled.
func TestProvidersWithAdmin(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	rep := runProviders(t, simTarget(t, s, true), "")
	requireNoFailures(t, rep)
	assert.Empty(t, rep.WithStatus(conformance.Disabled), "nothing is disabled with the admin API")
	assert.Empty(t, rep.WithStatus(conformance.Skip))
	assert.Greater(t, rep.Counts()[conformance.Pass], 50)
	// The fixture identities are gone again.
	ix := s.World().Snapshot()
	for _, p := range ix.Principals {
		assert.NotContains(t, p.Name, "azsim-conformance-")
	}
	pool, ok := ix.NodePool("aks1/nodepool1")
	require.True(t, ok)
	assert.Equal(t, []string{"aks1-agentpool"}, pool.Identities)
}

// TestProvidersWithoutAdmin: without the admin API only the cases that need
// it are Disabled, and the rest pass.
func TestProvidersWithoutAdmin(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	rep := runProviders(t, simTarget(t, s, false), "")
	requireNoFailures(t, rep)
	for _, c := range rep.Cases() {
		if c.Status == conformance.Disabled {
			assert.Regexp(t, `admin|federated-identity|no-pull-identity|imds-multiple-identities`, c.Message, c.ID)
		}
	}
	require.Contains(t, rep.WithStatus(conformance.Disabled), "providers/entra/token/fic/audience-mismatch")
	require.Contains(t, rep.WithStatus(conformance.Pass), "providers/acr/registry/pull-manifest")
}
