package world

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewStoreRejectsInvalidWorld(t *testing.T) {
	t.Parallel()
	_, err := NewStore(&World{}, NewFixedClock(t0))
	require.ErrorContains(t, err, "apiVersion: must be")
}

func TestStoreReplace(t *testing.T) {
	t.Parallel()
	clock := NewFixedClock(t0)
	s, err := NewStore(Default(), clock)
	require.NoError(t, err)
	assert.Same(t, clock, s.Clock())
	old := s.Snapshot()
	assert.Equal(t, t0, old.Loaded)

	bad := Default()
	bad.Identities[1].FederatedCredentials[0].Audiences = []string{"a", "b"}
	bad.Registries[0].Name = "x"
	ix, err := s.Replace(bad)
	require.Error(t, err)
	assert.Nil(t, ix)
	assert.Contains(t, err.Error(), "identities[1].federatedCredentials[0].audiences: exactly one audience is required, got 2")
	assert.Contains(t, err.Error(), `registries[0].name: "x" must be 5-50 letters and digits`)
	assert.Same(t, old, s.Snapshot(), "a rejected world leaves the old snapshot in place")

	clock.Advance(time.Hour)
	w := Default()
	w.Registries[0].Name = "otheracr"
	w.RoleAssignments = nil
	ix, err = s.Replace(w)
	require.NoError(t, err)
	assert.Same(t, ix, s.Snapshot())
	assert.Equal(t, t0.Add(time.Hour), ix.Loaded)
	_, ok := ix.Registry("otheracr.azurecr.io")
	assert.True(t, ok)
	_, ok = old.Registry("otheracr.azurecr.io")
	assert.False(t, ok, "old snapshots are not changed")
	assert.Len(t, old.Assignments, 2)
}

func TestStoreUpdate(t *testing.T) {
	t.Parallel()
	clock := NewFixedClock(t0)
	s, err := NewStore(Default(), clock)
	require.NoError(t, err)
	old := s.Snapshot()

	t.Run("error from fn", func(t *testing.T) {
		boom := errors.New("boom")
		_, err := s.Update(func(w *World) error {
			w.Tenants = nil
			return boom
		})
		require.ErrorIs(t, err, boom)
		assert.Same(t, old, s.Snapshot())
	})
	t.Run("invalid result", func(t *testing.T) {
		_, err := s.Update(func(w *World) error {
			w.Identities[1].FederatedCredentials = append(w.Identities[1].FederatedCredentials, w.Identities[1].FederatedCredentials[0])
			return nil
		})
		require.ErrorContains(t, err, `identities[1].federatedCredentials[1].name: duplicate name "app-puller-aks1"`)
		assert.Same(t, old, s.Snapshot())
	})
	t.Run("no-op update of the compiled world", func(t *testing.T) {
		ix, err := s.Update(func(*World) error { return nil })
		require.NoError(t, err, "the compiled default world compiles again")
		assert.Equal(t, idsOf(old), idsOf(ix))
		assert.Same(t, ix, s.Snapshot())
	})
	t.Run("fn gets a copy", func(t *testing.T) {
		before := s.Snapshot()
		_, err := s.Update(func(w *World) error {
			w.Tenants[0].Domain = "changed.example"
			return errors.New("abandon")
		})
		require.Error(t, err)
		assert.Equal(t, "azsim.onmicrosoft.com", before.World.Tenants[0].Domain)
	})
}

// TestStoreUpdateKeepsPropagationDeadlines checks that an update restarts
// the propagation delay of the role assignments it adds, not of those that
// were loaded before.
func TestStoreUpdateKeepsPropagationDeadlines(t *testing.T) {
	t.Parallel()
	clock := NewFixedClock(t0)
	w := Default()
	w.RoleAssignments[0].EffectiveAfter = Duration(10 * time.Minute)
	s, err := NewStore(w, clock)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(10*time.Minute), s.Snapshot().Assignments[0].EffectiveAt)

	clock.Advance(8 * time.Minute)
	ix, err := s.Update(func(w *World) error {
		w.RoleAssignments = append(w.RoleAssignments, RoleAssignment{
			Principal: "aks1", Role: "AcrPush", Scope: "registry/azsimacr", EffectiveAfter: Duration(10 * time.Minute),
		})
		return nil
	})
	require.NoError(t, err)
	require.Len(t, ix.Assignments, 3)
	assert.Equal(t, t0.Add(10*time.Minute), ix.Assignments[0].EffectiveAt, "an existing assignment keeps its deadline")
	assert.True(t, ix.Assignments[1].EffectiveAt.IsZero(), "no delay: effective at any time")
	assert.Equal(t, t0.Add(18*time.Minute), ix.Assignments[2].EffectiveAt, "a new assignment is delayed from now")

	clock.Advance(2 * time.Minute)
	kubelet := principal(t, ix, "aks1-agentpool")
	acr := registry(t, ix, "azsimacr")
	assert.Equal(t, read, s.Snapshot().RepositoryActions(kubelet.ObjectID, acr, "hello", clock.Now()).Allowed)
}

// An assignment without a delay grants also when the simulated clock is
// set back before the time the world was loaded (a harness resetting the
// clock between scenarios); one with a delay still waits for it.
func TestAssignmentWithoutDelayHoldsWhenClockIsSetBack(t *testing.T) {
	t.Parallel()
	clock := NewFixedClock(t0)
	w := Default()
	w.RoleAssignments[1].EffectiveAfter = Duration(10 * time.Minute)
	s, err := NewStore(w, clock)
	require.NoError(t, err)
	clock.Set(t0.Add(-time.Hour))
	ix := s.Snapshot()
	acr := registry(t, ix, "azsimacr")
	kubelet, app := principal(t, ix, "aks1-agentpool"), principal(t, ix, "app-puller")
	assert.Equal(t, read, ix.RepositoryActions(kubelet.ObjectID, acr, "hello", clock.Now()).Allowed)
	assert.Empty(t, ix.RepositoryActions(app.ObjectID, acr, "hello", clock.Now()).Allowed)
}

func TestStoreConcurrentReadersAndWriters(t *testing.T) {
	t.Parallel()
	s, err := NewStore(Default(), NewFixedClock(t0))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 20 {
				_, err := s.Update(func(w *World) error {
					w.Registries[0].AnonymousPull = i%2 == 0
					return nil
				})
				assert.NoError(t, err)
			}
		})
		wg.Go(func() {
			for range 200 {
				ix := s.Snapshot()
				_, ok := ix.Registry("azsimacr")
				assert.True(t, ok)
			}
		})
	}
	wg.Wait()
}
