// Package embedded is the in-process scenario target: each scenario runs on
// a fresh simulator in this process, its clients played by azsim's flow
// client and azidentity.
package embedded

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

// Target runs each scenario on a fresh simulator in this process; its
// clients are azsim's flow client and azidentity, reaching the simulator by
// the real host names through sim's transport.
type Target struct {
	stateDir string
	tmpDir   string
	sim      *sim.Sim
	clock    *world.SimClock
	tokens   map[string]string
	refresh  map[string]string
}

// New returns the embedded target. stateDir is reused across scenarios so
// keys are generated once (empty: a temporary directory per scenario).
func New(stateDir string) *Target { return &Target{stateDir: stateDir} }

// Name implements scenarios.Target.
func (e *Target) Name() string { return "embedded" }

// Begin implements scenarios.Target: a new simulator serving w.
func (e *Target) Begin(ctx context.Context, _ *scenarios.Scenario, w *world.World) error {
	dir := e.stateDir
	if dir == "" {
		d, err := os.MkdirTemp("", "azsim-scenario-")
		if err != nil {
			return err
		}
		dir, e.tmpDir = d, d
	}
	e.clock = world.NewSimClock()
	s, err := sim.New(sim.WithWorld(w), sim.WithStateDir(dir), sim.WithClock(e.clock),
		sim.WithHTTPSAddr("127.0.0.1:0"), sim.WithIMDSAddr("127.0.0.1:0"), sim.WithAdminAddr("127.0.0.1:0"))
	if err == nil {
		err = s.Start(ctx)
	}
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	e.sim, e.tokens, e.refresh = s, map[string]string{}, map[string]string{}
	return nil
}

// End implements scenarios.Target.
func (e *Target) End(context.Context) error {
	if e.sim != nil {
		e.sim.Close()
		e.sim = nil
	}
	if e.tmpDir != "" {
		os.RemoveAll(e.tmpDir)
		e.tmpDir = ""
	}
	return nil
}

// Mark implements scenarios.Target.
func (e *Target) Mark(context.Context) (uint64, error) {
	ds := e.sim.Decisions(0)
	if len(ds) == 0 {
		return 0, nil
	}
	return ds[len(ds)-1].Seq, nil
}

// Explain implements scenarios.Target.
func (e *Target) Explain(_ context.Context, mark uint64) (*api.Decision, error) {
	return scenarios.LastRefused(e.sim.Decisions(mark)), nil
}

// Do implements scenarios.Target.
func (e *Target) Do(ctx context.Context, st *scenarios.Step) (scenarios.Outcome, error) {
	hops, err := e.do(ctx, st)
	return scenarios.Outcome{Hops: hops}, err
}

// flowClient reaches the simulator by the real names; IMDS of pool.
func (e *Target) flowClient(pool string) (*flow.Client, error) {
	tr, err := e.sim.TransportForPool(pool)
	if err != nil {
		return nil, err
	}
	return &flow.Client{HTTP: &http.Client{Transport: tr, Timeout: time.Minute}}, nil
}
