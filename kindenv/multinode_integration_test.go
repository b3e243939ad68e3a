//go:build integration

package kindenv_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/kindenv"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/world"
)

const mnName = "azsim-mn"

// multiNode is the wired multi-node cluster and what the test knows of it.
type multiNode struct {
	*wired
	worldFile string
	byPool    map[string]kindstate.NodeInfo // pool → its (single) worker
}

// TestIntegrationMultiNode runs `azsim kind up --node-pools
// nodepool1,userpool` on a world whose userpool VMSS carries the kubelet
// identity and another one, and proves on real cluster state: a dedicated
// control plane and one worker per pool with AKS's labels; each worker's
// 169.254.169.254 reaches its own pool's IMDS (the IMDS error of userpool,
// the token of nodepool1, the trace's pool and caller); the userpool
// kubelet pulls through its credential provider; pods on each worker get
// their node's pod subnet and resolve through a CoreDNS pod on another
// node; `--reuse` keeps a matching cluster and recreates a mismatched one.
// AZSIM_KEEP_CLUSTER=1 keeps the cluster.
func TestIntegrationMultiNode(t *testing.T) {
	ctx := needKind(t, 25*time.Minute)
	m := upMultiNode(ctx, t)
	run := m.subtests(t)
	run("Nodes", m.testNodes)
	run("IMDSPerPool", m.testIMDSPerPool)
	run("KubeletPullOnUserpool", m.testKubeletPull)
	run("ScenariosOnWorkers", m.testScenariosOnWorkers)
	run("Reuse", m.testReuse)
}

// twoPoolWorld is the default world plus node pool userpool on aks1, whose
// VMSS has two user-assigned identities: the kubelet identity and another.
func twoPoolWorld(t *testing.T) string {
	t.Helper()
	w := world.Default()
	w.Identities = append(w.Identities, world.Identity{Name: "userpool-addon", ResourceGroup: "MC_rg-azsim_aks1_eastus"})
	w.Clusters[0].NodePools = append(w.Clusters[0].NodePools,
		world.NodePool{Name: "userpool", Identities: []string{"aks1-agentpool", "userpool-addon"}})
	b, err := json.MarshalIndent(w, "", "  ") // JSON is YAML
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "world.yaml")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

func upMultiNode(ctx context.Context, t *testing.T) *multiNode {
	worldFile := twoPoolWorld(t)
	m := &multiNode{wired: startWired(ctx, t, mnName, "--config", worldFile, "--node-pools", "nodepool1,userpool"), worldFile: worldFile}
	m.byPool = map[string]kindstate.NodeInfo{}
	for _, n := range m.env.Nodes {
		if n.Role == kindstate.RoleWorker {
			m.byPool[n.Pool] = n
		}
	}
	t.Logf("kind up timings (kind.json): %v", m.env.Timings)
	return m
}

// testNodes: kubectl shows one control plane (tainted, no agent-pool
// labels) and one worker per pool with AKS's labels.
func (m *multiNode) testNodes(t *testing.T) {
	var list struct {
		Items []struct {
			Metadata struct {
				Name   string
				Labels map[string]string
			}
			Spec struct {
				Taints []struct{ Key, Effect string }
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(m.mustKubectl("", "get", "nodes", "-o", "json")), &list))
	require.Len(t, list.Items, 3, "one control plane + one worker per pool")
	kubeletID := m.clients["aks1-agentpool"]
	require.NotEmpty(t, kubeletID)
	want := map[string]map[string]string{
		mnName + "-worker":  poolLabels("nodepool1", "system", kubeletID),
		mnName + "-worker2": poolLabels("userpool", "user", kubeletID),
	}
	for _, n := range list.Items {
		l := n.Metadata.Labels
		if n.Metadata.Name == mnName+"-control-plane" {
			assert.NotContains(t, l, "kubernetes.azure.com/agentpool", "the control plane plays no pool")
			assert.Contains(t, l, "node-role.kubernetes.io/control-plane")
			require.NotEmpty(t, n.Spec.Taints, "kind taints the control plane when there are workers")
			assert.Equal(t, "node-role.kubernetes.io/control-plane", n.Spec.Taints[0].Key)
			continue
		}
		exp, ok := want[n.Metadata.Name]
		require.True(t, ok, "unexpected node %s", n.Metadata.Name)
		for k, v := range exp {
			assert.Equal(t, v, l[k], "node %s label %s", n.Metadata.Name, k)
		}
	}
	t.Logf("nodes:\n%s", m.mustKubectl("", "get", "nodes", "-L", "kubernetes.azure.com/agentpool,kubernetes.azure.com/mode,kubernetes.azure.com/cluster"))
	m.checkKindJSON(t)
}

// checkKindJSON: kind.json records the pools, each node's pool, IMDS and
// address, and the pod network.
func (m *multiNode) checkKindJSON(t *testing.T) {
	assert.Equal(t, []kindenv.PoolNodes{{Pool: "nodepool1", Count: 1}, {Pool: "userpool", Count: 1}}, m.env.NodePools)
	require.Len(t, m.env.Nodes, 3)
	assert.Equal(t, "nodepool1", m.env.Nodes[0].IMDSPool, "the control plane's IMDS is the first listed pool's")
	if strings.HasPrefix(m.env.NodeImage, "azsim/kindnode") {
		assert.Equal(t, kindstate.CNIStaticPTPRoutes, m.env.CNI)
	} else {
		assert.Equal(t, kindstate.CNIKindnet, m.env.CNI)
	}
	for _, n := range m.env.Nodes {
		assert.NotEmpty(t, n.IP, "%s", n.Name)
		assert.True(t, strings.HasPrefix(n.IMDS, m.env.SimIP+":"), "%s IMDS %s", n.Name, n.IMDS)
	}
	assert.NotEqual(t, m.byPool["nodepool1"].IMDS, m.byPool["userpool"].IMDS, "one IMDS per pool")
}

// testIMDSPerPool: on nodepool1 (one identity) a pod gets a token from
// IMDS without a client ID and pulls; on userpool (two identities) the
// same pod gets IMDS's "Multiple user assigned identities exist", and with
// the kubelet identity's client ID it pulls. The pods that pull resolve
// the Azure names through a CoreDNS pod on another node. The trace shows
// each decision with its pool and the worker's address as caller.
func (m *multiNode) testIMDSPerPool(t *testing.T) {
	np1, user := m.byPool["nodepool1"], m.byPool["userpool"]
	logs := m.runClient(t, m.imdsPod("imds-nodepool1", "nodepool1", "", m.corednsElsewhere(t, np1.Name)), "default", "imds-nodepool1", "Succeeded")
	require.Contains(t, logs, "ok   imds")
	require.Contains(t, logs, "pulled sha256:")
	m.checkPlacement(t, "imds-nodepool1", "nodepool1")

	logs = m.runClient(t, m.imdsPod("imds-userpool", "userpool", "", ""), "default", "imds-userpool", "Failed")
	require.Contains(t, logs, `"error_description":"Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"`)
	require.Contains(t, logs, "FAIL imds")
	m.checkPlacement(t, "imds-userpool", "userpool")

	logs = m.runClient(t, m.imdsPod("imds-userpool-kubelet", "userpool", m.clients["aks1-agentpool"], m.corednsElsewhere(t, user.Name)), "default", "imds-userpool-kubelet", "Succeeded")
	require.Contains(t, logs, "pulled sha256:")

	var sawNP1, sawMulti bool
	for _, d := range m.trace() {
		if d.Service != "imds" {
			continue
		}
		host, _, _ := net.SplitHostPort(d.Caller)
		switch {
		case d.Facts["pool"] == "aks1/nodepool1" && d.Outcome == "allow" && host == np1.IP && d.Principal == "aks1-agentpool":
			sawNP1 = true
		case d.Facts["pool"] == "aks1/userpool" && strings.Contains(d.Error, "Multiple user assigned identities exist"):
			require.Equal(t, user.IP, host, "the refused IMDS call came from the userpool worker")
			sawMulti = true
		}
	}
	require.True(t, sawNP1, "the trace shows nodepool1's IMDS issuing aks1-agentpool's token to the nodepool1 worker (%s)", np1.IP)
	require.True(t, sawMulti, "the trace shows userpool's IMDS refusing the call without a client ID")
	logIMDSTrace(t, m.trace())
}

// testKubeletPull: a pod of azsimacr.azurecr.io/hello:v1 pinned to the
// userpool worker is pulled by that node's kubelet through the credential
// provider (IMDS of userpool, selecting the kubelet identity by client ID).
func (m *multiNode) testKubeletPull(t *testing.T) {
	user := m.byPool["userpool"]
	m.mustKubectl(`
apiVersion: v1
kind: Pod
metadata: {name: hello-userpool, namespace: default}
spec:
  restartPolicy: Never
  nodeSelector: {kubernetes.azure.com/agentpool: userpool}
  containers:
  - {name: hello, image: azsimacr.azurecr.io/hello:v1, imagePullPolicy: Always}
`, "apply", "-f", "-")
	phase := m.waitPhase(t, "default", "hello-userpool", "Succeeded", "Failed")
	ev := m.events("default", "hello-userpool")
	require.Equal(t, "Succeeded", phase, "events:\n%s", ev)
	require.Contains(t, m.logs(t, "default", "hello-userpool"), "Hello from azsim")
	require.Contains(t, ev, `Successfully pulled image "azsimacr.azurecr.io/hello:v1"`)
	m.checkPlacement(t, "hello-userpool", "userpool")
	var kubelet bool
	for _, d := range m.trace() {
		host, _, _ := net.SplitHostPort(d.Caller)
		if d.Service == "imds" && d.Facts["pool"] == "aks1/userpool" && d.Outcome == "allow" && host == user.IP &&
			d.Principal == "aks1-agentpool" && strings.HasPrefix(d.Facts["selector"], "client_id=") {
			kubelet = true
		}
	}
	require.True(t, kubelet, "the userpool kubelet's provider got the kubelet identity's token from userpool's IMDS by client_id")
	t.Logf("events:\n%s", ev)
}

// testReuse: --reuse with the same pools keeps the cluster (and re-applies
// routes and IMDS); with other pools it recreates it and says why.
func (m *multiNode) testReuse(t *testing.T) {
	start := time.Now()
	out, err := m.azsim("kind", "up", "--reuse", "--name", mnName, "--state-dir", m.stateDir, "--config", m.worldFile, "--node-pools", "nodepool1,userpool")
	require.NoError(t, err, "%s", out)
	require.Contains(t, out, "reusing kind cluster "+mnName)
	t.Logf("kind up --reuse, same pools: %s", time.Since(start).Round(100*time.Millisecond))
	m.mustKubectl("", "delete", "pod", "imds-nodepool1")
	m.runClient(t, m.imdsPod("imds-nodepool1", "nodepool1", "", ""), "default", "imds-nodepool1", "Succeeded")

	start = time.Now()
	out, err = m.azsim("kind", "up", "--reuse", "--name", mnName, "--state-dir", m.stateDir, "--config", m.worldFile, "--node-pools", "userpool")
	require.NoError(t, err, "%s", out)
	require.Contains(t, out, "recreating kind cluster "+mnName+" despite --reuse: it has ")
	t.Logf("kind up --reuse, other pools (%s):\n%s", time.Since(start).Round(100*time.Millisecond), out)
	m.reload()
	nodes := strings.Fields(m.mustKubectl("", "get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"))
	require.Equal(t, []string{mnName + "-control-plane", mnName + "-worker"}, nodes)
	require.Equal(t, "userpool", strings.TrimSpace(m.mustKubectl("", "get", "node", mnName+"-worker", "-o", `jsonpath={.metadata.labels.agentpool}`)))
	require.Equal(t, "userpool", m.env.Nodes[0].IMDSPool)
}
