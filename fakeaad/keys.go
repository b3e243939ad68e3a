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
	if st := o.unconfirmed.NilClientIDStatus; st != 0 && (st < 400 || st > 499) {
		errs = append(errs, fmt.Errorf("fakeaad: the AADSTS700038 status must be a 4xx status, got %d", st))
	}
	if c := o.unconfirmed.NilClientIDError; c != "" && !isOAuthError(c) {
		errs = append(errs, fmt.Errorf("fakeaad: the AADSTS700038 error %q is not an OAuth error code (lower case letters and '_')", c))
	}
	return errors.Join(errs...)
}

// isOAuthError reports whether s is spelled as Entra's OAuth 2.0 error
// codes are: 1 to 64 lower-case letters and '_', a letter first.
func isOAuthError(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '_' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}
