package client_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

func TestClock(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := world.NewFixedClock(t0)
	_, c := start(t, sim.WithClock(clock))
	ctx := testContext(t)

	now, err := c.Clock(ctx)
	require.NoError(t, err)
	assert.True(t, t0.Equal(now), now)

	now, err = c.AdvanceClock(ctx, 3*time.Hour)
	require.NoError(t, err)
	assert.True(t, t0.Add(3*time.Hour).Equal(now), now)
	now, err = c.AdvanceClock(ctx, -time.Hour)
	require.NoError(t, err)
	assert.True(t, t0.Add(2*time.Hour).Equal(now), "a negative duration moves the clock back: %v", now)

	set := time.Date(2031, 6, 1, 12, 30, 0, 500, time.FixedZone("CEST", 2*3600))
	now, err = c.SetClock(ctx, set)
	require.NoError(t, err)
	assert.True(t, set.Equal(now), now)
	assert.True(t, set.Equal(clock.Now()), "the simulator's clock moved")
}
