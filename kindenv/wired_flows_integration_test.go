//go:build integration

package kindenv_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/kindenv"
	"github.com/azsim/azsim/kindenv/internal/docker"
)

// testIssuer: a token from the cluster's TokenRequest API has the world's
// issuer and a kid that the fake issuer's JWKS (fetched by its real name
// through the simulator's HTTPS listener) publishes.
func (w *wired) testIssuer(t *testing.T) {
	raw := strings.TrimSpace(w.mustKubectl("", "create", "token", "default", "--audience", "api://AzureADTokenExchange"))
	tok, err := jwtx.Parse(raw)
	require.NoError(t, err)
	var claims struct{ Iss, Sub string }
	require.NoError(t, tok.Claims(&claims))
	require.Equal(t, w.env.IssuerURL, claims.Iss)
	require.True(t, strings.HasSuffix(claims.Iss, "/"), "AKS issuer URLs end with a slash")
	require.Equal(t, "system:serviceaccount:default:default", claims.Sub)

	ca, err := os.ReadFile(w.ep.CAFile)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(ca))
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, w.ep.HTTPS)
		}}}
	resp, err := client.Get(claims.Iss + "openid/v1/jwks")
	require.NoError(t, err)
	defer resp.Body.Close()
	var jwks struct{ Keys []struct{ Kid string } }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&jwks))
	var kids []string
	for _, k := range jwks.Keys {
		kids = append(kids, k.Kid)
	}
	require.Contains(t, kids, tok.KID, "kube-apiserver's kid must be in the issuer's JWKS")
	t.Logf("cluster token: iss %s kid %s (in the JWKS %v)", claims.Iss, tok.KID, kids)

	cm := w.mustKubectl("", "get", "configmap", "azsim-ca", "-o", "jsonpath={.data.ca\\.crt}")
	require.Equal(t, strings.TrimSpace(string(ca)), strings.TrimSpace(cm), "ConfigMap azsim-ca holds the CA")
}

func (w *wired) testVMSSFlow(t *testing.T) { w.vmssFlow(t, false) }

// vmssFlow runs the hello pod; cached is true when the kubelet may reuse
// the credential its provider returned earlier (cacheDuration).
func (w *wired) vmssFlow(t *testing.T, cached bool) {
	w.mustKubectl(`
apiVersion: v1
kind: Pod
metadata: {name: hello-vmss, namespace: default}
spec:
  restartPolicy: Never
  containers:
  - {name: hello, image: azsimacr.azurecr.io/hello:v1, imagePullPolicy: Always}
`, "apply", "-f", "-")
	phase := w.waitPhase(t, "default", "hello-vmss", "Succeeded", "Failed")
	ev := w.events("default", "hello-vmss")
	require.Equal(t, "Succeeded", phase, "events:\n%s", ev)
	require.Contains(t, w.logs(t, "default", "hello-vmss"), "Hello from azsim")
	require.Contains(t, ev, `Successfully pulled image "azsimacr.azurecr.io/hello:v1"`)
	t.Logf("pod events:\n%s", ev)
	// The kubelet pulled with the kubelet identity: IMDS → Entra → ACR
	// exchange (unless it reuses the refresh token it cached) → registry.
	var imds, exchange, manifest bool
	for _, d := range w.trace() {
		if d.Service == "imds" && d.Outcome == "allow" && d.Principal == "aks1-agentpool" {
			imds = true
		}
		if strings.HasSuffix(d.Path, "/oauth2/exchange") && d.Outcome == "allow" && d.Principal == "aks1-agentpool" {
			exchange = true
		}
		if strings.Contains(d.Path, "/v2/hello/manifests/") && d.Outcome == "allow" && d.Principal == "aks1-agentpool" {
			manifest = true
		}
	}
	require.True(t, manifest, "the registry served the manifest to aks1-agentpool")
	if !cached {
		require.True(t, imds && exchange, "the simulator saw the node's IMDS call and the ACR exchange as aks1-agentpool")
	}
}

// wiPod renders a pod as the workload-identity webhook would mutate it,
// running azsim's pod-pull client.
func (w *wired) wiPod(ns, name, sa, audience string) string {
	return fmt.Sprintf(`
apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: %[3]s
  namespace: %[1]s
  annotations: {azure.workload.identity/client-id: %[5]s}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: azsim-ca, namespace: %[1]s}
data:
  ca.crt: |
%[8]s
---
apiVersion: v1
kind: Pod
metadata:
  name: %[2]s
  namespace: %[1]s
  labels: {azure.workload.identity/use: "true"}
spec:
  serviceAccountName: %[3]s
  restartPolicy: Never
  containers:
  - name: client
    image: %[7]s
    imagePullPolicy: Never
    args: [kind, pod-pull, azsimacr.azurecr.io/hello:v1]
    env:
    - {name: AZURE_CLIENT_ID, value: %[5]s}
    - {name: AZURE_TENANT_ID, value: %[6]s}
    - {name: AZURE_FEDERATED_TOKEN_FILE, value: /var/run/secrets/azure/tokens/azure-identity-token}
    - {name: AZURE_AUTHORITY_HOST, value: "https://login.microsoftonline.com/"}
    - {name: SSL_CERT_FILE, value: /etc/azsim-ca/ca.crt}
    volumeMounts:
    - {name: azure-identity-token, mountPath: /var/run/secrets/azure/tokens, readOnly: true}
    - {name: ca, mountPath: /etc/azsim-ca, readOnly: true}
  volumes:
  - name: azure-identity-token
    projected:
      sources:
      - serviceAccountToken: {path: azure-identity-token, audience: "%[4]s", expirationSeconds: 3600}
  - name: ca
    configMap: {name: azsim-ca}
`, ns, name, sa, audience, w.clients["app-puller"], w.tenant, kindenv.SimImage, indent(w.caPEM(), "    "))
}

func (w *wired) testFederatedFlow(t *testing.T) {
	logs := w.runClient(t, w.wiPod("default", "wi-pull", "app-puller", "api://AzureADTokenExchange"), "default", "wi-pull", "Succeeded")
	require.Contains(t, logs, "ok   entra")
	require.Contains(t, logs, "ok   exchange")
	require.Contains(t, logs, "pulled sha256:")
}

func (w *wired) testFICAudience(t *testing.T) {
	logs := w.runClient(t, w.wiPod("default", "wi-audience", "app-puller", "api://AzureCRTokenExchange"), "default", "wi-audience", "Failed")
	require.Contains(t, logs, "AADSTS700212: No matching federated identity record found for presented assertion audience 'api://AzureCRTokenExchange'.")
}

func (w *wired) testFICSubject(t *testing.T) {
	logs := w.runClient(t, w.wiPod("payments", "wi-subject", "app-puller", "api://AzureADTokenExchange"), "payments", "wi-subject", "Failed")
	require.Contains(t, logs, "AADSTS700213: No matching federated identity record found for presented assertion subject 'system:serviceaccount:payments:app-puller'.")
}

// testSeveralIdentities: a second identity on the pool's VMSS; a pod asks
// 169.254.169.254 (the node's DNAT to its pool's IMDS) without naming one.
func (w *wired) testSeveralIdentities(t *testing.T) {
	w.changeWorld(t, func(m map[string]any) {
		m["identities"] = append(m["identities"].([]any), map[string]any{"name": "addon-identity", "resourceGroup": "MC_rg-azsim_aks1_eastus"})
		pool := m["clusters"].([]any)[0].(map[string]any)["nodePools"].([]any)[0].(map[string]any)
		pool["identities"] = append(pool["identities"].([]any), "addon-identity")
	})
	manifest := fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: imds-no-selector, namespace: default}
spec:
  restartPolicy: Never
  containers:
  - name: client
    image: %s
    imagePullPolicy: Never
    args: [kind, pod-pull, --imds, azsimacr.azurecr.io/hello:v1]
    env:
    - {name: AZURE_TENANT_ID, value: %s}
`, kindenv.SimImage, w.tenant)
	logs := w.runClient(t, manifest, "default", "imds-no-selector", "Failed")
	require.Contains(t, logs, `"error_description":"Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"`)
	require.Contains(t, logs, "FAIL imds")
}

// testSMIPitfall: AcrPull only on the cluster's system-assigned identity; a
// new pod cannot be pulled and the trace names the kubelet identity.
func (w *wired) testSMIPitfall(t *testing.T) {
	w.changeWorld(t, func(m map[string]any) {
		m["roleAssignments"] = []any{map[string]any{"principal": "aks1", "role": "AcrPull", "scope": "registry/azsimacr"}}
	})
	w.mustKubectl(`
apiVersion: v1
kind: Pod
metadata: {name: hello-smi, namespace: default}
spec:
  restartPolicy: Never
  containers:
  - {name: hello, image: azsimacr.azurecr.io/hello:v1, imagePullPolicy: Always}
`, "apply", "-f", "-")
	var reason string
	require.NoError(t, docker.Poll(w.ctx, 2*time.Minute, func() (bool, string) {
		p := w.pod("default", "hello-smi")
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Waiting != nil {
				reason = cs.State.Waiting.Reason
			}
		}
		return reason == "ErrImagePull" || reason == "ImagePullBackOff", "waiting reason " + reason
	}))
	p := w.pod("default", "hello-smi")
	require.Equal(t, "Pending", p.Status.Phase)
	ev := w.events("default", "hello-smi")
	require.Contains(t, ev, `Warning Failed: Failed to pull image "azsimacr.azurecr.io/hello:v1"`)
	t.Logf("pod waiting (%s); events:\n%s", reason, ev)
	want := "AcrPull is assigned to the cluster's system-assigned identity 'aks1' but the pull used the kubelet identity 'aks1-agentpool'"
	var hint string
	for _, d := range w.trace() {
		if strings.Contains(d.Hint.String(), want) {
			hint = d.Hint.String()
		}
	}
	require.NotEmpty(t, hint, "GET /api/trace must explain the denied pull")
	out, err := w.azsim("trace", "--state-dir", w.stateDir)
	require.NoError(t, err, "%s", out)
	require.Contains(t, out, want, "azsim trace explains it")
	t.Logf("trace hint: %s", hint)
	w.mustKubectl("", "delete", "pod", "hello-smi", "--wait=false")
}

// hostFlow is a flow client on the host that reaches the simulator by the
// real names through its published HTTPS port (the role a controller such
// as acrpull plays).
func (w *wired) hostFlow() *flow.Client {
	roots := x509.NewCertPool()
	require.True(w.t, roots.AppendCertsFromPEM([]byte(w.caPEM())))
	return &flow.Client{HTTP: &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, w.ep.HTTPS)
		}}}}
}
