package sim

import (
	"fmt"

	"github.com/azsim/azsim/fakeacr"
	"github.com/azsim/azsim/internal/platform/jwtx"
)

// wireRegistries builds the fake ACR for every registry of the world, with
// its signing key from keys and Entra as token verifier; seeding the
// world's images happens here, before anything listens.
func (s *Sim) wireRegistries(keys jwtx.Keyring) error {
	opts := append(s.opts.acr.fakeOptions(), fakeacr.WithLogger(s.opts.logger))
	if s.opts.registryStorage != "" {
		opts = append(opts, fakeacr.WithStorageDir(s.opts.registryStorage))
	}
	acr, err := fakeacr.New(s.store, keys, s.entra, opts...)
	if err != nil {
		return fmt.Errorf("registries: %w", err)
	}
	s.acr = acr
	return nil
}
