package state

import (
	"sync"

	"github.com/azsim/azsim/internal/platform/jwtx"
)

// Keyring is the jwtx.Keyring of a state directory: each ring is a key ring
// file of the directory (created with one key on first use), so tokens stay
// valid across restarts. Rings are cached in memory; Rotate updates both.
type Keyring struct {
	dir   *Dir
	mu    sync.Mutex
	rings map[string][]*jwtx.Key
}

// NewKeyring returns the keyring kept in dir.
func NewKeyring(dir *Dir) *Keyring {
	return &Keyring{dir: dir, rings: map[string][]*jwtx.Key{}}
}

// Keys implements jwtx.Keyring.
func (k *Keyring) Keys(ring string) ([]*jwtx.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if r, ok := k.rings[ring]; ok {
		return r, nil
	}
	priv, err := k.dir.Ring(ring)
	if err != nil {
		return nil, err
	}
	keys, err := Keys(priv)
	if err != nil {
		return nil, err
	}
	k.rings[ring] = keys
	return keys, nil
}

// Rotate adds a new active key to ring and keeps at most keep keys.
func (k *Keyring) Rotate(ring string, keep int) ([]*jwtx.Key, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	priv, err := k.dir.Rotate(ring, keep)
	if err != nil {
		return nil, err
	}
	keys, err := Keys(priv)
	if err != nil {
		return nil, err
	}
	k.rings[ring] = keys
	return keys, nil
}
