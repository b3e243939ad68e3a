package jwtx

import "errors"

// Keyring hands out signing keys by key-ring name, oldest first: the last
// key of a ring signs, the others are still published so that tokens they
// signed verify. Each fake names the rings it uses.
type Keyring interface {
	Keys(ring string) ([]*Key, error)
}

// StaticKeyring is a Keyring with the same fixed keys in every ring.
type StaticKeyring []*Key

// Keys implements Keyring.
func (s StaticKeyring) Keys(string) ([]*Key, error) {
	if len(s) == 0 {
		return nil, errors.New("the keyring holds no keys")
	}
	return s, nil
}
