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
	// skipped are the spans of simulated time that forward moves jumped
	// over, newest last (at most maxSkipped).
	skipped []span
}

// span is an open interval of simulated time: from was now before the
// jump and to is now after it; only the times between were never now.
type span struct{ from, to time.Time }

// maxSkipped bounds the skipped spans a clock remembers.
const maxSkipped = 32

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
	before := c.nowLocked()
	if c.frozen != nil {
		t := c.frozen.Add(d)
		c.frozen = &t
	} else {
		c.offset += d
	}
	c.jumped(before, before.Add(d))
}

// Set moves the clock to t; a running clock keeps running from there.
func (c *SimClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	before := c.nowLocked()
	if c.frozen != nil {
		c.frozen = &t
	} else {
		c.offset = t.Sub(c.wall())
	}
	c.jumped(before, t)
}

func (c *SimClock) nowLocked() time.Time {
	if c.frozen != nil {
		return *c.frozen
	}
	return c.wall().Add(c.offset)
}

// jumped remembers a forward move from before to after. A move back to
// after forgets what it skipped from after on: those times are seen again.
func (c *SimClock) jumped(before, after time.Time) {
	if !after.After(before) {
		kept := c.skipped[:0]
		for _, s := range c.skipped {
			if s.from.Before(after) {
				if s.to.After(after) {
					s.to = after
				}
				kept = append(kept, s)
			}
		}
		c.skipped = kept
		return
	}
	c.skipped = append(c.skipped, span{before, after})
	if len(c.skipped) > maxSkipped {
		c.skipped = c.skipped[len(c.skipped)-maxSkipped:]
	}
}

// Skipped reports whether simulated time t was jumped over by a forward
// move of the clock: no request could have seen it as now. A token issued
// at such a time came from an issuer that does not follow this clock (a
// real kube-apiserver on the wall clock, say).
func (c *SimClock) Skipped(t time.Time) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, s := range c.skipped {
		if t.After(s.from) && t.Before(s.to) {
			return true
		}
	}
	return false
}

// ClockState is what a clock needs to resume: its offset from the wall
// clock, or the time it is stopped at, and the spans it jumped over.
type ClockState struct {
	Offset  time.Duration `json:"offset"`
	Frozen  *time.Time    `json:"frozen,omitempty"`
	Skipped []Span        `json:"skipped,omitempty"`
}

// Span is a stretch of simulated time a forward move jumped over.
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// State returns the clock's state, to save it.
func (c *SimClock) State() ClockState {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st := ClockState{Offset: c.offset}
	for _, sp := range c.skipped {
		st.Skipped = append(st.Skipped, Span{From: sp.from, To: sp.to})
	}
	if c.frozen != nil {
		t := *c.frozen
		st.Frozen = &t
	}
	return st
}

// Restore resumes a saved state: a running clock keeps its offset from the
// wall clock, a stopped one its time.
func (c *SimClock) Restore(st ClockState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = st.Offset
	c.skipped = nil
	for _, sp := range st.Skipped {
		c.skipped = append(c.skipped, span{sp.From, sp.To})
	}
	if len(c.skipped) > maxSkipped {
		c.skipped = c.skipped[len(c.skipped)-maxSkipped:]
	}
	if st.Frozen != nil {
		t := *st.Frozen
		c.frozen = &t
	} else {
		c.frozen = nil
	}
}
