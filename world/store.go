package world

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Store holds the current world behind one lock and hands out immutable
// snapshots; readers never block writers.
type Store struct {
	mu    sync.Mutex // serialises writers
	cur   atomic.Pointer[Index]
	clock *SimClock
	// commit, when set, makes a new world durable before it becomes
	// current; its error refuses the change.
	commit func(*World) error
}

// NewStore compiles w and returns a Store using clock.
func NewStore(w *World, clock *SimClock) (*Store, error) {
	ix, err := Compile(w, clock.Now())
	if err != nil {
		return nil, err
	}
	s := &Store{clock: clock}
	s.cur.Store(ix)
	return s, nil
}

// Snapshot returns the current compiled world.
func (s *Store) Snapshot() *Index { return s.cur.Load() }

// Clock returns the simulated clock.
func (s *Store) Clock() *SimClock { return s.clock }

// ErrNotSaved marks a change refused because its commit failed: the world
// is valid, but it could not be made durable.
var ErrNotSaved = errors.New("the world could not be saved")

// OnCommit sets fn to run, under the writers' lock, on every world Replace
// and Update are about to make current; when fn fails the change is refused
// and the current world stays. Set it before the store is shared.
func (s *Store) OnCommit(fn func(*World) error) { s.commit = fn }

// install makes ix current once commit accepted it (s.mu held).
func (s *Store) install(ix *Index) error {
	if s.commit != nil {
		if err := s.commit(ix.World); err != nil {
			return fmt.Errorf("%w: %w", ErrNotSaved, err)
		}
	}
	s.cur.Store(ix)
	return nil
}

// Replace validates w and makes it current; on error nothing changes.
func (s *Store) Replace(w *World) (*Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ix, err := Compile(w, s.clock.Now())
	if err != nil {
		return nil, err
	}
	if err := s.install(ix); err != nil {
		return nil, err
	}
	return ix, nil
}

// Update applies fn to a copy of the current world and makes the result
// current if it validates.
func (s *Store) Update(fn func(w *World) error) (*Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, err := clone(s.cur.Load().World)
	if err != nil {
		return nil, fmt.Errorf("copying world: %w", err)
	}
	if err := fn(w); err != nil {
		return nil, err
	}
	ix, err := Compile(w, s.clock.Now())
	if err != nil {
		return nil, err
	}
	keepDeadlines(s.cur.Load(), ix)
	if err := s.install(ix); err != nil {
		return nil, err
	}
	return ix, nil
}

// keepDeadlines carries over the propagation deadline of every role
// assignment that old already had, so that an update restarts only the
// delays of the assignments it adds or changes (RoleAssignment.EffectiveAfter
// is measured from when the assignment was loaded).
func keepDeadlines(old, ix *Index) {
	prev := map[RoleAssignment][]time.Time{}
	for _, a := range old.Assignments {
		prev[a.Source] = append(prev[a.Source], a.EffectiveAt)
	}
	for _, a := range ix.Assignments {
		if ts := prev[a.Source]; len(ts) > 0 {
			a.EffectiveAt, prev[a.Source] = ts[0], ts[1:]
		}
	}
}
