package kindenv

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/kindenv/internal/render"
	"github.com/azsim/azsim/world"
)

// twoPoolWorld is the default world plus node pool userpool on aks1, whose
// VMSS carries the kubelet identity and another one.
func twoPoolWorld(t *testing.T) *world.World {
	t.Helper()
	w := world.Default()
	w.Identities = append(w.Identities, world.Identity{Name: "userpool-addon", ResourceGroup: "MC_rg-azsim_aks1_eastus"})
	w.Clusters[0].NodePools = append(w.Clusters[0].NodePools,
		world.NodePool{Name: "userpool", Identities: []string{"aks1-agentpool", "userpool-addon"}})
	return w
}

func TestParseNodePools(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want []PoolNodes
		errs []string // each bad entry is named
	}{
		{spec: "nodepool1", want: []PoolNodes{{Pool: "nodepool1", Count: 1}}},
		{spec: "nodepool1,userpool=2", want: []PoolNodes{{Pool: "nodepool1", Count: 1}, {Pool: "userpool", Count: 2}}},
		{spec: " nodepool1 , userpool=10 ", want: []PoolNodes{{Pool: "nodepool1", Count: 1}, {Pool: "userpool", Count: 10}}},
		{spec: "", errs: []string{"empty list"}},
		{spec: "nodepool1,,userpool", want: []PoolNodes{{Pool: "nodepool1", Count: 1}, {Pool: "userpool", Count: 1}}, errs: []string{`"": empty entry`}},
		{spec: "a=0,b=x,c=11,d=-1", errs: []string{`"a=0": COUNT must be an integer from 1 to 10`, `"b=x": COUNT`, `"c=11": COUNT`, `"d=-1": COUNT`}},
		{spec: "=2,a b,ok", want: []PoolNodes{{Pool: "ok", Count: 1}}, errs: []string{`"=2": POOL must be`, `"a b": POOL must be`}},
		{spec: "p,P=2", want: []PoolNodes{{Pool: "p", Count: 1}}, errs: []string{`"P=2": pool P is listed twice`}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := parseNodePools(tc.spec)
			assert.Equal(t, tc.want, got)
			if len(tc.errs) == 0 {
				require.NoError(t, err)
				again, err := parseNodePools(FormatNodePools(got))
				require.NoError(t, err)
				assert.Equal(t, got, again, "FormatNodePools is the inverse")
				return
			}
			require.Error(t, err)
			for _, e := range tc.errs {
				assert.Contains(t, err.Error(), e)
			}
		})
	}
}

// ParseNodePools reports the bad entries and the pools the world cluster
// lacks together.
func TestParseNodePoolsAgainstTheWorld(t *testing.T) {
	w := twoPoolWorld(t)
	got, err := ParseNodePools(w, "", "nodepool1,UserPool=2")
	require.NoError(t, err)
	assert.Equal(t, []PoolNodes{{Pool: "nodepool1", Count: 1}, {Pool: "UserPool", Count: 2}}, got)
	got, err = ParseNodePools(w, "aks1", "nope,b=x")
	assert.Equal(t, []PoolNodes{{Pool: "nope", Count: 1}}, got)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"b=x": COUNT must be an integer`)
	assert.Contains(t, err.Error(), `"nope": world cluster aks1 has no node pool "nope"`)
	_, err = ParseNodePools(w, "", "")
	require.ErrorContains(t, err, "empty list")
}

func TestFormatNodePools(t *testing.T) {
	require.Equal(t, "nodepool1=1,userpool=2", FormatNodePools([]PoolNodes{{Pool: "nodepool1", Count: 1}, {Pool: "userpool", Count: 2}}))
}

func TestCheckNodePools(t *testing.T) {
	w := twoPoolWorld(t)
	require.NoError(t, checkNodePools(w, "", []PoolNodes{{Pool: "nodepool1", Count: 1}, {Pool: "UserPool", Count: 2}}))
	err := checkNodePools(w, "aks1", []PoolNodes{{Pool: "nope", Count: 1}, {Pool: "userpool", Count: 1}, {Pool: "other", Count: 3}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"nope": world cluster aks1 has no node pool "nope" (it has nodepool1, userpool)`)
	assert.Contains(t, err.Error(), `"other": world cluster aks1 has no node pool "other"`)
	require.ErrorContains(t, checkNodePools(w, "aks9", []PoolNodes{{Pool: "nodepool1", Count: 1}}), `the world has no cluster "aks9"`)
	require.ErrorContains(t, checkNodePools(w, "", []PoolNodes{{Pool: "userpool", Count: 0}}), `"userpool": COUNT must be an integer from 1 to 10, got 0`)
}

func compiledPools(t *testing.T, w *world.World) (*world.ClusterInfo, map[string]*world.NodePoolInfo) {
	t.Helper()
	ix, err := world.Compile(w, world.NewSimClock().Now())
	require.NoError(t, err)
	pools := map[string]*world.NodePoolInfo{}
	for _, p := range ix.Clusters[0].Pools {
		pools[p.Name] = p
	}
	return ix.Clusters[0], pools
}

func TestAgentPoolLabels(t *testing.T) {
	wc, pools := compiledPools(t, twoPoolWorld(t))
	want := map[string]string{
		"agentpool":                                       "nodepool1",
		"kubernetes.azure.com/agentpool":                  "nodepool1",
		"kubernetes.azure.com/mode":                       "system",
		"kubernetes.azure.com/role":                       "agent",
		"kubernetes.azure.com/cluster":                    "MC_rg-azsim_aks1_eastus",
		"kubernetes.azure.com/kubelet-identity-client-id": wc.Kubelet.ClientID,
		"kubernetes.azure.com/os-sku":                     "Ubuntu",
		"topology.kubernetes.io/region":                   "eastus",
	}
	require.Equal(t, want, agentPoolLabels(pools["nodepool1"]))
	user := agentPoolLabels(pools["userpool"])
	require.Equal(t, "user", user["kubernetes.azure.com/mode"])
	require.Equal(t, "userpool", user["kubernetes.azure.com/agentpool"])
	require.Equal(t, wc.Kubelet.ClientID, user["kubernetes.azure.com/kubelet-identity-client-id"], "the kubelet identity is cluster-wide")
	require.NoError(t, checkLabels("n", user))
	require.ErrorContains(t, checkLabels("n", map[string]string{"k": "MC_" + string(make([]byte, 70))}), "label k=")
	require.ErrorContains(t, checkLabels("n", map[string]string{"k": "a/b"}), `node n: label k="a/b"`)
}

func TestPlanNodes(t *testing.T) {
	_, pools := compiledPools(t, twoPoolWorld(t))
	single := planNodes("azsim", pools["nodepool1"], nil, true)
	require.Equal(t, []kindstate.NodeInfo{{Name: "azsim-control-plane", Role: kindstate.RoleControlPlane, Pool: "nodepool1", IMDSPool: "nodepool1", PodSubnet: "10.244.0.0/24"}}, single)

	multi := planNodes("mn", nil, []PoolNodes{{Pool: "userpool", Count: 2}, {Pool: "nodepool1", Count: 1}}, true)
	require.Equal(t, []kindstate.NodeInfo{
		{Name: "mn-control-plane", Role: kindstate.RoleControlPlane, IMDSPool: "userpool", PodSubnet: "10.244.0.0/24"},
		{Name: "mn-worker", Role: kindstate.RoleWorker, Pool: "userpool", IMDSPool: "userpool", PodSubnet: "10.244.1.0/24"},
		{Name: "mn-worker2", Role: kindstate.RoleWorker, Pool: "userpool", IMDSPool: "userpool", PodSubnet: "10.244.2.0/24"},
		{Name: "mn-worker3", Role: kindstate.RoleWorker, Pool: "nodepool1", IMDSPool: "nodepool1", PodSubnet: "10.244.3.0/24"},
	}, multi, "the control plane's IMDS is the first listed pool's; workers are named as kind names them")

	stock := planNodes("mn", nil, []PoolNodes{{Pool: "nodepool1", Count: 1}}, false)
	for _, n := range stock {
		require.Empty(t, n.PodSubnet, "kindnetd assigns pod subnets on the stock image")
	}
	require.Equal(t, kindstate.CNIKindnet, cniMode(false, 2))
	require.Equal(t, kindstate.CNIStaticPTP, cniMode(true, 1))
	require.Equal(t, kindstate.CNIStaticPTPRoutes, cniMode(true, 3))
}

func TestNodeRoutes(t *testing.T) {
	nodes := []kindstate.NodeInfo{
		{Name: "mn-control-plane", PodSubnet: "10.244.0.0/24", IP: "172.18.0.2"},
		{Name: "mn-worker", PodSubnet: "10.244.1.0/24", IP: "172.18.0.3"},
		{Name: "mn-worker2", PodSubnet: "10.244.2.0/24", IP: "172.18.0.4"},
	}
	require.Equal(t, []render.Route{{Subnet: "10.244.0.0/24", Via: "172.18.0.2"}, {Subnet: "10.244.2.0/24", Via: "172.18.0.4"}}, nodeRoutes(nodes, 1))
	golden(t, "routes-worker.sh", render.RenderRoutesScript("mn-worker", nodeRoutes(nodes, 1)))
	golden(t, "cni-ptp-node1.conflist", render.RenderCNIConfig(render.CNINetworkName, nodes[1].PodSubnet))
}

func TestTopologyMismatch(t *testing.T) {
	want := planNodes("mn", nil, []PoolNodes{{Pool: "nodepool1", Count: 1}, {Pool: "userpool", Count: 1}}, true)
	have := []kindstate.NodeInfo{ // as read back from the cluster, in another order
		{Name: "mn-worker2", Role: kindstate.RoleWorker, Pool: "userpool"},
		{Name: "mn-control-plane", Role: kindstate.RoleControlPlane},
		{Name: "mn-worker", Role: kindstate.RoleWorker, Pool: "nodepool1"},
	}
	require.Empty(t, topologyMismatch(want, have))
	got := topologyMismatch(want, have[:2])
	require.Contains(t, got, "it has mn-control-plane (control-plane, no pool), mn-worker2 (worker, userpool)")
	require.Contains(t, got, "wanted mn-control-plane (control-plane, no pool), mn-worker (worker, nodepool1), mn-worker2 (worker, userpool)")
	single := []kindstate.NodeInfo{{Name: "mn-control-plane", Role: kindstate.RoleControlPlane, Pool: "nodepool1"}}
	require.NotEmpty(t, topologyMismatch(want, single), "a single-node cluster is not a multi-node one")
	require.Empty(t, topologyMismatch(planNodes("mn", &world.NodePoolInfo{NodePool: world.NodePool{Name: "nodepool1"}}, nil, true), single))
}

// The kind configs Up renders, from its plan: one node (AKS labels), and a
// dedicated control plane plus one worker per pool (labels per node, a CNI
// config per node on the offline image, none with kindnetd).
func TestRenderUpClusterConfig(t *testing.T) {
	for _, tc := range []struct {
		golden  string
		pools   []PoolNodes
		offline bool
		nodes   int
	}{
		{"cluster-up-single.yaml", nil, true, 1},
		{"cluster-up-multinode.yaml", []PoolNodes{{Pool: "nodepool1", Count: 1}, {Pool: "userpool", Count: 1}}, true, 3},
		{"cluster-up-multinode-stock.yaml", []PoolNodes{{Pool: "nodepool1", Count: 1}, {Pool: "userpool", Count: 1}}, false, 3},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r, err := planUp(context.Background(), UpOptions{Name: "azsim-mn", World: twoPoolWorld(t), NodePools: tc.pools,
				StateDir: "/state", Choice: &Choice{Image: "img", Offline: tc.offline}})
			require.NoError(t, err)
			co, err := r.clusterOptions("/state/kind-node")
			require.NoError(t, err)
			co.Name, co.Offline, co.CgroupV1 = "azsim-mn", tc.offline, true
			got := render.RenderClusterConfig(co)
			golden(t, tc.golden, got)
			checkUpConfig(t, got, r, tc.nodes)
		})
	}
}

func checkUpConfig(t *testing.T, got []byte, r *upRun, nodes int) {
	t.Helper()
	var doc struct {
		Nodes []struct {
			Role        string
			Labels      map[string]string
			ExtraMounts []struct{ HostPath, ContainerPath string } `json:"extraMounts"`
		}
	}
	require.NoError(t, yaml.Unmarshal(got, &doc))
	require.Len(t, doc.Nodes, nodes)
	for i, n := range doc.Nodes {
		plan := r.nodes[i]
		require.Equal(t, plan.Role, n.Role)
		require.Equal(t, plan.Pool, n.Labels["kubernetes.azure.com/agentpool"])
		if nodes > 1 && plan.Role == kindstate.RoleControlPlane {
			require.Empty(t, n.Labels, "the dedicated control plane carries no agent-pool labels")
		}
		var cni string
		for _, m := range n.ExtraMounts {
			if m.ContainerPath == render.NodeCNIConfig {
				cni = m.HostPath
			}
		}
		if r.cni == kindstate.CNIStaticPTPRoutes {
			require.Equal(t, "/state/kind-node/cni/"+plan.Name+".conflist", cni)
		} else {
			require.Empty(t, cni)
		}
	}
}
