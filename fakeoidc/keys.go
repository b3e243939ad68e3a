package fakeoidc

import (
	"fmt"

	"github.com/azsim/azsim/internal/platform/jwtx"
)

// Ring is the key ring of cluster's issuer in the keyring the issuer is
// given: "issuer-<cluster>".
func Ring(cluster string) string { return "issuer-" + cluster }

// clusterKeys returns the keys of cluster's issuer, the active one last.
func (i *Issuer) clusterKeys(cluster string) ([]*jwtx.Key, error) {
	keys, err := i.keys.Keys(Ring(cluster))
	if err != nil {
		return nil, fmt.Errorf("issuer keys of cluster %q: %w", cluster, err)
	}
	return keys, nil
}

// RotatingKeyring is a keyring whose rings can be rotated; the state
// directory's keyring (state.Keyring) is one.
type RotatingKeyring interface {
	jwtx.Keyring
	Rotate(ring string, keep int) ([]*jwtx.Key, error)
}

// IssuerKeys reads and rotates the clusters' issuer keys in a rotating
// keyring, the one the issuer is given.
type IssuerKeys struct {
	keys RotatingKeyring
}

// NewIssuerKeys returns the issuer keys kept in keys.
func NewIssuerKeys(keys RotatingKeyring) *IssuerKeys { return &IssuerKeys{keys: keys} }

// IssuerKeys returns the keys of cluster's issuer, the active one last; a
// cluster's first call creates its key.
func (s *IssuerKeys) IssuerKeys(cluster string) ([]*jwtx.Key, error) {
	keys, err := s.keys.Keys(Ring(cluster))
	if err != nil {
		return nil, fmt.Errorf("issuer keys of cluster %q: %w", cluster, err)
	}
	return keys, nil
}

// Rotate adds a new active key to cluster's issuer and keeps the previous
// one published (as `az aks oidc-issuer rotate-signing-keys` does). With
// dropOld the previous key is removed at once, so tokens it signed fail with
// an unknown kid.
func (s *IssuerKeys) Rotate(cluster string, dropOld bool) ([]*jwtx.Key, error) {
	keep := 2
	if dropOld {
		keep = 1
	}
	keys, err := s.keys.Rotate(Ring(cluster), keep)
	if err != nil {
		return nil, fmt.Errorf("rotating issuer keys of cluster %q: %w", cluster, err)
	}
	return keys, nil
}
