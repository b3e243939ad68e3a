package fakeaad

import (
	"errors"
	"fmt"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// thumbprintKeys reads ring KeyRing of keys and gives each key its
// thumbprint key ID.
func thumbprintKeys(keys jwtx.Keyring) ([]*jwtx.Key, error) {
	if keys == nil {
		return nil, errors.New("fakeaad: a keyring is required")
	}
	ring, err := keys.Keys(KeyRing)
	if err != nil {
		return nil, fmt.Errorf("fakeaad: reading key ring %q: %w", KeyRing, err)
	}
	if len(ring) == 0 {
		return nil, errors.New("fakeaad: at least one signing key is required")
	}
	out := make([]*jwtx.Key, 0, len(ring))
	for _, k := range ring {
		tk, err := jwtx.NewThumbprintKey(k.Private)
		if err != nil {
			return nil, fmt.Errorf("fakeaad: %w", err)
		}
		out = append(out, tk)
	}
	return out, nil
}

func requireStore(store *world.Store) error {
	if store == nil {
		return errors.New("fakeaad: a world store is required")
	}
	return nil
}

// validate reports every option out of range.
func (o options) validate() error {
	var errs []error
	if o.appLifetime <= 0 {
		errs = append(errs, fmt.Errorf("fakeaad: the token lifetime must be positive, got %s", o.appLifetime))
	}
	if o.assertionSkew < 0 {
		errs = append(errs, fmt.Errorf("fakeaad: the assertion skew must not be negative, got %s", o.assertionSkew))
	}
	if o.metadataTTL < 0 {
		errs = append(errs, fmt.Errorf("fakeaad: the issuer metadata TTL must not be negative, got %s", o.metadataTTL))
	}
	return errors.Join(errs...)
}
