package world

import (
	"sync"
	"time"
)

// Clock is the simulated time source. Every iat/nbf/exp and validity check
// in the fakes reads it; nothing in a fake calls time.Now directly.
type Clock interface {
	Now() time.Time
}

// SimClock follows the wall clock shifted by an offset that Advance and Set
// change (time travel for expiry and refresh tests). It is safe for
// concurrent use.
type SimClock struct {
	mu     sync.RWMutex
	offset time.Duration
	frozen *time.Time
	wall   func() time.Time
}

// NewSimClock returns a clock at wall time.
func NewSimClock() *SimClock { return &SimClock{wall: time.Now} }

// NewFixedClock returns a clock stopped at t (for deterministic tests).
func NewFixedClock(t time.Time) *SimClock {
	c := &SimClock{wall: time.Now}
	c.frozen = &t
	return c
}

// Now returns the simulated time.
func (c *SimClock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.frozen != nil {
		return *c.frozen
	}
	return c.wall().Add(c.offset)
}

// Advance moves the clock forward (or back, with a negative d).
func (c *SimClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen != nil {
		t := c.frozen.Add(d)
		c.frozen = &t
		return
	}
	c.offset += d
}

// Set moves the clock to t; a running clock keeps running from there.
func (c *SimClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen != nil {
		c.frozen = &t
		return
	}
	c.offset = t.Sub(c.wall())
}
