package kindenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/kindcluster"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/kindenv/internal/simcontainer"
	"github.com/azsim/azsim/world"
)

// UpOptions describe `azsim kind up`.
type UpOptions struct {
	// Name is the kind cluster's name (default "azsim").
	Name string
	// World is the simulated estate; WorldName labels it in messages.
	World     *world.World
	WorldName string
	// Cluster is the world cluster the kind cluster plays (default: first).
	Cluster string
	// NodePool is the pool the (single) node belongs to (default: the
	// cluster's first). It excludes NodePools.
	NodePool string
	// NodePools, when set, makes a multi-node cluster as AKS lays it out: a
	// dedicated control-plane node (tainted by kind, no agent-pool labels)
	// plus Count worker nodes per pool, each labelled and wired (IMDS) as a
	// node of its pool.
	NodePools []PoolNodes
	// StateDir holds the CA, keys, admin token, kubeconfig (default:
	// DefaultStateDir(Name)).
	StateDir string
	// Binary is a static linux/amd64 azsim binary: it becomes the
	// simulator's image and the nodes' credential provider.
	Binary string
	// Reuse keeps an existing cluster of that name (re-applying the wiring)
	// instead of recreating it, unless its nodes differ from the ones asked
	// for.
	Reuse bool
	// Choice is the node image (default: ChooseNodeImage).
	Choice *Choice
	// ProviderConfig replaces the rendered CredentialProviderConfig (a host
	// file); ProviderBinDir is a host directory of plugin binaries mounted
	// on every node at /etc/azsim/plugins and used as the kubelet's bin dir.
	ProviderConfig, ProviderBinDir string
	// Log receives progress (default: discard).
	Log io.Writer
}

// DefaultStateDir is where `azsim kind up --name NAME` keeps its state.
func DefaultStateDir(name string) string {
	return filepath.Join(state.DefaultPath(), "kind", name)
}

// upRun is one `kind up`: what it learnt so far, step by step.
type upRun struct {
	o        UpOptions
	timings  map[string]string
	stateDir string
	ix       *world.Index
	wc       *world.ClusterInfo
	pool     *world.NodePoolInfo // the single node's pool or the first listed
	imdsPort map[string]int      // "<cluster>/<pool>" → container port
	choice   Choice
	nodes    []kindstate.NodeInfo
	cni      string
	dir      *state.Dir
	kid      string
	token    string
	img      v1.Image
	c        *kindcluster.Cluster
	ep       api.Endpoints
	simIP    string
}

// Up creates (or reuses) a kind cluster wired to a simulator container.
func Up(ctx context.Context, o UpOptions) (*Env, error) {
	o = upDefaults(o)
	if err := docker.Answers(ctx); err != nil {
		return nil, err
	}
	r, err := planUp(ctx, o)
	if err != nil {
		return nil, err
	}
	steps := []func(context.Context) error{r.prepareState, r.simImage, r.ensureCluster, r.waitNodes,
		r.startSimulator, r.pinNames, r.waitCoreDNS, r.wireNodes}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	// The proof: a token from the cluster's TokenRequest API carries the
	// world's issuer and the kid of the issuer's JWKS.
	if err := kindcluster.CheckIssuer(ctx, r.c, r.wc.IssuerURL, r.kid); err != nil {
		return nil, err
	}
	return r.record()
}

func upDefaults(o UpOptions) UpOptions {
	if o.Name == "" {
		o.Name = "azsim"
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir(o.Name)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.World == nil {
		o.World = world.Default()
	}
	return o
}

func (r *upRun) logf(format string, args ...any) { fmt.Fprintf(r.o.Log, format+"\n", args...) }

// step records how long the step that began at start took.
func (r *upRun) step(name string, start time.Time) {
	d := time.Since(start).Round(100 * time.Millisecond)
	r.timings[name] = d.String()
	r.logf("  %-28s %s", name, d)
}

// planUp resolves the world cluster and pools the kind cluster plays, the
// node image and the nodes.
func planUp(ctx context.Context, o UpOptions) (*upRun, error) {
	r := &upRun{o: o, timings: map[string]string{}}
	var err error
	if r.stateDir, err = filepath.Abs(o.StateDir); err != nil {
		return nil, err
	}
	if o.NodePool != "" && len(o.NodePools) > 0 {
		return nil, errors.New("a node pool (single node) and node pools (multi-node) are mutually exclusive")
	}
	if r.ix, err = world.Compile(o.World, time.Now()); err != nil {
		return nil, fmt.Errorf("world: %w", err)
	}
	if r.wc, r.pool, err = pickClusterPool(r.ix, o.Cluster, o.NodePool); err != nil {
		return nil, err
	}
	if !r.wc.IssuerEnabled() {
		return nil, fmt.Errorf("world cluster %s has its OIDC issuer disabled; the kind cluster needs one", r.wc.Name)
	}
	if r.wc.Kubelet == nil {
		return nil, fmt.Errorf("world cluster %s has no kubelet identity", r.wc.Name)
	}
	if err := r.resolveNodePools(); err != nil {
		return nil, err
	}
	r.imdsPort = simcontainer.IMDSPorts(r.ix)
	if o.Choice != nil {
		r.choice = *o.Choice
	} else {
		r.choice = ChooseNodeImage(ctx)
	}
	r.nodes = planNodes(o.Name, r.pool, r.o.NodePools, r.choice.Offline)
	r.cni = cniMode(r.choice.Offline, len(r.nodes))
	return r, r.checkNodeLabels()
}

// resolveNodePools finds the listed pools in the world cluster; the first
// one is what the control plane's IMDS reaches.
func (r *upRun) resolveNodePools() error {
	listed, err := resolvePools(r.wc, r.o.NodePools)
	if err != nil {
		return fmt.Errorf("node pools: %w", err)
	}
	r.o.NodePools = append([]PoolNodes(nil), r.o.NodePools...) // not the caller's
	for i, p := range listed {
		r.o.NodePools[i].Pool = p.Name // the world's spelling
	}
	if len(listed) > 0 {
		r.pool = listed[0]
	}
	return nil
}

func cniMode(offline bool, nodes int) string {
	switch {
	case !offline:
		return kindstate.CNIKindnet
	case nodes > 1:
		return kindstate.CNIStaticPTPRoutes
	default:
		return kindstate.CNIStaticPTP
	}
}

// labels are the Kubernetes labels of node n (none for a dedicated
// control plane).
func (r *upRun) labels(n kindstate.NodeInfo) map[string]string {
	for _, p := range r.wc.Pools {
		if p.Name == n.Pool {
			return agentPoolLabels(p)
		}
	}
	return nil
}

func (r *upRun) checkNodeLabels() error {
	var errs []error
	for _, n := range r.nodes {
		errs = append(errs, checkLabels(n.Name, r.labels(n)))
	}
	return errors.Join(errs...)
}

func pickClusterPool(ix *world.Index, clusterName, poolName string) (*world.ClusterInfo, *world.NodePoolInfo, error) {
	if len(ix.Clusters) == 0 {
		return nil, nil, errors.New("the world has no cluster")
	}
	wc := ix.Clusters[0]
	if clusterName != "" {
		c, ok := ix.Cluster(clusterName)
		if !ok {
			return nil, nil, fmt.Errorf("the world has no cluster %q", clusterName)
		}
		wc = c
	}
	if len(wc.Pools) == 0 {
		return nil, nil, fmt.Errorf("world cluster %s has no node pool", wc.Name)
	}
	pool := wc.Pools[0]
	if poolName != "" {
		pool = nil
		for _, p := range wc.Pools {
			if p.Name == poolName {
				pool = p
			}
		}
		if pool == nil {
			return nil, nil, fmt.Errorf("world cluster %s has no node pool %q", wc.Name, poolName)
		}
	}
	return wc, pool, nil
}
