package simtest_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
	"github.com/azsim/azsim/world"
)

// Start serves the given world on ephemeral loopback ports and options
// apply on top of its defaults.
func TestStartServesTheWorld(t *testing.T) {
	t.Parallel()
	w := world.Default()
	w.Registries = append(w.Registries, world.Registry{Name: "secondacr", ResourceGroup: "rg-azsim"})
	s := simtest.Start(t, w, sim.WithAdminToken("tok"))

	_, ok := s.World().Snapshot().Registry("secondacr")
	assert.True(t, ok, "the world given to Start is served")
	assert.Contains(t, s.Endpoints().Hosts, "secondacr.azurecr.io")

	resp, err := s.Client().Get("https://secondacr.azurecr.io/v2/")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the registry answers with its challenge")

	resp, err = http.Get("http://" + s.AdminAddr() + "/api/world")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the admin token option applies")
}
