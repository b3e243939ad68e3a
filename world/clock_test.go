package world

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeWall is a wall clock the test moves by hand.
type fakeWall struct {
	mu sync.Mutex
	t  time.Time
}

func (w *fakeWall) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.t
}

func (w *fakeWall) sleep(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t = w.t.Add(d)
}

func TestSimClockFollowsWallClock(t *testing.T) {
	t.Parallel()
	wall := &fakeWall{t: t0}
	c := &SimClock{wall: wall.now}
	assert.Equal(t, t0, c.Now())
	wall.sleep(time.Second)
	assert.Equal(t, t0.Add(time.Second), c.Now(), "a running clock runs")

	c.Advance(time.Hour)
	assert.Equal(t, t0.Add(time.Hour+time.Second), c.Now())
	wall.sleep(time.Second)
	assert.Equal(t, t0.Add(time.Hour+2*time.Second), c.Now(), "and keeps running after Advance")

	c.Advance(-2 * time.Hour)
	assert.Equal(t, t0.Add(-time.Hour+2*time.Second), c.Now(), "Advance may go back")

	target := time.Date(2031, 6, 1, 12, 0, 0, 0, time.UTC)
	c.Set(target)
	assert.Equal(t, target, c.Now())
	wall.sleep(time.Minute)
	assert.Equal(t, target.Add(time.Minute), c.Now(), "a running clock keeps running after Set")
}

func TestNewSimClockStartsAtWallTime(t *testing.T) {
	t.Parallel()
	before := time.Now()
	now := NewSimClock().Now()
	after := time.Now()
	assert.False(t, now.Before(before))
	assert.False(t, now.After(after))
}

func TestFixedClock(t *testing.T) {
	t.Parallel()
	c := NewFixedClock(t0)
	assert.Equal(t, t0, c.Now())
	assert.Equal(t, t0, c.Now(), "a fixed clock does not run")
	c.Advance(90 * time.Second)
	assert.Equal(t, t0.Add(90*time.Second), c.Now())
	c.Advance(-time.Hour)
	assert.Equal(t, t0.Add(90*time.Second-time.Hour), c.Now())
	c.Set(t0.AddDate(1, 0, 0))
	assert.Equal(t, t0.AddDate(1, 0, 0), c.Now())
	var _ Clock = c
}

func TestSimClockConcurrentUse(t *testing.T) {
	t.Parallel()
	c := NewFixedClock(t0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, t0.Add(800*time.Second), c.Now())
}

func TestSkipped(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewFixedClock(t0)
	c.Advance(2 * time.Hour)
	assert.False(t, c.Skipped(t0.Add(-time.Second)), "before the jump was seen")
	assert.False(t, c.Skipped(t0), "the time the clock jumped from was now")
	assert.True(t, c.Skipped(t0.Add(time.Second)), "inside the jump")
	assert.False(t, c.Skipped(t0.Add(2*time.Hour)), "the time the clock landed on is now")
	c.Set(t0.Add(time.Hour)) // backwards: nothing skipped
	assert.True(t, c.Skipped(t0.Add(30*time.Minute)), "an earlier jump stays remembered before where the clock went back to")
	assert.False(t, c.Skipped(t0.Add(90*time.Minute)), "times after it are seen again")
	c.Set(t0.Add(-time.Hour))
	assert.False(t, c.Skipped(t0.Add(30*time.Minute)), "a reset before the jump forgets it")
	c.Set(t0.Add(time.Hour))
	c.Set(t0.Add(5 * time.Hour))
	assert.True(t, c.Skipped(t0.Add(4*time.Hour)))
	c.Advance(-time.Minute)
	for i := 0; i < 2*maxSkipped; i++ {
		c.Advance(time.Second)
	}
	assert.False(t, c.Skipped(t0.Add(30*time.Minute)), "only the newest jumps are remembered")
}

func TestClockStateRoundTrip(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewFixedClock(t0)
	c.Advance(2 * time.Hour)
	b, err := json.Marshal(c.State())
	require.NoError(t, err)
	var st ClockState
	require.NoError(t, json.Unmarshal(b, &st))
	r := NewFixedClock(time.Time{})
	r.Restore(st)
	assert.Equal(t, t0.Add(2*time.Hour), r.Now())
	assert.True(t, r.Skipped(t0.Add(time.Hour)), "the jumped-over span is restored with the clock")
}
