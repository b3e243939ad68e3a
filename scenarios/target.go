package scenarios

import (
	"context"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/world"
)

// Target is where a scenario's steps happen: a simulator in this process
// (package scenarios/embedded; clients played by azsim's flow client and
// azidentity) or a wired kind cluster (kindenv.NewScenarioTarget: the
// kubelet, pods and the cluster's own service-account tokens). Run drives a target: Begin with
// the scenario's world, then for each step Mark, Do and, when a hop failed,
// Explain; End when the scenario is over.
type Target interface {
	// Name is the target's name in reports and in a step's notIn.
	Name() string
	// Begin makes w the simulated world, with the clock at wall time, no
	// faults and nothing left from an earlier scenario.
	Begin(ctx context.Context, sc *Scenario, w *world.World) error
	// Mark returns the trace position before a step.
	Mark(ctx context.Context) (uint64, error)
	// Do performs a step's action. A failed hop is an outcome; an error
	// means the step could not run.
	Do(ctx context.Context, st *Step) (Outcome, error)
	// Explain returns the decision that explains a failure: the last
	// refused one recorded since mark.
	Explain(ctx context.Context, mark uint64) (*api.Decision, error)
	// End undoes what the scenario changed besides its world and releases
	// what Begin and the steps took.
	End(ctx context.Context) error
}

// ExpectMapper is a Target that renames what steps expect: a target that
// maps a world's names to its own (the kind target maps the scenario's
// issuer URL to the one kube-apiserver signs as) maps the expected errors
// and hints the same way.
type ExpectMapper interface {
	MapExpect(Expect) Expect
}

// Outcome is what a step's action produced.
type Outcome struct {
	Hops []flow.Hop
	// By says who performed the step when it was not the harness itself
	// (the kubelet of a node, a client in a pod).
	By string
	// Decision, when set, is the decision explaining a failure, known to
	// the target itself (Explain is not asked).
	Decision *api.Decision
}

// LastRefused returns the last decision of ds that did not allow (nil when
// every one allowed).
func LastRefused(ds []api.Decision) *api.Decision {
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Outcome != api.OutcomeAllow {
			d := ds[i]
			return &d
		}
	}
	return nil
}
