package scenariotarget

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
	"github.com/azsim/azsim/world"
)

// adminTarget is a kind target whose simulator is an in-process one: its
// admin API is the same as the container's.
func adminTarget(t *testing.T) (*Target, *sim.Sim, *world.SimClock) {
	t.Helper()
	dir := t.TempDir()
	clock := world.NewSimClock()
	s := simtest.Start(t, world.Default(), sim.WithStateDir(dir), sim.WithAdminToken("tok"), sim.WithClock(clock))
	kw, err := json.Marshal(world.Default())
	require.NoError(t, err)
	tg := &Target{env: kindstate.Env{StateDir: dir, WorldCluster: "aks1"}, kindWorld: kw,
		token: "tok", admin: newAdmin(s.Endpoints().Admin, "tok")}
	return tg, s, clock
}

func TestControlStepsThroughTheAdminAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tg, s, clock := adminTarget(t)

	hop, d, err := tg.control(ctx, &scenarios.Step{AdvanceClock: "2h"})
	require.NoError(t, err)
	assert.True(t, hop.OK)
	assert.Nil(t, d)
	assert.WithinDuration(t, time.Now().Add(2*time.Hour), clock.Now(), time.Minute)
	at, ok := strings.CutPrefix(hop.Detail, "advanced 2h to ")
	require.True(t, ok, hop.Detail)
	moved, err := time.Parse(time.RFC3339Nano, at)
	require.NoError(t, err)
	assert.WithinDuration(t, clock.Now(), moved, time.Minute)

	_, _, err = tg.control(ctx, &scenarios.Step{AdvanceClock: "2 days"})
	assert.ErrorContains(t, err, `advanceClock "2 days"`)

	_, _, err = tg.control(ctx, &scenarios.Step{Fault: &api.FaultRule{Service: "imds", Status: 410, Count: 1}})
	require.NoError(t, err)
	require.Len(t, s.Faults(), 1)

	ra := world.RoleAssignment{Principal: "aks1", Role: "AcrPull", Scope: "registry/azsimacr"}
	_, _, err = tg.control(ctx, &scenarios.Step{AssignRole: &ra})
	require.NoError(t, err)
	assert.Contains(t, s.World().Snapshot().World.RoleAssignments, ra)

	// reset: the clock back at wall time, no faults, the kind world.
	require.NoError(t, tg.reset(ctx, tg.kindWorld))
	assert.WithinDuration(t, time.Now(), clock.Now(), time.Minute)
	assert.Empty(t, s.Faults())
	assert.NotContains(t, s.World().Snapshot().World.RoleAssignments, ra)
}

// An identity assignment without ARM roles is refused with the ARM
// decision that explains it; a bad step is an error, not a panic.
func TestAssignIdentityThroughTheAdminAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tg, s, _ := adminTarget(t)
	hop, d, err := tg.control(ctx, &scenarios.Step{AssignIdentity: &scenarios.AssignIdentityStep{NodePool: "nodepool1", Identity: "app-puller", By: "aks1-agentpool"}})
	require.NoError(t, err)
	assert.False(t, hop.OK)
	assert.Equal(t, http.StatusForbidden, hop.Status)
	require.NotNil(t, d)
	assert.Equal(t, "AuthorizationFailed", d.Error)
	np, _ := s.World().Snapshot().NodePool("nodepool1")
	assert.Len(t, np.Identities, 1, "the VMSS is unchanged")

	_, _, err = tg.control(ctx, &scenarios.Step{AssignIdentity: &scenarios.AssignIdentityStep{NodePool: "nodepool1", Identity: "ghost", By: "aks1-agentpool"}})
	assert.ErrorContains(t, err, `identity "ghost" must be a user-assigned identity`)
}

// rotateKeys backs the ring up once, before the first rotation.
func TestRotateKeysBacksUpTheRing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tg, s, _ := adminTarget(t)
	_, _, err := s.MintServiceAccountToken(api.ServiceAccountTokenRequest{Namespace: "default", ServiceAccount: "app-puller"})
	require.NoError(t, err)
	ring := filepath.Join(tg.env.StateDir, "keys", "issuer-aks1.json")
	before, err := os.ReadFile(ring)
	require.NoError(t, err)
	for range 2 {
		// The step may spell the cluster another way; the ring is the world's.
		hop, _, err := tg.control(ctx, &scenarios.Step{RotateKeys: &scenarios.RotateStep{Cluster: "AKS1", DropOld: true}})
		require.NoError(t, err)
		assert.Contains(t, hop.Detail, "rotated aks1")
	}
	after, err := os.ReadFile(ring)
	require.NoError(t, err)
	assert.NotEqual(t, before, after)
	require.Contains(t, tg.rings, "aks1")
	assert.Equal(t, before, tg.rings["aks1"].data, "the backup is the ring before the scenario")
	assert.Equal(t, ring, tg.rings["aks1"].path)
}

func TestAdminClientErrors(t *testing.T) {
	t.Parallel()
	tg, _, _ := adminTarget(t)
	tg.admin = newAdmin(tg.admin.Addr(), "wrong")
	_, err := tg.Mark(context.Background())
	assert.ErrorContains(t, err, "401 Unauthorized")
	assert.ErrorContains(t, err, "admin token required")
	assert.NotContains(t, err.Error(), "wrong", "the token is not echoed")
}
