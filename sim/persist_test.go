package sim_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

// startOn starts a simulator on dir with the given options and stops it at
// the end of the test (Close twice is fine).
func startOn(t *testing.T, dir string, opts ...sim.Option) *sim.Sim {
	t.Helper()
	base := []sim.Option{sim.WithStateDir(dir), sim.WithHTTPSAddr("127.0.0.1:0"), sim.WithIMDSAddr("127.0.0.1:0"), sim.WithAdminAddr("127.0.0.1:0")}
	s, err := sim.New(append(base, opts...)...)
	require.NoError(t, err)
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(s.Close)
	return s
}

// What the admin API acknowledged (a world change, a clock move) is there
// after a restart on the same state directory; another world file, or
// WithFreshState, starts afresh.
func TestAdminChangesSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s1 := startOn(t, dir)
	code, m := admin(t, s1, http.MethodPost, "/api/world/identities", `{"name":"added-later","resourceGroup":"rg-azsim"}`, "")
	require.Equal(t, http.StatusOK, code, m)
	code, m = admin(t, s1, http.MethodPost, "/api/clock", `{"advance":"3h"}`, "")
	require.Equal(t, http.StatusOK, code, m)
	ahead := s1.World().Clock().Now()
	s1.Close() // as good as kill -9: nothing is written at close

	s2 := startOn(t, dir)
	_, ok := s2.World().Snapshot().PrincipalByName("added-later")
	assert.True(t, ok, "the identity added through the admin API is back")
	assert.WithinDuration(t, ahead, s2.World().Clock().Now(), time.Minute, "the clock is still 3 h ahead")
	assert.Greater(t, time.Until(s2.World().Clock().Now()), 2*time.Hour)
	s2.Close()

	other := world.Default()
	other.Identities = append(other.Identities, world.Identity{Name: "from-another-file", ResourceGroup: "rg-azsim"})
	s3 := startOn(t, dir, sim.WithWorld(other))
	_, ok = s3.World().Snapshot().PrincipalByName("added-later")
	assert.False(t, ok, "another world file starts from that file")
	_, ok = s3.World().Snapshot().PrincipalByName("from-another-file")
	assert.True(t, ok)
	s3.Close()

	s4 := startOn(t, dir, sim.WithWorld(other), sim.WithFreshState())
	assert.WithinDuration(t, time.Now(), s4.World().Clock().Now(), time.Minute, "a fresh state starts on the wall clock")
}

// A world change that cannot be saved is refused, and the world stays.
func TestWorldChangeRefusedWhenItCannotBeSaved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startOn(t, dir)
	// A directory where the saved world goes: the atomic rename fails, for
	// root too.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "world.json"), 0o755))
	code, m := admin(t, s, http.MethodPost, "/api/world/identities", `{"name":"unsaved","resourceGroup":"rg-azsim"}`, "")
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Contains(t, m["error"], "the world could not be saved")
	_, ok := s.World().Snapshot().PrincipalByName("unsaved")
	assert.False(t, ok, "an unsaved change is not made")
}

// A clock move that cannot be saved is refused, and the clock stays.
func TestClockMoveRefusedWhenItCannotBeSaved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startOn(t, dir)
	require.NoError(t, os.Mkdir(filepath.Join(dir, "clock.json"), 0o755))
	code, m := admin(t, s, http.MethodPost, "/api/clock", `{"advance":"3h"}`, "")
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Contains(t, m["error"], "saving the clock")
	assert.WithinDuration(t, time.Now(), s.World().Clock().Now(), time.Minute, "the clock did not move")
}
