// Package render renders what a wired kind cluster is configured with: the
// kind Cluster config, kubeadm and kubelet patches, containerd and CNI
// configs, the kubelet's credential provider and the node scripts (pure
// functions, golden-tested). It also pins the kind tier's versions.
package render

import (
	"fmt"
	"strings"

	"github.com/azsim/azsim/kindenv/internal/kindstate"
)

// Pinned versions of the kind tier.
const (
	// KubernetesVersion is the Kubernetes release the project pins.
	KubernetesVersion = "v1.37.2"
	// OfflineNodeImage is the node image built by `make kind-node-image`.
	OfflineNodeImage = "azsim/kindnode:" + KubernetesVersion
	// PauseImage is containerd's sandbox image (kubeadm v1.37.2's pause tag).
	PauseImage = "registry.k8s.io/pause:3.10.2"
	// NodeRuncWrapper is the node-side runc that strips CAP_SYS_RESOURCE
	// (kind-offline.md 10 B4).
	NodeRuncWrapper = "/usr/local/sbin/runc-nosysres"
	// PodSubnet is kind's default pod subnet; the single-node CNI config uses
	// a /24 inside it.
	PodSubnet = "10.244.0.0/16"
	// NodePodSubnet is the host-local IPAM range of the single-node CNI.
	NodePodSubnet = "10.244.0.0/24"
)

// ClusterOptions selects what RenderClusterConfig produces.
type ClusterOptions struct {
	// Name is the kind cluster name.
	Name string
	// Offline is true for the offline node image: it carries a static
	// single-node CNI config, so kind's default CNI (kindnetd, an image that
	// is not preloaded) is disabled.
	Offline bool
	// CgroupV1 is true on cgroup v1 hosts: kubelet >= 1.35 refuses cgroup v1
	// unless failCgroupV1 is false (kind-offline.md 10 B3).
	CgroupV1 bool
	// ContainerdConfigPatches are appended to the config verbatim.
	ContainerdConfigPatches []string
	// NodeLabels are set on every node (AKS's agent-pool labels, for
	// example).
	NodeLabels map[string]string
	// Mounts are bind mounts from the host into every node.
	Mounts []Mount
	// Nodes, when set, replaces the single control-plane node: each node
	// gets its role, NodeLabels and Mounts, then its own labels and mounts.
	Nodes []NodeOptions
	// KubeadmPatches are appended after the kubelet patches (see
	// WiringPatches).
	KubeadmPatches []string
}

// NodeOptions is one node of a multi-node config.
type NodeOptions struct {
	// Role is kindstate.RoleControlPlane or kindstate.RoleWorker.
	Role   string
	Labels map[string]string
	Mounts []Mount
}

// Mount is a kind extraMount: a host path bind-mounted into the node.
type Mount struct {
	HostPath, ContainerPath string
	ReadOnly                bool
}

// KubeletPatches returns the kubeadm config patches for the kubelet. They
// carry no apiVersion, so they apply to whatever kubeadm API kind renders
// (v1beta4 for Kubernetes >= 1.36, kind-offline.md 2).
func KubeletPatches(o ClusterOptions) []string {
	var p []string
	if o.CgroupV1 {
		p = append(p, "kind: KubeletConfiguration\nfailCgroupV1: false\n")
	}
	return p
}

// RenderClusterConfig renders a kind v1alpha4 Cluster config (kind-offline.md 8). It is a
// pure function of its options.
func RenderClusterConfig(o ClusterOptions) []byte {
	var b strings.Builder
	b.WriteString("# Rendered by azsim kindenv.RenderClusterConfig; do not edit.\n")
	b.WriteString("kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n")
	if o.Name != "" {
		fmt.Fprintf(&b, "name: %s\n", o.Name)
	}
	b.WriteString("nodes:\n")
	for _, n := range clusterNodes(o) {
		fmt.Fprintf(&b, "- role: %s\n", n.Role)
		writeNodeExtras(&b, n.Labels, n.Mounts)
	}
	b.WriteString("networking:\n")
	fmt.Fprintf(&b, "  podSubnet: %q\n", PodSubnet)
	switch {
	case o.Offline && len(o.Nodes) > 1:
		b.WriteString("  # no kindnetd: each node mounts its own ptp CNI config (a /24 of podSubnet);\n")
		b.WriteString("  # azsim adds the routes between nodes after creation\n")
		b.WriteString("  disableDefaultCNI: true\n")
	case o.Offline:
		b.WriteString("  # the offline node image has a static single-node CNI config; no kindnetd\n")
		b.WriteString("  disableDefaultCNI: true\n")
	}
	if patches := append(KubeletPatches(o), o.KubeadmPatches...); len(patches) > 0 {
		b.WriteString("kubeadmConfigPatches:\n")
		for _, p := range patches {
			writeBlock(&b, p)
		}
	}
	if len(o.ContainerdConfigPatches) > 0 {
		b.WriteString("containerdConfigPatches:\n")
		for _, p := range o.ContainerdConfigPatches {
			writeBlock(&b, p)
		}
	}
	return []byte(b.String())
}

// clusterNodes is o.Nodes (or the single control plane) with the common
// labels and mounts merged in; a node's own labels win.
func clusterNodes(o ClusterOptions) []NodeOptions {
	nodes := o.Nodes
	if len(nodes) == 0 {
		nodes = []NodeOptions{{Role: kindstate.RoleControlPlane}}
	}
	out := make([]NodeOptions, len(nodes))
	for i, n := range nodes {
		labels := map[string]string{}
		for k, v := range o.NodeLabels {
			labels[k] = v
		}
		for k, v := range n.Labels {
			labels[k] = v
		}
		mounts := append(append([]Mount(nil), o.Mounts...), n.Mounts...)
		out[i] = NodeOptions{Role: n.Role, Labels: labels, Mounts: mounts}
	}
	return out
}

// writeBlock writes s as a YAML list item holding a literal block scalar.
func writeBlock(b *strings.Builder, s string) {
	b.WriteString("- |\n")
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if line == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("  " + line + "\n")
	}
}

// ContainerdOptions selects what RenderContainerdConfig produces.
type ContainerdOptions struct {
	// SandboxImage must be preloaded (kind-offline.md 2 point 6).
	SandboxImage string
	// RuncBinary, when set, replaces runc for CRI containers.
	RuncBinary string
	// RestrictOOMScoreAdj clamps container OOM scores to containerd's own;
	// needed when CAP_SYS_RESOURCE is unavailable (kind-offline.md 10 B2).
	RestrictOOMScoreAdj bool
	// CNIBinDir and CNIConfDir locate the CNI plugins and configs.
	CNIBinDir, CNIConfDir string
	// RegistryConfigPath is where per-registry hosts.toml files live.
	RegistryConfigPath string
}

// DefaultContainerdOptions are the offline node image's settings (kind-offline.md 6.2).
func DefaultContainerdOptions() ContainerdOptions {
	return ContainerdOptions{
		SandboxImage:        PauseImage,
		RuncBinary:          NodeRuncWrapper,
		RestrictOOMScoreAdj: true,
		CNIBinDir:           "/opt/cni/bin",
		CNIConfDir:          "/etc/cni/net.d",
		RegistryConfigPath:  "/etc/containerd/certs.d",
	}
}

// RenderContainerdConfig renders /etc/containerd/config.toml for containerd
// 1.6 (config version 2) on the offline node image (kind-offline.md 6.2).
func RenderContainerdConfig(o ContainerdOptions) []byte {
	const cri = `plugins."io.containerd.grpc.v1.cri"`
	var b strings.Builder
	b.WriteString("# Rendered by azsim kindenv.RenderContainerdConfig; do not edit.\n")
	b.WriteString("version = 2\n\n")
	fmt.Fprintf(&b, "[%s]\n", cri)
	fmt.Fprintf(&b, "  sandbox_image = %q\n", o.SandboxImage)
	b.WriteString("  tolerate_missing_hugepages_controller = true\n")
	fmt.Fprintf(&b, "  restrict_oom_score_adj = %t\n", o.RestrictOOMScoreAdj)
	fmt.Fprintf(&b, "  [%s.containerd]\n", cri)
	b.WriteString("    snapshotter = \"overlayfs\"\n")
	b.WriteString("    default_runtime_name = \"runc\"\n")
	fmt.Fprintf(&b, "    [%s.containerd.runtimes.runc]\n", cri)
	b.WriteString("      runtime_type = \"io.containerd.runc.v2\"\n")
	fmt.Fprintf(&b, "      [%s.containerd.runtimes.runc.options]\n", cri)
	b.WriteString("        SystemdCgroup = true\n")
	if o.RuncBinary != "" {
		fmt.Fprintf(&b, "        BinaryName = %q\n", o.RuncBinary)
	}
	fmt.Fprintf(&b, "  [%s.cni]\n", cri)
	fmt.Fprintf(&b, "    bin_dir = %q\n", o.CNIBinDir)
	fmt.Fprintf(&b, "    conf_dir = %q\n", o.CNIConfDir)
	if o.RegistryConfigPath != "" {
		fmt.Fprintf(&b, "  [%s.registry]\n", cri)
		fmt.Fprintf(&b, "    config_path = %q\n", o.RegistryConfigPath)
	}
	return []byte(b.String())
}

// RenderCNIConfig renders the single-node ptp + portmap conflist (kind-offline.md 6.3).
// subnet must lie inside the cluster's pod subnet.
func RenderCNIConfig(name, subnet string) []byte {
	return []byte(fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": %q,
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": true,
      "mtu": 1500,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": %q }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    {
      "type": "portmap",
      "capabilities": { "portMappings": true }
    }
  ]
}
`, name, subnet))
}

// RenderRegistryHosts renders a containerd certs.d hosts.toml that lets the
// node pull from a plain-HTTP registry at hostPort (kind-offline.md 9).
func RenderRegistryHosts(hostPort string) []byte {
	return []byte(fmt.Sprintf(`# Rendered by azsim kindenv.RenderRegistryHosts; do not edit.
server = "http://%[1]s"

[host."http://%[1]s"]
  capabilities = ["pull", "resolve"]
`, hostPort))
}
