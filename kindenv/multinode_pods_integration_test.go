//go:build integration

package kindenv_test

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/kindenv"
)

func poolLabels(pool, mode, kubeletID string) map[string]string {
	return map[string]string{
		"agentpool": pool, "kubernetes.azure.com/agentpool": pool, "kubernetes.azure.com/mode": mode,
		"kubernetes.azure.com/role": "agent", "kubernetes.azure.com/cluster": "MC_rg-azsim_aks1_eastus",
		"kubernetes.azure.com/kubelet-identity-client-id": kubeletID, "kubernetes.azure.com/os-sku": "Ubuntu",
		"topology.kubernetes.io/region": "eastus",
	}
}

// imdsPod runs `azsim kind pod-pull --imds` on pool's worker. nameserver,
// when set, is a CoreDNS pod IP the pod resolves through (dnsPolicy None).
func (m *multiNode) imdsPod(name, pool, clientID, nameserver string) string {
	env := fmt.Sprintf("    - {name: AZURE_TENANT_ID, value: %s}\n    - {name: SSL_CERT_FILE, value: /etc/azsim-ca/ca.crt}\n", m.tenant)
	if clientID != "" {
		env += fmt.Sprintf("    - {name: AZURE_CLIENT_ID, value: %s}\n", clientID)
	}
	dns := ""
	if nameserver != "" {
		dns = fmt.Sprintf("  dnsPolicy: None\n  dnsConfig: {nameservers: [%s], searches: [default.svc.cluster.local, svc.cluster.local, cluster.local], options: [{name: ndots, value: \"5\"}]}\n", nameserver)
	}
	return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: default}
spec:
  restartPolicy: Never
  nodeSelector: {kubernetes.azure.com/agentpool: %s}
%s  containers:
  - name: client
    image: %s
    imagePullPolicy: Never
    args: [kind, pod-pull, --imds, azsimacr.azurecr.io/hello:v1]
    env:
%s    volumeMounts: [{name: ca, mountPath: /etc/azsim-ca, readOnly: true}]
  volumes: [{name: ca, configMap: {name: azsim-ca}}]
`, name, pool, dns, kindenv.SimImage, env)
}

// podPlacement is the node and IP of a pod.
func (m *multiNode) podPlacement(t *testing.T, name string) (node, ip string) {
	t.Helper()
	out := m.mustKubectl("", "get", "pod", name, "-o", "jsonpath={.spec.nodeName} {.status.podIP}")
	node, ip, _ = strings.Cut(strings.TrimSpace(out), " ")
	return node, ip
}

// corednsElsewhere is the IP of a ready CoreDNS endpoint on another node
// than node (any ready one when all run on node). Endpoints, not pods: pods
// of the CoreDNS rollout `kind up` restarts may still be terminating.
func (m *multiNode) corednsElsewhere(t *testing.T, node string) string {
	t.Helper()
	out := m.mustKubectl("", "-n", "kube-system", "get", "endpointslices", "-l", "kubernetes.io/service-name=kube-dns",
		"-o", `jsonpath={range .items[*].endpoints[*]}{.nodeName} {.addresses[0]} {.conditions.ready}{"\n"}{end}`)
	t.Logf("CoreDNS endpoints (node IP ready):\n%s", out)
	var fallback string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		if len(f) != 3 || f[2] != "true" {
			continue
		}
		fallback = f[1]
		if f[0] != node {
			return f[1]
		}
	}
	require.NotEmpty(t, fallback, "no ready CoreDNS endpoint")
	t.Logf("every CoreDNS endpoint is on %s; resolving through %s on the same node", node, fallback)
	return fallback
}

// checkPlacement: the pod ran on its pool's worker, with an IP of that
// node's pod subnet (offline image).
func (m *multiNode) checkPlacement(t *testing.T, pod, pool string) {
	t.Helper()
	node, ip := m.podPlacement(t, pod)
	want := m.byPool[pool]
	require.Equal(t, want.Name, node, "pod %s runs on the %s worker", pod, pool)
	if want.PodSubnet != "" {
		_, subnet, err := net.ParseCIDR(want.PodSubnet)
		require.NoError(t, err)
		require.True(t, subnet.Contains(net.ParseIP(ip)), "pod %s IP %s is in %s's subnet %s", pod, ip, node, want.PodSubnet)
	}
}

func logIMDSTrace(t *testing.T, ds []api.Decision) {
	var lines []string
	for _, d := range ds {
		if d.Service == "imds" {
			lines = append(lines, fmt.Sprintf("%s pool=%s caller=%s principal=%s outcome=%s %s", d.Path, d.Facts["pool"], d.Caller, d.Principal, d.Outcome, d.Error))
		}
	}
	sort.Strings(lines)
	t.Logf("IMDS decisions:\n%s", strings.Join(lines, "\n"))
}
