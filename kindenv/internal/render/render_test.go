package render

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./kindenv/internal/render -update")
	require.Equal(t, string(want), string(got), "golden %s differs; run go test ./kindenv/internal/render -update and review the diff", path)
}

func TestRenderClusterConfig(t *testing.T) {
	for _, tc := range []struct {
		golden string
		opts   ClusterOptions
	}{
		{"cluster-offline-cgroupv1.yaml", ClusterOptions{Name: "azsim", Offline: true, CgroupV1: true}},
		{"cluster-offline-cgroupv2.yaml", ClusterOptions{Name: "azsim", Offline: true}},
		{"cluster-stock.yaml", ClusterOptions{Name: "azsim"}},
		{"cluster-containerd-patch.yaml", ClusterOptions{Name: "e2e", CgroupV1: true, ContainerdConfigPatches: []string{
			"[plugins.\"io.containerd.grpc.v1.cri\".registry]\n  config_path = \"/etc/containerd/certs.d\"\n"}}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			got := RenderClusterConfig(tc.opts)
			golden(t, tc.golden, got)
			var doc map[string]any
			require.NoError(t, yaml.Unmarshal(got, &doc), "rendered config must be YAML")
			require.Equal(t, "Cluster", doc["kind"])
		})
	}
}

func TestKubeletPatches(t *testing.T) {
	require.Empty(t, KubeletPatches(ClusterOptions{}))
	p := KubeletPatches(ClusterOptions{CgroupV1: true})
	require.Len(t, p, 1)
	golden(t, "kubelet-patch-cgroupv1.yaml", []byte(p[0]))
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(p[0]), &doc))
	require.NotContains(t, doc, "apiVersion", "patches must apply to any kubeadm API version")
	require.Equal(t, false, doc["failCgroupV1"])
}

func TestRenderContainerdConfig(t *testing.T) {
	golden(t, "containerd-config.toml", RenderContainerdConfig(DefaultContainerdOptions()))
	plain := DefaultContainerdOptions()
	plain.RuncBinary, plain.RestrictOOMScoreAdj, plain.RegistryConfigPath = "", false, ""
	golden(t, "containerd-config-plain.toml", RenderContainerdConfig(plain))
}

func TestRenderCNIConfig(t *testing.T) {
	golden(t, "cni-ptp.conflist", RenderCNIConfig("azsim-ptp", NodePodSubnet))
}

func TestRenderRegistryHosts(t *testing.T) {
	golden(t, "registry-hosts.toml", RenderRegistryHosts("172.18.0.1:5000"))
}
