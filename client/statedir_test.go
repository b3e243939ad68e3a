package client_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
)

// startInDir runs a simulator with a token whose endpoints.json is in the
// returned state directory.
func startInDir(t *testing.T, token string) (*sim.Sim, string) {
	t.Helper()
	dir := t.TempDir()
	s := simtest.Start(t, nil, sim.WithStateDir(dir), sim.WithAdminToken(token))
	require.NoError(t, s.WriteEndpoints())
	return s, dir
}

// FromStateDir reads the token from $AZSIM_ADMIN_TOKEN first, then from
// the state directory, and an option overrides both.
func TestFromStateDir(t *testing.T) {
	s, dir := startInDir(t, "from-env")
	require.NoError(t, os.WriteFile(filepath.Join(dir, api.AdminTokenFile), []byte("from-file\n"), 0o600))
	ctx := testContext(t)

	t.Setenv(api.AdminTokenEnv, "from-env")
	c, ep, err := client.FromStateDir(dir)
	require.NoError(t, err)
	assert.Equal(t, s.Endpoints(), ep)
	_, err = c.Clock(ctx)
	require.NoError(t, err, "the environment's token")

	c, _, err = client.FromStateDir(dir, client.WithToken("wrong"))
	require.NoError(t, err)
	_, err = c.Clock(ctx)
	assert.ErrorContains(t, err, "401", "an option overrides the token")

	t.Setenv(api.AdminTokenEnv, "")
	assert.Equal(t, "from-file", client.StateDirToken(dir), "the file's token, trimmed")
	c, _, err = client.FromStateDir(dir)
	require.NoError(t, err)
	_, err = c.Clock(ctx)
	assert.ErrorContains(t, err, "401", "the simulator wants the environment's token, not the file's")
}

func TestFromStateDirWithoutSimulator(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, _, err := client.FromStateDir(dir)
	assert.ErrorContains(t, err, "no running simulator found")
	if os.Getenv(api.AdminTokenEnv) == "" {
		assert.Empty(t, client.StateDirToken(dir), "no token anywhere")
	}
}
