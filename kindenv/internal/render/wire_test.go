package render

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

func TestRenderWiredClusterConfig(t *testing.T) {
	got := RenderClusterConfig(ClusterOptions{Name: "azsim", Offline: true, CgroupV1: true,
		NodeLabels: map[string]string{"kubernetes.azure.com/agentpool": "nodepool1", "agentpool": "nodepool1"},
		Mounts: []Mount{
			{HostPath: "/state/kind-node", ContainerPath: NodeDir, ReadOnly: true},
			{HostPath: "/state/kind-node/certs.d", ContainerPath: NodeCertsDir},
		},
		KubeadmPatches: WiringPatches(Wiring{
			IssuerURL:      "https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000001/00000000-0000-0000-0000-000000000002/",
			ProviderConfig: NodeProviderConfig, ProviderBinDir: NodeBinDir,
		}),
	})
	golden(t, "cluster-wired.yaml", got)
	var doc struct {
		Nodes []struct {
			Labels      map[string]string
			ExtraMounts []struct {
				HostPath, ContainerPath string
				ReadOnly                bool
			} `json:"extraMounts"`
		}
		KubeadmConfigPatches []string `json:"kubeadmConfigPatches"`
	}
	require.NoError(t, yaml.Unmarshal(got, &doc))
	require.Len(t, doc.Nodes, 1)
	require.Equal(t, "nodepool1", doc.Nodes[0].Labels["kubernetes.azure.com/agentpool"])
	require.Len(t, doc.Nodes[0].ExtraMounts, 2)
	require.True(t, doc.Nodes[0].ExtraMounts[0].ReadOnly)
	require.Len(t, doc.KubeadmConfigPatches, 4, "kubelet cgroup patch + issuer + init + join")
	for _, p := range doc.KubeadmConfigPatches {
		var m map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(p), &m))
		require.NotContains(t, m, "apiVersion", "patches must apply to any kubeadm API version")
	}
}

func TestWiringPatches(t *testing.T) {
	require.Empty(t, WiringPatches(Wiring{}))
	p := WiringPatches(Wiring{IssuerURL: "https://x/"})
	require.Len(t, p, 1)
	var m struct {
		Kind      string
		APIServer struct {
			ExtraArgs []struct{ Name, Value string } `json:"extraArgs"`
		} `json:"apiServer"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(p[0]), &m))
	require.Equal(t, "ClusterConfiguration", m.Kind)
	require.Equal(t, []struct{ Name, Value string }{{"service-account-issuer", "https://x/"}}, m.APIServer.ExtraArgs)
}

func TestRenderCredentialProviderConfig(t *testing.T) {
	got := RenderCredentialProviderConfig(AzsimProvider([]string{"azsimacr.azurecr.io", "other.example.test:5443"}))
	golden(t, "credential-provider.yaml", got)
	var doc struct {
		APIVersion string `json:"apiVersion"`
		Kind       string
		Providers  []struct {
			Name        string
			APIVersion  string   `json:"apiVersion"`
			MatchImages []string `json:"matchImages"`
			Args        []string
			Env         []struct{ Name, Value string }
		}
	}
	require.NoError(t, yaml.Unmarshal(got, &doc))
	require.Equal(t, "kubelet.config.k8s.io/v1", doc.APIVersion)
	require.Equal(t, "CredentialProviderConfig", doc.Kind)
	require.Len(t, doc.Providers, 1)
	pr := doc.Providers[0]
	require.Equal(t, "azsim", pr.Name, "the name is the binary's file name in the bin dir")
	require.Equal(t, "credentialprovider.kubelet.k8s.io/v1", pr.APIVersion)
	require.Equal(t, []string{"*.azurecr.io", "*.azurecr.cn", "*.azurecr.de", "*.azurecr.us", "other.example.test:5443"}, pr.MatchImages)
	require.Equal(t, []string{"credential-provider", NodeAzureJSON}, pr.Args)
	require.Equal(t, NodeCAFile, pr.Env[0].Value)
}

func TestRenderAzureJSON(t *testing.T) {
	got := RenderAzureJSON("00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000003")
	golden(t, "azure.json", got)
	var m map[string]any
	require.NoError(t, json.Unmarshal(got, &m))
	require.Equal(t, true, m["useManagedIdentityExtension"])
}

func TestRenderRegistryHostsCA(t *testing.T) {
	golden(t, "registry-hosts-ca.toml", RenderRegistryHostsCA("azsimacr.azurecr.io", NodeCAFile))
}

func TestRenderIMDSScript(t *testing.T) {
	golden(t, "imds-dnat.sh", RenderIMDSScript("172.18.0.3:8079"))
}
