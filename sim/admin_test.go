package sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
	"github.com/azsim/azsim/world"
)

func admin(t *testing.T, s *sim.Sim, method, path, body, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.AdminAddr()+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	if len(b) > 0 && b[0] == '{' {
		require.NoError(t, json.Unmarshal(b, &m), string(b))
	}
	return resp.StatusCode, m
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	clock := world.NewFixedClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	s := simtest.Start(t, nil, sim.WithClock(clock))

	code, _ := admin(t, s, http.MethodGet, "/healthz", "", "")
	assert.Equal(t, http.StatusOK, code)
	code, w := admin(t, s, http.MethodGet, "/api/world", "", "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "azsim.dev/v1alpha1", w["apiVersion"])
	tenants := w["tenants"].([]any)
	assert.Equal(t, s.World().Snapshot().Tenants[0].ID, tenants[0].(map[string]any)["id"], "derived IDs are shown")

	code, c := admin(t, s, http.MethodPost, "/api/clock", `{"advance":"3h"}`, "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "2030-01-01T03:00:00Z", c["now"])
	code, c = admin(t, s, http.MethodPost, "/api/clock", `{"set":"2031-06-01T00:00:00Z"}`, "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "2031-06-01T00:00:00Z", c["now"])
	assert.Equal(t, "2031-06-01T00:00:00Z", clock.Now().Format(time.RFC3339))

	for _, tc := range []struct{ body, want string }{
		{`{"advance":"soon"}`, `advance: time: invalid duration "soon"`},
		{`{"set":"yesterday"}`, "set: parsing time"},
		{`{"advance":"1h","set":"2031-01-01T00:00:00Z"}`, "not both"},
		{`{}`, "want {"},
		{`{"advanse":"1h"}`, `unknown field "advanse"`},
		{`not json`, "clock request"},
	} {
		code, e := admin(t, s, http.MethodPost, "/api/clock", tc.body, "")
		assert.Equal(t, http.StatusBadRequest, code, tc.body)
		assert.Contains(t, e["error"], tc.want, tc.body)
	}

	code, e := admin(t, s, http.MethodPut, "/api/world", "apiVersion: azsim.dev/v1alpha1\nkind: World\ntenants: []\n", "")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, e["error"], "tenants: at least one tenant is required")
	code, _ = admin(t, s, http.MethodPut, "/api/world", "{{{", "")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Len(t, s.World().Snapshot().Registries, 1, "a rejected world leaves the old one in place")

	code, e = admin(t, s, http.MethodPost, "/api/clusters/nope/rotate-keys", "", "")
	assert.Equal(t, http.StatusNotFound, code)
	assert.Contains(t, e["error"], `unknown cluster "nope"`)
	code, e = admin(t, s, http.MethodPost, "/api/clusters/aks1/rotate-keys", "", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Len(t, e["kids"], 2)

	code, e = admin(t, s, http.MethodPost, "/api/tokens/serviceaccount", `{"namespace":"default","serviceAccount":"app-puller","expiration":"2h"}`, "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "2031-06-01T02:00:00Z", e["expiresOn"])
}

func TestAdminTokenRequired(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil, sim.WithAdminToken("sekret"))
	code, _ := admin(t, s, http.MethodGet, "/healthz", "", "")
	assert.Equal(t, http.StatusOK, code, "healthz stays open")
	code, _ = admin(t, s, http.MethodGet, "/api/world", "", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = admin(t, s, http.MethodGet, "/api/world", "", "wrong")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, _ = admin(t, s, http.MethodGet, "/api/world", "", "sekret")
	assert.Equal(t, http.StatusOK, code)

	// Refused before anything listens: a configuration error.
	_, err := sim.New(sim.WithStateDir(t.TempDir()), sim.WithHTTPSAddr("127.0.0.1:0"), sim.WithIMDSAddr("127.0.0.1:0"), sim.WithAdminAddr("0.0.0.0:0"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not loopback: an admin token is required")
	_, err = sim.New(sim.WithStateDir(t.TempDir()), sim.WithHTTPSAddr("nowhere"), sim.WithIMDSAddr("127.0.0.1:0"), sim.WithAdminAddr("[::1]:0"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `https address "nowhere": want host:port`)
}

func TestAdminPerObjectEndpoints(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	code, _ := admin(t, s, http.MethodPost, "/api/world/roleAssignments", `{"principal":"aks1","role":"AcrPush","scope":"registry/azsimacr"}`, "")
	require.Equal(t, http.StatusOK, code)
	assert.Len(t, s.World().Snapshot().Assignments, 3)
	code, _ = admin(t, s, http.MethodDelete, "/api/world/roleAssignments/0", "", "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, "app-puller", s.World().Snapshot().Assignments[0].Principal.Name)

	code, _ = admin(t, s, http.MethodPost, "/api/world/identities", `{"name":"late","resourceGroup":"rg-azsim"}`, "")
	require.Equal(t, http.StatusOK, code)
	_, ok := s.World().Snapshot().PrincipalByName("late")
	assert.True(t, ok)
	code, _ = admin(t, s, http.MethodDelete, "/api/world/identities/late", "", "")
	require.Equal(t, http.StatusOK, code)

	for _, tc := range []struct{ method, path, body, want string }{
		{http.MethodPost, "/api/world/identities", `{"name":"x","resourceGroup":"nope"}`, `identities[2].resourceGroup: unknown resource group "nope"`},
		{http.MethodPost, "/api/world/identities", `{"nmae":"x"}`, `unknown field "nmae"`},
		{http.MethodPost, "/api/world/widgets", `{}`, `no collection "widgets"`},
		{http.MethodDelete, "/api/world/identities/ghost", "", `no object "ghost"`},
	} {
		code, e := admin(t, s, tc.method, tc.path, tc.body, "")
		assert.Equal(t, http.StatusBadRequest, code, tc.path)
		assert.Contains(t, e["error"], tc.want)
	}
	code, _ = admin(t, s, http.MethodGet, "/api/world/widgets", "", "")
	assert.Equal(t, http.StatusNotFound, code)
}
