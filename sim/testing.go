package sim

import (
	"context"
	"testing"

	"github.com/azsim/azsim/world"
)

// Start runs a whole simulator for the test t on ephemeral loopback ports
// with a temporary state directory (unless options say otherwise) and stops
// it when the test ends. w nil means the default world.
func Start(t testing.TB, w *world.World, opts ...Option) *Sim {
	t.Helper()
	base := []Option{WithStateDir(t.TempDir()), WithHTTPSAddr("127.0.0.1:0"), WithIMDSAddr("127.0.0.1:0"), WithAdminAddr("127.0.0.1:0")}
	if w != nil {
		base = append(base, WithWorld(w))
	}
	s, err := New(append(base, opts...)...)
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
