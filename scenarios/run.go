package scenarios

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/clients/flow"
)

// StepResult is the outcome of one step.
type StepResult struct {
	Index  int
	Action string
	Name   string
	Hops   []flow.Hop
	// By says who performed the step (see Outcome.By).
	By string
	// NotRun is why the step was not run on this target (the step's
	// notIn); such a step neither passes nor fails the scenario.
	NotRun string
	// Failed is the first failed hop (zero when the step succeeded).
	Failed    flow.Hop
	HasFailed bool
	// Decision is the trace decision that explains a failure.
	Decision *api.Decision
	Expect   Expect
	// Problems lists how the outcome differs from the expectation.
	Problems []string
	// Took is how long the step ran (wall time).
	Took time.Duration
}

// Pass reports whether the step met its expectation.
func (r *StepResult) Pass() bool { return len(r.Problems) == 0 }

// Report is the outcome of a scenario.
type Report struct {
	Scenario *Scenario
	// Target is the name of the target it ran on.
	Target string
	Steps  []*StepResult
	// Err is set when the harness itself broke (not an expectation).
	Err error
	// Took is how long the scenario ran, Begin to End (wall time).
	Took time.Duration
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

// NotRun counts the steps the target could not run (notIn).
func (r *Report) NotRun() int {
	n := 0
	for _, s := range r.Steps {
		if s.NotRun != "" {
			n++
		}
	}
	return n
}

// RunOptions configure Run.
type RunOptions struct {
	// Target runs the steps (required): the in-process simulator of
	// package scenarios/embedded, or a wired kind cluster.
	Target Target
}

// Run executes sc on o.Target.
func Run(ctx context.Context, sc *Scenario, o RunOptions) *Report {
	t := o.Target
	if t == nil {
		return &Report{Scenario: sc, Err: errors.New("no target to run the scenario on")}
	}
	rep := &Report{Scenario: sc, Target: t.Name()}
	start := time.Now()
	defer func() { rep.Took = time.Since(start) }()
	w, err := sc.BuildWorld()
	if err != nil {
		rep.Err = err
		return rep
	}
	if err := t.Begin(ctx, sc, w); err != nil {
		rep.Err = fmt.Errorf("%s target: %w", t.Name(), err)
		_ = t.End(ctx)
		return rep
	}
	for i := range sc.Steps {
		rep.Steps = append(rep.Steps, step(ctx, t, i, &sc.Steps[i]))
	}
	if err := t.End(ctx); err != nil {
		rep.Err = fmt.Errorf("%s target: ending the scenario: %w", t.Name(), err)
	}
	return rep
}

func step(ctx context.Context, t Target, i int, st *Step) *StepResult {
	start := time.Now()
	res := runStep(ctx, t, i, st)
	res.Took = time.Since(start)
	return res
}

func runStep(ctx context.Context, t Target, i int, st *Step) *StepResult {
	expect := st.Expect
	if m, ok := t.(ExpectMapper); ok {
		expect = m.MapExpect(expect)
	}
	res := &StepResult{Index: i, Action: st.Action(), Name: st.Name, Expect: expect}
	if why := st.NotIn[t.Name()]; why != "" {
		res.NotRun = why
		return res
	}
	mark, err := t.Mark(ctx)
	if err != nil {
		res.Problems = append(res.Problems, "step could not run: "+err.Error())
		return res
	}
	out, err := t.Do(ctx, st)
	if err != nil {
		res.Problems = append(res.Problems, "step could not run: "+err.Error())
		return res
	}
	res.Hops, res.By = out.Hops, out.By
	for _, h := range out.Hops {
		if !h.OK {
			res.Failed, res.HasFailed = h, true
			break
		}
	}
	if res.HasFailed {
		res.Decision = out.Decision
		if res.Decision == nil {
			if res.Decision, err = t.Explain(ctx, mark); err != nil {
				res.Problems = append(res.Problems, "reading the trace: "+err.Error())
			}
		}
	}
	res.Problems = append(res.Problems, check(res, expect)...)
	return res
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
			hint = res.Decision.Hint.String()
		}
		if !strings.Contains(hint, e.Hint) {
			p = append(p, fmt.Sprintf("expected hint containing %q, got %q", e.Hint, hint))
		}
	}
	if e.Pitfall != "" {
		got := ""
		if res.Decision != nil && res.Decision.Hint != nil {
			got = res.Decision.Hint.Pitfall
		}
		if got != e.Pitfall {
			p = append(p, fmt.Sprintf("expected the hint to name pitfall %q, got %q", e.Pitfall, got))
		}
	}
	return p
}
