//go:build integration

package kindenv_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/kindenv"
	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/world"
)

const wiredName = "azsim-wired"

// wired is a cluster created by `azsim kind up`, seen from the test.
type wired struct {
	t        *testing.T
	ctx      context.Context
	name     string // the kind cluster ("" is wiredName)
	bin      string // the static azsim used for `kind up`
	stateDir string
	env      kindenv.Env
	ep       api.Endpoints
	token    string
	admin    *client.Client // the simulator's admin API, with token
	tenant   string
	clients  map[string]string // identity → client ID
	world    []byte            // the world as `kind up` started it
}

// TestIntegrationWiredCluster runs `azsim kind up` (a static azsim built
// from this tree) and proves, on real cluster state (pod phase, events,
// logs), the wired flows: the kubelet pulls from fakeacr through the
// credential provider and IMDS (VMSS flow); the SMI pitfall leaves a pod in
// ErrImagePull/ImagePullBackOff with the trace naming the kubelet identity;
// a pod with a projected token and the workload-identity environment pulls
// through Entra and ACR (federated flow), and the FIC audience and subject
// pitfalls fail there with their AADSTS codes; several identities on the
// pool and no selector: the IMDS error reaches a client in a pod.
// AZSIM_KEEP_CLUSTER=1 keeps the cluster and simulator.
func TestIntegrationWiredCluster(t *testing.T) {
	ctx := needKind(t, 35*time.Minute)
	w := upWired(ctx, t)
	run := w.subtests(t)

	run("issuer", w.testIssuer)
	run("VMSSFlow", w.testVMSSFlow)
	run("MissingImage", w.testMissingImage)
	run("FederatedFlow", w.testFederatedFlow)
	run("FICAudiencePitfall", w.testFICAudience)
	run("FICSubjectPitfall", w.testFICSubject)
	run("SeveralIdentitiesNoSelector", w.testSeveralIdentities)
	run("SMIPitfall", w.testSMIPitfall)
	run("AcrPullStyleSecretAndExpiry", w.testAcrPullStyle)
	run("AcrPullBindingDriver", w.testAcrPullBindingDriver)
	run("KindLoad", w.testKindLoad)
	run("ScenarioCatalogue", w.testScenarioCatalogue)
	run("Reuse", w.testReuse)
}

// needKind skips t, saying what is missing, unless a Docker engine answers
// and a node image is at hand; it returns a context cancelled after timeout
// (and after the test's cleanups, which run last-in first-out).
func needKind(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	if err := docker.Answers(ctx); err != nil {
		t.Log(err)
		t.Skip(skipNoDocker)
	}
	choice := kindenv.ChooseNodeImage(ctx)
	if choice.Offline && exec.CommandContext(ctx, "docker", "image", "inspect", choice.Image).Run() != nil {
		t.Skip(skipNoImage)
	}
	return ctx
}

// subtests returns a runner of subtests of t that point w's helpers at the
// subtest while it runs.
func (w *wired) subtests(t *testing.T) func(string, func(*testing.T)) {
	return func(name string, f func(*testing.T)) {
		t.Run(name, func(t *testing.T) {
			parent := w.t
			w.t = t
			defer func() { w.t = parent }()
			f(t)
		})
	}
}

func upWired(ctx context.Context, t *testing.T) *wired {
	return startWired(ctx, t, wiredName)
}

// startWired builds a static azsim, runs `azsim kind up --name name` with
// extra arguments and registers `kind down` (a dump first when the test
// failed; nothing with AZSIM_KEEP_CLUSTER=1, which keeps the state in
// $TMPDIR/azsim-kind-<name>).
func startWired(ctx context.Context, t *testing.T, name string, extra ...string) *wired {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "azsim")
	start := time.Now()
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "../cmd/azsim")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("static azsim built in %s", time.Since(start).Round(100*time.Millisecond))

	stateDir := filepath.Join(dir, "state")
	keep := os.Getenv("AZSIM_KEEP_CLUSTER") == "1"
	if keep {
		stateDir = filepath.Join(os.TempDir(), "azsim-kind-"+name)
	}
	w := &wired{t: t, ctx: ctx, bin: bin, name: name, stateDir: stateDir}
	start = time.Now()
	up, err := w.azsim(append([]string{"kind", "up", "--name", name, "--state-dir", stateDir}, extra...)...)
	t.Logf("azsim kind up %v (%s):\n%s", extra, time.Since(start).Round(100*time.Millisecond), up)
	t.Cleanup(func() {
		if t.Failed() && w.env.Name != "" {
			w.dump()
		}
		if keep {
			t.Logf("keeping kind cluster %s; state in %s", name, stateDir)
			return
		}
		start := time.Now()
		out, err := w.azsim("kind", "down", "--name", name, "--state-dir", stateDir)
		require.NoError(t, err, "%s", out)
		t.Logf("azsim kind down: %s", time.Since(start).Round(100*time.Millisecond))
	})
	require.NoError(t, err)
	w.reload()
	return w
}

// reload reads kind.json, endpoints.json, the admin token and the world.
func (w *wired) reload() {
	t := w.t
	b, err := os.ReadFile(filepath.Join(w.stateDir, kindstate.KindInfoFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &w.env))
	w.ep, err = client.ReadEndpoints(w.stateDir)
	require.NoError(t, err)
	tok, err := os.ReadFile(filepath.Join(w.stateDir, kindenv.AdminTokenFile))
	require.NoError(t, err)
	w.token = strings.TrimSpace(string(tok))
	w.tenant = w.ep.TenantID
	w.admin = client.New(w.ep.Admin, client.WithToken(w.token))
	var ids []world.Identity
	require.NoError(t, w.admin.Objects(w.ctx, "identities", &ids))
	w.clients = map[string]string{}
	for _, id := range ids {
		w.clients[id.Name] = id.ClientID
	}
	var raw json.RawMessage
	require.NoError(t, w.admin.World(w.ctx, &raw))
	w.world = raw
}

// cluster is the kind cluster's name.
func (w *wired) cluster() string {
	if w.name != "" {
		return w.name
	}
	return wiredName
}

// testReuse: `kind up --reuse` keeps the cluster, restarts the simulator
// and re-applies the wiring; the kubelet still pulls through it.
func (w *wired) testReuse(t *testing.T) {
	start := time.Now()
	out, err := w.azsim("kind", "up", "--reuse", "--name", wiredName, "--state-dir", w.stateDir)
	require.NoError(t, err, "%s", out)
	require.Contains(t, out, "reusing kind cluster "+wiredName)
	t.Logf("kind up --reuse: %s", time.Since(start).Round(100*time.Millisecond))
	w.reload()
	w.mustKubectl("", "delete", "pod", "hello-vmss")
	// The kubelet still holds the ACR refresh token of the first
	// simulator: it is accepted because the keys live in the state dir.
	w.vmssFlow(t, true)
}

func (w *wired) dump() {
	for _, args := range [][]string{
		{"get", "pods", "-A", "-o", "wide"},
		{"get", "events", "-A", "--sort-by=.lastTimestamp"},
	} {
		out, err := w.kubectl("", args...)
		w.t.Logf("kubectl %s (err %v):\n%s", strings.Join(args, " "), err, out)
	}
	out, _ := exec.Command("docker", "logs", "--tail", "50", kindenv.ContainerName(w.cluster())).CombinedOutput()
	w.t.Logf("simulator logs:\n%s", out)
	out, _ = exec.Command("docker", "exec", w.cluster()+"-control-plane", "journalctl", "-u", "kubelet", "--no-pager", "-n", "40").CombinedOutput()
	w.t.Logf("kubelet journal:\n%s", out)
}
