// Package scenariotarget is the kind scenario target: the pitfall
// scenarios played on a wired kind cluster, by its kubelets and by pods
// with the cluster's own service-account tokens.
package scenariotarget

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/kindcluster"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/world"
)

// Target runs scenarios on a wired kind cluster (`azsim kind up`):
// the simulator container takes each scenario's world through its admin
// API; node-pool pulls are made by the kubelet of a node of the pool
// through its credential provider; every other client action runs in a
// pod (`azsim kind pod-step`) with the cluster's own service-account
// tokens, the cluster's DNS and the node's IMDS DNAT.
type Target struct {
	env     kindstate.Env
	ep      api.Endpoints
	cluster *kindcluster.Cluster
	admin   *client.Client
	token   string // the admin API's
	// kindWorld is the world `kind up` started the simulator with; pools
	// lists the node pools it has an IMDS listener for.
	kindWorld []byte
	pools     []string
	log       io.Writer

	run     string // labels this target's objects
	seq     int    // numbers pods and secrets
	sc      *scenarios.Scenario
	tokens  map[string]tokenRef
	refresh map[string]refreshRef
	rings   map[string]ringBackup // cluster → its key ring before the scenario
	// renames maps the scenario's issuer URL to the kind cluster's.
	renames *strings.Replacer
}

// Open opens the wired cluster whose state `kind up` keeps
// in stateDir. log receives progress (nil: discard).
func Open(stateDir string, log io.Writer) (*Target, error) {
	if log == nil {
		log = io.Discard
	}
	b, err := os.ReadFile(filepath.Join(stateDir, kindstate.KindInfoFile))
	if err != nil {
		return nil, fmt.Errorf("no wired kind cluster in %s (run `azsim kind up` first): %w", stateDir, err)
	}
	t := &Target{log: log}
	if err := json.Unmarshal(b, &t.env); err != nil {
		return nil, fmt.Errorf("%s: %w", kindstate.KindInfoFile, err)
	}
	if t.ep, err = client.ReadEndpoints(stateDir); err != nil {
		return nil, err
	}
	token, err := os.ReadFile(filepath.Join(stateDir, kindstate.AdminTokenFile))
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	t.token = strings.TrimSpace(string(token))
	t.admin = newAdmin(t.ep.Admin, t.token)
	if t.kindWorld, err = os.ReadFile(filepath.Join(stateDir, kindstate.WorldFile)); err != nil {
		return nil, fmt.Errorf("the kind world: %w", err)
	}
	kw, err := world.Parse(t.kindWorld)
	if err != nil {
		return nil, fmt.Errorf("the kind world: %w", err)
	}
	for _, c := range kw.Clusters {
		for _, p := range c.NodePools {
			t.pools = append(t.pools, strings.ToLower(c.Name+"/"+p.Name))
		}
	}
	t.cluster = kindcluster.Open(t.env.Name, t.env.NodeImage, t.env.Kubeconfig)
	buf := make([]byte, 3)
	_, _ = rand.Read(buf)
	t.run = hex.EncodeToString(buf)
	return t, nil
}

// Env describes the wired cluster the target runs on.
func (t *Target) Env() kindstate.Env { return t.env }

// Name implements scenarios.Target.
func (t *Target) Name() string { return "kind" }

// Begin implements scenarios.Target: the scenario's world in the
// simulator, its clock at wall time, no faults, kubelets without cached
// credentials.
func (t *Target) Begin(ctx context.Context, sc *scenarios.Scenario, w *world.World) error {
	b, err := t.mapIssuer(w)
	if err != nil {
		return err
	}
	if w, err = world.Parse(b); err != nil {
		return err
	}
	if err := t.compatible(w, sc); err != nil {
		return err
	}
	t.sc, t.tokens, t.refresh = sc, map[string]tokenRef{}, map[string]refreshRef{}
	if err := t.reset(ctx, b); err != nil {
		return err
	}
	if usesKubelet(sc) {
		fmt.Fprintf(t.log, "%s: restarting the kubelets (they forget cached credentials)\n", sc.ID)
		return t.restartKubelets(ctx)
	}
	return nil
}

// reset loads world (JSON) into the simulator with a wall-time clock and
// no faults.
func (t *Target) reset(ctx context.Context, w []byte) error {
	// The clock first: propagation delays count from the world's load.
	if _, err := t.admin.SetClock(ctx, time.Now().UTC().Truncate(time.Second)); err != nil {
		return fmt.Errorf("resetting the clock: %w", err)
	}
	if err := t.admin.PutWorld(ctx, json.RawMessage(w), nil); err != nil {
		return fmt.Errorf("loading the world: %w", err)
	}
	return t.admin.ClearFaults(ctx)
}

// mapIssuer returns w as JSON with the issuer URL the scenario gives the
// kind cluster's world cluster replaced, everywhere, by the one
// kube-apiserver signs as: a scenario's issuer URL is only a name, and a
// variant of it (a missing trailing slash in a federated credential)
// keeps its meaning.
func (t *Target) mapIssuer(w *world.World) ([]byte, error) {
	t.renames = nil
	b, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	ix, err := world.Compile(w, time.Now())
	if err != nil {
		return nil, err
	}
	c, ok := ix.Cluster(t.env.WorldCluster)
	if !ok || c.IssuerURL == t.env.IssuerURL || !c.IssuerEnabled() {
		return b, nil
	}
	from, to := strings.TrimSuffix(c.IssuerURL, "/"), strings.TrimSuffix(t.env.IssuerURL, "/")
	t.renames = strings.NewReplacer(from, to)
	return bytes.ReplaceAll(b, []byte(from), []byte(to)), nil
}

// MapExpect implements scenarios.ExpectMapper: expected errors and hints
// name the issuer the world was mapped to.
func (t *Target) MapExpect(e scenarios.Expect) scenarios.Expect {
	if t.renames != nil {
		e.Error, e.Hint = t.renames.Replace(e.Error), t.renames.Replace(e.Hint)
	}
	return e
}

// compatible checks that the kind cluster can play the scenario's world:
// the same issuer (kube-apiserver signs the cluster's tokens), registries
// the simulator container answers for, node pools it serves IMDS for.
func (t *Target) compatible(w *world.World, sc *scenarios.Scenario) error {
	ix, err := world.Compile(w, time.Now())
	if err != nil {
		return err
	}
	var errs []error
	c, ok := ix.Cluster(t.env.WorldCluster)
	switch {
	case !ok:
		errs = append(errs, fmt.Errorf("the scenario's world has no cluster %s, which the kind cluster plays", t.env.WorldCluster))
	case c.IssuerURL != t.env.IssuerURL:
		errs = append(errs, fmt.Errorf("cluster %s has issuer %q in the scenario's world; kube-apiserver signs as %q", c.Name, c.IssuerURL, t.env.IssuerURL))
	}
	for _, st := range sc.Steps {
		if st.Pull == nil {
			continue
		}
		host, _, _ := strings.Cut(st.Pull.Image, "/")
		if !slices.Contains(t.ep.Hosts, host) {
			errs = append(errs, fmt.Errorf("registry %s is not a name of the simulator container (bring the cluster up with a world that has it)", host))
		}
	}
	for _, p := range ix.NodePools() {
		if !slices.Contains(t.pools, strings.ToLower(p.Cluster.Name+"/"+p.Name)) {
			errs = append(errs, fmt.Errorf("node pool %s/%s has no IMDS in the simulator container (bring the cluster up with a world that has it)", p.Cluster.Name, p.Name))
		}
	}
	for _, st := range sc.Steps {
		if c, n := stepCluster(&st); n && c != "" && !strings.EqualFold(c, t.env.WorldCluster) {
			errs = append(errs, fmt.Errorf("a step names cluster %s; the kind cluster plays %s", c, t.env.WorldCluster))
		}
	}
	return errors.Join(errs...)
}

func stepCluster(st *scenarios.Step) (string, bool) {
	switch {
	case st.Pull != nil:
		return st.Pull.Cluster, true
	case st.Token != nil:
		return st.Token.Cluster, true
	case st.SAToken != nil:
		return st.SAToken.Cluster, true
	}
	return "", false
}

func usesKubelet(sc *scenarios.Scenario) bool {
	for _, st := range sc.Steps {
		if st.Pull != nil && st.Pull.Kubelet() {
			return true
		}
	}
	return false
}

// End implements scenarios.Target: the scenario's pods, secrets and saved
// refresh tokens are deleted; rotated issuer keys are restored. It runs to
// the end even when ctx is cancelled (an interrupted run must not leave
// the simulator with rotated keys).
func (t *Target) End(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	var errs []error
	sel := runLabel + "=" + t.run
	if _, err := t.cluster.Kubectl(ctx, nil, "delete", "pods,secrets", "-A", "-l", sel, "--wait=false", "--ignore-not-found"); err != nil {
		errs = append(errs, err)
	}
	for _, node := range t.cluster.NodeNames(ctx) {
		if _, err := docker.Exec(ctx, node, nil, "sh", "-c", "rm -f "+scenarioHostDir+"/"+t.run+"-*"); err != nil {
			errs = append(errs, err)
		}
	}
	if len(t.rings) > 0 {
		fmt.Fprintf(t.log, "restoring the issuer keys of %d cluster(s) and restarting %s\n", len(t.rings), t.env.Container)
		if err := t.restoreRings(ctx); err != nil {
			errs = append(errs, err)
		} else {
			t.rings = nil
		}
	}
	return errors.Join(errs...)
}

// Close gives the simulator back the world `kind up` loaded, with a
// wall-time clock and no faults.
func (t *Target) Close(ctx context.Context) error { return t.reset(ctx, t.kindWorld) }

// Mark implements scenarios.Target.
func (t *Target) Mark(ctx context.Context) (uint64, error) {
	ds, err := t.admin.Trace(ctx, 0)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	return ds[len(ds)-1].Seq, nil
}

// Do implements scenarios.Target.
func (t *Target) Do(ctx context.Context, st *scenarios.Step) (scenarios.Outcome, error) {
	t.seq++
	switch {
	case st.Pull != nil && st.Pull.Kubelet():
		return t.kubeletPull(ctx, st)
	case st.Pull != nil, st.Token != nil, st.IMDS != nil, st.Azidentity != nil:
		return t.podStep(ctx, st)
	case st.SAToken != nil:
		return t.saToken(ctx, st.SAToken)
	}
	hop, decision, err := t.control(ctx, st)
	return scenarios.Outcome{Hops: []flow.Hop{hop}, Decision: decision}, err
}
