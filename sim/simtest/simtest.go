// Package simtest runs a whole simulator inside a Go test, like envtest does
// for an API server: Start gives a running *sim.Sim on ephemeral loopback
// ports whose Client trusts the CA and dials the fakes for any Azure host
// name (and 169.254.169.254), so unmodified SDK clients reach the fakes by
// their real names. It is the only part of azsim that imports testing.
package simtest

import (
	"context"
	"testing"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

// Start runs a whole simulator for the test t on ephemeral loopback ports
// with a temporary state directory (unless options say otherwise) and stops
// it when the test ends. w nil means the default world.
func Start(t testing.TB, w *world.World, opts ...sim.Option) *sim.Sim {
	t.Helper()
	base := []sim.Option{sim.WithStateDir(t.TempDir()), sim.WithHTTPSAddr("127.0.0.1:0"), sim.WithIMDSAddr("127.0.0.1:0"),
		sim.WithAdminAddr("127.0.0.1:0")}
	if w != nil {
		base = append(base, sim.WithWorld(w))
	}
	s, err := sim.New(append(base, opts...)...)
	if err != nil {
		t.Fatalf("sim: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		cancel()
		t.Fatalf("sim: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		s.Close()
	})
	return s
}
