package kindenv

import (
	"context"
	"io"

	"github.com/azsim/azsim/kindenv/internal/scenariotarget"
	"github.com/azsim/azsim/scenarios"
)

// ScenarioTarget runs scenarios on a wired kind cluster: the simulator
// container takes each scenario's world through its admin API; node-pool
// pulls are made by the kubelet of a node of the pool through its
// credential provider; every other client action runs in a pod with the
// cluster's own service-account tokens, DNS and the node's IMDS.
type ScenarioTarget interface {
	scenarios.Target
	scenarios.ExpectMapper
	// Env describes the wired cluster the target runs on.
	Env() Env
	// Close gives the simulator back the world `kind up` loaded, with a
	// wall-time clock and no faults.
	Close(ctx context.Context) error
}

// NewScenarioTarget opens the wired cluster whose state `kind up` keeps in
// stateDir. log receives progress (nil: discard).
func NewScenarioTarget(stateDir string, log io.Writer) (ScenarioTarget, error) {
	t, err := scenariotarget.Open(stateDir, log)
	if err != nil {
		return nil, err
	}
	return t, nil
}
