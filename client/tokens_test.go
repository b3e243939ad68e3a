package client_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

func TestServiceAccountToken(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s, c := start(t, sim.WithClock(world.NewFixedClock(t0)))
	ctx := testContext(t)
	tok, err := c.ServiceAccountToken(ctx, api.ServiceAccountTokenRequest{Cluster: "aks1", Namespace: "default",
		ServiceAccount: "app-puller", Expiration: "2h"})
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(tok.Token, "."), "a JWT")
	assert.Equal(t, "2030-01-01T02:00:00Z", tok.ExpiresOn)
	aks1, _ := s.World().Snapshot().Cluster("aks1")
	assert.Equal(t, aks1.IssuerURL, tok.Issuer)

	for _, tc := range []struct {
		name string
		req  api.ServiceAccountTokenRequest
		want string
	}{
		{"bad expiration", api.ServiceAccountTokenRequest{Namespace: "default", ServiceAccount: "x", Expiration: "soon"}, "expiration"},
		{"unknown cluster", api.ServiceAccountTokenRequest{Cluster: "nope", Namespace: "default", ServiceAccount: "x"}, `unknown cluster "nope"`},
	} {
		_, err := c.ServiceAccountToken(ctx, tc.req)
		var ce *client.Error
		require.ErrorAs(t, err, &ce, tc.name)
		assert.Equal(t, http.StatusBadRequest, ce.Status, tc.name)
		assert.Contains(t, ce.Body.Error, tc.want, tc.name)
	}
}

func TestRotateKeys(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	ctx := testContext(t)
	keys, err := c.RotateKeys(ctx, "aks1", false)
	require.NoError(t, err)
	assert.Equal(t, "aks1", keys.Cluster)
	assert.Len(t, keys.KIDs, 2, "the new key is published beside the old")
	keys, err = c.RotateKeys(ctx, "AKS1", true)
	require.NoError(t, err)
	assert.Equal(t, "aks1", keys.Cluster, "the world's spelling")
	assert.Len(t, keys.KIDs, 1, "dropOld keeps only the new key")

	_, err = c.RotateKeys(ctx, "nope", false)
	assert.True(t, client.IsStatus(err, http.StatusNotFound), err)
}
