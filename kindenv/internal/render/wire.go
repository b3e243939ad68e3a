package render

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Paths inside a wired node. The host directory NodeDir is bind-mounted
// read-only from the kind state directory (see Up).
const (
	// NodeDir holds azsim's files on every node.
	NodeDir = "/etc/azsim"
	// NodeCAFile is azsim's CA certificate on the node.
	NodeCAFile = NodeDir + "/ca.crt"
	// NodeBinDir holds the azsim binary (the default credential provider).
	NodeBinDir = NodeDir + "/bin"
	// NodePluginDir is where a user's own provider binaries are mounted.
	NodePluginDir = NodeDir + "/plugins"
	// NodeProviderConfig is the kubelet CredentialProviderConfig.
	NodeProviderConfig = NodeDir + "/credential-provider.yaml"
	// NodeAzureJSON names the node pool's kubelet identity, as AKS's
	// /etc/kubernetes/azure.json does.
	NodeAzureJSON = NodeDir + "/azure.json"
	// NodeIMDSScript installs the IMDS DNAT rules.
	NodeIMDSScript = NodeDir + "/imds-dnat.sh"
	// NodeCertsDir is containerd's registry configuration directory.
	NodeCertsDir = "/etc/containerd/certs.d"
	// NodeSAKey and NodeSAPub are the service-account signing key pair
	// kubeadm reuses when present.
	NodeSAKey = "/etc/kubernetes/pki/sa.key"
	NodeSAPub = "/etc/kubernetes/pki/sa.pub"
	// IMDSIP is the link-local address of IMDS.
	IMDSIP = "169.254.169.254"
	// IMDSChain is the nat chain holding the IMDS DNAT rule.
	IMDSChain = "AZSIM-IMDS"
)

// writeNodeExtras writes a node's labels and extraMounts (nothing when
// neither is set, so configs without wiring are unchanged).
func writeNodeExtras(b *strings.Builder, labels map[string]string, mounts []Mount) {
	if len(labels) > 0 {
		b.WriteString("  labels:\n")
		keys := make([]string, 0, len(labels))
		for k := range labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(b, "    %s: %q\n", k, labels[k])
		}
	}
	if len(mounts) > 0 {
		b.WriteString("  extraMounts:\n")
		for _, m := range mounts {
			fmt.Fprintf(b, "  - hostPath: %q\n    containerPath: %q\n", m.HostPath, m.ContainerPath)
			if m.ReadOnly {
				b.WriteString("    readOnly: true\n")
			}
		}
	}
}

// Wiring is what ties a kind cluster to the simulator's world.
type Wiring struct {
	// IssuerURL is the world cluster's OIDC issuer (trailing slash, as AKS):
	// kube-apiserver's --service-account-issuer.
	IssuerURL string
	// ProviderConfig and ProviderBinDir are the kubelet's
	// --image-credential-provider-config and -bin-dir.
	ProviderConfig, ProviderBinDir string
}

// WiringPatches renders the kubeadm patches of a wired cluster: the
// service-account issuer on kube-apiserver and the image credential
// provider flags on every kubelet. They carry no apiVersion; kind merges
// extraArgs lists by name (kind v0.33.0 patch/kubeadm_merge.go), so kind's
// own arguments are kept.
func WiringPatches(w Wiring) []string {
	var p []string
	if w.IssuerURL != "" {
		p = append(p, fmt.Sprintf("kind: ClusterConfiguration\napiServer:\n  extraArgs:\n  - name: service-account-issuer\n    value: %q\n", w.IssuerURL))
	}
	if w.ProviderConfig != "" {
		args := fmt.Sprintf("  kubeletExtraArgs:\n  - name: image-credential-provider-config\n    value: %q\n  - name: image-credential-provider-bin-dir\n    value: %q\n",
			w.ProviderConfig, w.ProviderBinDir)
		p = append(p, "kind: InitConfiguration\nnodeRegistration:\n"+args, "kind: JoinConfiguration\nnodeRegistration:\n"+args)
	}
	return p
}

// ProviderOptions describe the kubelet's credential provider.
type ProviderOptions struct {
	// Name is the plugin binary's file name in the bin dir.
	Name string
	// MatchImages are the kubelet's image patterns for the plugin.
	MatchImages []string
	// Args and Env are passed to the plugin.
	Args []string
	Env  map[string]string
	// DefaultCacheDuration applies when the plugin's answer names none.
	DefaultCacheDuration string
}

// DefaultMatchImages are the ACR patterns of the reference provider
// (clients.md 3.4).
var DefaultMatchImages = []string{"*.azurecr.io", "*.azurecr.cn", "*.azurecr.de", "*.azurecr.us"}

// AzsimProvider is the default provider: `azsim credential-provider` with
// the node's azure.json, trusting azsim's CA.
func AzsimProvider(loginServers []string) ProviderOptions {
	match := append([]string(nil), DefaultMatchImages...)
	for _, s := range loginServers {
		covered := false
		for _, m := range DefaultMatchImages {
			if strings.HasSuffix(s, strings.TrimPrefix(m, "*")) && !strings.Contains(s, ":") {
				covered = true
			}
		}
		if !covered {
			match = append(match, s)
		}
	}
	return ProviderOptions{Name: "azsim", MatchImages: match, Args: []string{"credential-provider", NodeAzureJSON},
		Env: map[string]string{"SSL_CERT_FILE": NodeCAFile}, DefaultCacheDuration: "10m"}
}

// RenderCredentialProviderConfig renders a kubelet CredentialProviderConfig
// (kubelet.config.k8s.io/v1) with one provider.
func RenderCredentialProviderConfig(o ProviderOptions) []byte {
	var b strings.Builder
	b.WriteString("# Rendered by azsim kindenv.RenderCredentialProviderConfig; do not edit.\n")
	b.WriteString("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n")
	fmt.Fprintf(&b, "- name: %q\n  apiVersion: credentialprovider.kubelet.k8s.io/v1\n", o.Name)
	b.WriteString("  matchImages:\n")
	for _, m := range o.MatchImages {
		fmt.Fprintf(&b, "  - %q\n", m)
	}
	fmt.Fprintf(&b, "  defaultCacheDuration: %q\n", o.DefaultCacheDuration)
	if len(o.Args) > 0 {
		b.WriteString("  args:\n")
		for _, a := range o.Args {
			fmt.Fprintf(&b, "  - %q\n", a)
		}
	}
	if len(o.Env) > 0 {
		b.WriteString("  env:\n")
		keys := make([]string, 0, len(o.Env))
		for k := range o.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  - name: %q\n    value: %q\n", k, o.Env[k])
		}
	}
	return []byte(b.String())
}

// RenderAzureJSON renders the azure.json subset a kubelet credential
// provider reads (clients.md 3.1): managed identity, the kubelet identity's
// client ID.
func RenderAzureJSON(tenantID, kubeletClientID string) []byte {
	b, _ := json.MarshalIndent(map[string]any{
		"cloud":                       "AzurePublicCloud",
		"tenantId":                    tenantID,
		"useManagedIdentityExtension": true,
		"userAssignedIdentityID":      kubeletClientID,
	}, "", "  ")
	return append(b, '\n')
}

// RenderRegistryHostsCA renders a containerd certs.d hosts.toml for an HTTPS
// registry under its real name whose certificate is issued by caFile
// (clients.md 5.2). The server entry trusts caFile too: containerd falls
// back to it after an error from the host entry (a 404 for a missing
// image), and without the CA that fallback would report an x509 error
// instead of the registry's answer.
func RenderRegistryHostsCA(host, caFile string) []byte {
	return []byte(fmt.Sprintf(`# Rendered by azsim kindenv.RenderRegistryHostsCA; do not edit.
server = "https://%[1]s"
ca = %[2]q

[host."https://%[1]s"]
  capabilities = ["pull", "resolve"]
  ca = %[2]q
`, host, caFile))
}

// RenderIMDSScript renders the node script that sends 169.254.169.254:80 to
// target (the simulator's IMDS of the node's pool): PREROUTING for pods,
// OUTPUT for the node itself (the kubelet's credential provider). It is
// idempotent: the rules live in their own chain, flushed on every run.
func RenderIMDSScript(target string) []byte {
	return []byte(fmt.Sprintf(`#!/bin/sh
# Rendered by azsim kindenv.RenderIMDSScript; do not edit.
# IMDS of this node's pool: %[1]s:80 -> %[2]s
set -e
iptables -t nat -N %[3]s 2>/dev/null || true
iptables -t nat -F %[3]s
iptables -t nat -A %[3]s -d %[1]s/32 -p tcp --dport 80 -j DNAT --to-destination %[2]s
for chain in PREROUTING OUTPUT; do
  iptables -t nat -C "$chain" -d %[1]s/32 -j %[3]s 2>/dev/null ||
    iptables -t nat -I "$chain" 1 -d %[1]s/32 -j %[3]s
done
`, IMDSIP, target, IMDSChain))
}
