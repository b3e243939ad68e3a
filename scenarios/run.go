package scenarios

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/azsim/azsim/internal/flow"
	"github.com/azsim/azsim/internal/trace"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

// StepResult is the outcome of one step.
type StepResult struct {
	Index  int
	Action string
	Name   string
	Hops   []flow.Hop
	// Failed is the first failed hop (zero when the step succeeded).
	Failed    flow.Hop
	HasFailed bool
	// Decision is the trace decision that explains a failure.
	Decision *trace.Decision
	Expect   Expect
	// Problems lists how the outcome differs from the expectation.
	Problems []string
}

// Pass reports whether the step met its expectation.
func (r *StepResult) Pass() bool { return len(r.Problems) == 0 }

// Report is the outcome of a scenario.
type Report struct {
	Scenario *Scenario
	Steps    []*StepResult
	// Err is set when the harness itself broke (not an expectation).
	Err error
}

// Pass reports whether every step met its expectation.
func (r *Report) Pass() bool {
	if r.Err != nil {
		return false
	}
	for _, s := range r.Steps {
		if !s.Pass() {
			return false
		}
	}
	return true
}

// RunOptions configure Run.
type RunOptions struct {
	// StateDir is reused across runs so keys are generated once (default: a
	// temporary directory removed afterwards).
	StateDir string
}

// Run executes sc against a fresh embedded simulator.
func Run(ctx context.Context, sc *Scenario, o RunOptions) *Report {
	rep := &Report{Scenario: sc}
	w, err := sc.BuildWorld()
	if err != nil {
		rep.Err = err
		return rep
	}
	dir := o.StateDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "azsim-scenario-"); err != nil {
			rep.Err = err
			return rep
		}
		defer os.RemoveAll(dir)
	}
	clock := world.NewSimClock()
	s, err := sim.New(sim.WithWorld(w), sim.WithStateDir(dir), sim.WithClock(clock),
		sim.WithHTTPSAddr("127.0.0.1:0"), sim.WithIMDSAddr("127.0.0.1:0"), sim.WithAdminAddr("127.0.0.1:0"))
	if err == nil {
		err = s.Start(ctx)
	}
	if err != nil {
		rep.Err = fmt.Errorf("starting the simulator: %w", err)
		return rep
	}
	defer s.Close()
	r := &runner{sim: s, clock: clock, tokens: map[string]string{}, refresh: map[string]string{}}
	for i := range sc.Steps {
		res := r.step(ctx, i, &sc.Steps[i])
		rep.Steps = append(rep.Steps, res)
	}
	return rep
}

type runner struct {
	sim     *sim.Sim
	clock   *world.SimClock
	tokens  map[string]string
	refresh map[string]string
}

func (r *runner) step(ctx context.Context, i int, st *Step) *StepResult {
	res := &StepResult{Index: i, Action: st.Action(), Name: st.Name, Expect: st.Expect}
	before := r.lastSeq()
	hops, err := r.do(ctx, st)
	if err != nil {
		res.Problems = append(res.Problems, "step could not run: "+err.Error())
		return res
	}
	res.Hops = hops
	for _, h := range hops {
		if !h.OK {
			res.Failed, res.HasFailed = h, true
			break
		}
	}
	if res.HasFailed {
		res.Decision = r.explaining(before)
	}
	res.Problems = check(res, st.Expect)
	return res
}

func (r *runner) lastSeq() uint64 {
	ds := r.sim.Trace.Recent(0)
	if len(ds) == 0 {
		return 0
	}
	return ds[len(ds)-1].Seq
}

// explaining returns the last refused decision since seq: the one whose
// hint explains the step's failure.
func (r *runner) explaining(seq uint64) *trace.Decision {
	ds := r.sim.Trace.Recent(seq)
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Outcome != trace.Allow {
			d := ds[i]
			return &d
		}
	}
	return nil
}

// check compares a step's outcome with its expectation.
func check(res *StepResult, e Expect) []string {
	var p []string
	if !e.Fail {
		if res.HasFailed {
			p = append(p, fmt.Sprintf("expected success, failed at %s (%d): %s", res.Failed.Name, res.Failed.Status, res.Failed.Detail))
		}
		return p
	}
	if !res.HasFailed {
		return append(p, "expected a failure, the step succeeded")
	}
	f := res.Failed
	if e.Hop != "" && f.Name != e.Hop {
		p = append(p, fmt.Sprintf("expected failure at hop %s, got %s", e.Hop, f.Name))
	}
	if e.Status != 0 && f.Status != e.Status {
		p = append(p, fmt.Sprintf("expected status %d, got %d", e.Status, f.Status))
	}
	if e.Error != "" && !strings.Contains(f.Detail, e.Error) {
		p = append(p, fmt.Sprintf("expected error containing %q, got %q", e.Error, f.Detail))
	}
	if e.Hint != "" {
		hint := ""
		if res.Decision != nil {
			hint = res.Decision.Hint
		}
		if !strings.Contains(hint, e.Hint) {
			p = append(p, fmt.Sprintf("expected hint containing %q, got %q", e.Hint, hint))
		}
	}
	return p
}

// flowClient reaches the simulator by the real names; IMDS of pool.
func (r *runner) flowClient(pool string) (*flow.Client, error) {
	tr, err := r.sim.TransportForPool(pool)
	if err != nil {
		return nil, err
	}
	return &flow.Client{HTTP: &http.Client{Transport: tr, Timeout: time.Minute}}, nil
}
