package scenarios

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

// Embedded runs each scenario on a fresh simulator in this process; its
// clients are azsim's flow client and azidentity, reaching the simulator by
// the real host names through sim's transport.
type Embedded struct {
	stateDir string
	tmpDir   string
	sim      *sim.Sim
	clock    *world.SimClock
	tokens   map[string]string
	refresh  map[string]string
}

// NewEmbedded returns the embedded target. stateDir is reused across
// scenarios so keys are generated once (empty: a temporary directory per
// scenario).
func NewEmbedded(stateDir string) *Embedded { return &Embedded{stateDir: stateDir} }

// Name implements Target.
func (e *Embedded) Name() string { return "embedded" }

// Begin implements Target: a new simulator serving w.
func (e *Embedded) Begin(ctx context.Context, _ *Scenario, w *world.World) error {
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

// End implements Target.
func (e *Embedded) End(context.Context) error {
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

// Mark implements Target.
func (e *Embedded) Mark(context.Context) (uint64, error) {
	ds := e.sim.Trace.Recent(0)
	if len(ds) == 0 {
		return 0, nil
	}
	return ds[len(ds)-1].Seq, nil
}

// Explain implements Target.
func (e *Embedded) Explain(_ context.Context, mark uint64) (*api.Decision, error) {
	return LastRefused(e.sim.Trace.Recent(mark)), nil
}

// Do implements Target.
func (e *Embedded) Do(ctx context.Context, st *Step) (Outcome, error) {
	hops, err := e.do(ctx, st)
	return Outcome{Hops: hops}, err
}

// flowClient reaches the simulator by the real names; IMDS of pool.
func (e *Embedded) flowClient(pool string) (*flow.Client, error) {
	tr, err := e.sim.TransportForPool(pool)
	if err != nil {
		return nil, err
	}
	return &flow.Client{HTTP: &http.Client{Transport: tr, Timeout: time.Minute}}, nil
}
