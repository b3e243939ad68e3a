package fakeoidc

import (
	"fmt"
	"sync"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/internal/platform/state"
)

// Keys supplies each cluster's issuer signing keys.
type Keys interface {
	// IssuerKeys returns the keys of cluster, the active one last.
	IssuerKeys(cluster string) ([]*jwtx.Key, error)
}

// StateKeys keeps issuer keys in a state directory (key ring
// "issuer-<cluster>"), so tokens and clusters survive restarts. It caches
// rings in memory.
type StateKeys struct {
	dir   *state.Dir
	mu    sync.Mutex
	rings map[string][]*jwtx.Key
}

// NewStateKeys returns issuer keys kept in dir.
func NewStateKeys(dir *state.Dir) *StateKeys {
	return &StateKeys{dir: dir, rings: map[string][]*jwtx.Key{}}
}

func ringName(cluster string) string { return "issuer-" + cluster }

// IssuerKeys implements Keys; a cluster's first call creates its key.
func (s *StateKeys) IssuerKeys(cluster string) ([]*jwtx.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.rings[cluster]; ok {
		return r, nil
	}
	ring, err := s.dir.Ring(ringName(cluster))
	if err != nil {
		return nil, fmt.Errorf("issuer keys of cluster %q: %w", cluster, err)
	}
	keys, err := state.Keys(ring)
	if err != nil {
		return nil, fmt.Errorf("issuer keys of cluster %q: %w", cluster, err)
	}
	s.rings[cluster] = keys
	return keys, nil
}

// Rotate adds a new active key to cluster's issuer and keeps the previous
// one published (as `az aks oidc-issuer rotate-signing-keys` does). With
// dropOld the previous key is removed at once, so tokens it signed fail with
// an unknown kid.
func (s *StateKeys) Rotate(cluster string, dropOld bool) ([]*jwtx.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keep := 2
	if dropOld {
		keep = 1
	}
	ring, err := s.dir.Rotate(ringName(cluster), keep)
	if err != nil {
		return nil, fmt.Errorf("rotating issuer keys of cluster %q: %w", cluster, err)
	}
	keys, err := state.Keys(ring)
	if err != nil {
		return nil, err
	}
	s.rings[cluster] = keys
	return keys, nil
}
