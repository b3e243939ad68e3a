package sim

import (
	"fmt"

	"github.com/azsim/azsim/fakeacr"
	"github.com/azsim/azsim/internal/platform/state"
)

// wireRegistries builds the fake ACR for every registry of the world, with
// its signing key from the state directory and Entra as token verifier;
// seeding the world's images happens here, before anything listens.
func (s *Sim) wireRegistries() error {
	ring, err := s.State.Ring("acr")
	if err != nil {
		return err
	}
	keys, err := state.Keys(ring)
	if err != nil {
		return err
	}
	opts := []fakeacr.Option{fakeacr.WithSigningKey(keys[len(keys)-1]), fakeacr.WithLogger(s.opts.logger)}
	if s.opts.registryStorage != "" {
		opts = append(opts, fakeacr.WithStorageDir(s.opts.registryStorage))
	}
	acr, err := fakeacr.New(s.Store, s.Entra, opts...)
	if err != nil {
		return fmt.Errorf("registries: %w", err)
	}
	s.ACR = acr
	return nil
}
