package client_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/world"
)

func TestHealthzAndEndpoints(t *testing.T) {
	t.Parallel()
	s, c := start(t)
	ctx := testContext(t)
	require.NoError(t, c.Healthz(ctx))
	ep, err := c.Endpoints(ctx)
	require.NoError(t, err)
	assert.Equal(t, s.Endpoints(), ep)
	assert.Equal(t, "http://"+s.AdminAddr(), c.Addr())
	assert.Equal(t, "http://"+s.AdminAddr(), client.New("http://"+s.AdminAddr()+"/").Addr(), "a base URL is kept, without its trailing slash")
}

func TestWorld(t *testing.T) {
	t.Parallel()
	s, c := start(t)
	ctx := testContext(t)
	var w world.World
	require.NoError(t, c.World(ctx, &w))
	assert.Equal(t, s.World().Snapshot().Tenants[0].ID, w.Tenants[0].ID, "derived IDs are shown")

	w.Identities = append(w.Identities, world.Identity{Name: "late", ResourceGroup: w.ResourceGroups[0].Name})
	var got map[string]any
	require.NoError(t, c.PutWorld(ctx, &w, &got))
	assert.Len(t, got["identities"], len(w.Identities))
	_, ok := s.World().Snapshot().PrincipalByName("late")
	assert.True(t, ok, "the world was replaced")

	var raw json.RawMessage
	require.NoError(t, c.World(ctx, &raw))
	require.NoError(t, c.PutWorld(ctx, raw, nil), "a world read raw goes back as is")
}

func TestObjects(t *testing.T) {
	t.Parallel()
	s, c := start(t)
	ctx := testContext(t)
	var before []world.RoleAssignment
	require.NoError(t, c.Objects(ctx, "roleAssignments", &before))
	require.NotEmpty(t, before)

	var after []world.RoleAssignment
	ra := world.RoleAssignment{Principal: "aks1", Role: "AcrPush", Scope: "registry/azsimacr"}
	require.NoError(t, c.AddObject(ctx, "roleAssignments", ra, &after))
	assert.Len(t, after, len(before)+1)
	assert.Len(t, s.World().Snapshot().Assignments, len(before)+1)

	require.NoError(t, c.AddObject(ctx, "identities", map[string]string{"name": "late id", "resourceGroup": "rg-azsim"}, nil))
	var ids []world.Identity
	require.NoError(t, c.DeleteObject(ctx, "identities", "late id", &ids), "keys are escaped")
	for _, id := range ids {
		assert.NotEqual(t, "late id", id.Name)
	}
	require.NoError(t, c.DeleteObject(ctx, "roleAssignments", "0", nil))
	assert.Len(t, s.World().Snapshot().Assignments, len(before))

	for _, tc := range []struct {
		name   string
		err    error
		status int
		want   string
	}{
		{"unknown collection", c.Objects(ctx, "widgets", nil), http.StatusNotFound, `no collection "widgets"`},
		{"unknown field", c.AddObject(ctx, "identities", map[string]string{"nmae": "x"}, nil), http.StatusBadRequest, `unknown field "nmae"`},
		{"invalid object", c.AddObject(ctx, "identities", map[string]string{"name": "x", "resourceGroup": "nope"}, nil), http.StatusBadRequest, `unknown resource group "nope"`},
		{"unknown key", c.DeleteObject(ctx, "identities", "ghost", nil), http.StatusBadRequest, `no object "ghost"`},
	} {
		var ce *client.Error
		require.ErrorAs(t, tc.err, &ce, tc.name)
		assert.Equal(t, tc.status, ce.Status, tc.name)
		assert.Contains(t, ce.Body.Error, tc.want, tc.name)
	}
}
