package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/azsim/azsim/kindenv"
	"github.com/azsim/azsim/world"
)

// kindNodePools parses --node-pools and checks it against the world: every
// bad entry is reported at once, each naming the value, as a usage error
// (exit 2). Without the flag the cluster has one node (nil).
func kindNodePools(w *world.World, f kindUpFlags) ([]kindenv.PoolNodes, error) {
	if !f.nodePoolsSet {
		return nil, nil
	}
	var errs []error
	if f.pool != "" {
		errs = append(errs, fmt.Errorf("--node-pool %q: it names the pool of a single-node cluster; list the pools in --node-pools instead", f.pool))
	}
	pools, err := kindenv.ParseNodePools(w, f.cluster, f.nodePools)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, usageErr("--node-pools %q:\n  %s", f.nodePools, strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return pools, nil
}

// printKindNodes lists the nodes and what each plays.
func printKindNodes(out io.Writer, ev *kindenv.Env) {
	for _, n := range ev.Nodes {
		plays := "node pool " + n.Pool
		if n.Pool == "" {
			plays = "control plane only"
		}
		fmt.Fprintf(out, "  node           %s: %s; IMDS of %s at %s", n.Name, plays, n.IMDSPool, n.IMDS)
		if n.PodSubnet != "" {
			fmt.Fprintf(out, "; pods %s", n.PodSubnet)
		}
		fmt.Fprintln(out)
	}
}
