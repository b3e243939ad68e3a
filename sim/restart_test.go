package sim_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
)

// TestRestartKeepsKeysAndIDs: a simulator restarted on the same state
// directory keeps its CA, its Entra and issuer keys and the world's IDs, so
// tokens minted before the restart still work after it.
func TestRestartKeepsKeysAndIDs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	start := func() *sim.Sim {
		s, err := sim.New(sim.WithStateDir(dir), sim.WithHTTPSAddr("127.0.0.1:0"), sim.WithIMDSAddr("127.0.0.1:0"), sim.WithAdminAddr("127.0.0.1:0"))
		require.NoError(t, err)
		require.NoError(t, s.Start(context.Background()))
		return s
	}
	s1 := start()
	ca1, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	require.NoError(t, err)
	saTok := saToken(t, s1, "default", "app-puller")
	puller1 := principal(t, s1, "app-puller")
	mi1, err := sim.EntraOf(s1).IssueManagedIdentityToken(principal(t, s1, "aks1-agentpool"), "https://containerregistry.azure.net")
	require.NoError(t, err)
	s1.Close()

	s2 := start()
	defer s2.Close()
	ca2, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	require.NoError(t, err)
	assert.Equal(t, ca1, ca2, "same CA")
	puller2 := principal(t, s2, "app-puller")
	assert.Equal(t, puller1.ClientID, puller2.ClientID, "same derived IDs")
	assert.Equal(t, puller1.ObjectID, puller2.ObjectID)
	_, err = sim.EntraOf(s2).VerifyAccessToken(mi1.AccessToken)
	assert.NoError(t, err, "an Entra token from before the restart still verifies")

	resp, body := postToken(t, s2, tenantID(s2), assertionForm(puller2.ClientID, saTok))
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a service-account token from before the restart is still accepted: %s", body)
}
