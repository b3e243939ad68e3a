//go:build integration

package kindenv_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/internal/platform/jwtx"
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
	tenant   string
	clients  map[string]string // identity → client ID
	world    []byte            // the world as `kind up` started it
}

// TestIntegrationWiredCluster runs `azsim kind up` (a static azsim built
// from this tree) and proves, on real cluster state (pod phase, events,
// logs), the flows of issue 8: the kubelet pulls from fakeacr through the
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
	var ids []world.Identity
	w.admin(http.MethodGet, "/api/world/identities", nil, &ids)
	w.clients = map[string]string{}
	for _, id := range ids {
		w.clients[id.Name] = id.ClientID
	}
	w.world = w.adminRaw(http.MethodGet, "/api/world", nil)
}

// cluster is the kind cluster's name.
func (w *wired) cluster() string {
	if w.name != "" {
		return w.name
	}
	return wiredName
}

func (w *wired) azsim(args ...string) (string, error) {
	cmd := exec.CommandContext(w.ctx, w.bin, args...)
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (w *wired) kubectl(stdin string, args ...string) (string, error) {
	a := []string{"exec"}
	if stdin != "" {
		a = append(a, "-i")
	}
	a = append(a, w.cluster()+"-control-plane", "kubectl", "--kubeconfig=/etc/kubernetes/admin.conf")
	cmd := exec.CommandContext(w.ctx, "docker", append(a, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func (w *wired) mustKubectl(stdin string, args ...string) string {
	w.t.Helper()
	out, err := w.kubectl(stdin, args...)
	require.NoError(w.t, err)
	return out
}

func (w *wired) adminRaw(method, path string, body []byte) []byte {
	w.t.Helper()
	req, err := http.NewRequestWithContext(w.ctx, method, "http://"+w.ep.Admin+path, bytes.NewReader(body))
	require.NoError(w.t, err)
	req.Header.Set("Authorization", "Bearer "+w.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(w.t, err)
	require.Equal(w.t, http.StatusOK, resp.StatusCode, "%s %s: %s", method, path, b)
	return b
}

func (w *wired) admin(method, path string, in, out any) {
	w.t.Helper()
	var body []byte
	if in != nil {
		var err error
		body, err = json.Marshal(in)
		require.NoError(w.t, err)
	}
	require.NoError(w.t, json.Unmarshal(w.adminRaw(method, path, body), out))
}

// changeWorld PUTs the world edited by f and restores the original when the
// (sub)test ends.
func (w *wired) changeWorld(t *testing.T, f func(m map[string]any)) {
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.world, &m))
	f(m)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	w.adminRaw(http.MethodPut, "/api/world", b)
	t.Cleanup(func() { w.adminRaw(http.MethodPut, "/api/world", w.world) })
}

// trace returns the simulator's recorded decisions.
func (w *wired) trace() []api.Decision {
	var ds []api.Decision
	w.admin(http.MethodGet, "/api/trace", nil, &ds)
	return ds
}

type podStatus struct {
	Status struct {
		Phase             string
		ContainerStatuses []struct {
			State struct {
				Waiting *struct{ Reason, Message string }
			}
		}
	}
}

func (w *wired) pod(ns, name string) podStatus {
	var p podStatus
	out, err := w.kubectl("", "get", "pod", "-n", ns, name, "-o", "json")
	if err == nil {
		_ = json.Unmarshal([]byte(out), &p)
	}
	return p
}

// waitPhase waits until the pod reaches one of the phases and returns it.
func (w *wired) waitPhase(t *testing.T, ns, name string, phases ...string) string {
	t.Helper()
	var got string
	require.NoError(t, docker.Poll(w.ctx, 2*time.Minute, func() (bool, string) {
		got = w.pod(ns, name).Status.Phase
		for _, p := range phases {
			if got == p {
				return true, ""
			}
		}
		return false, fmt.Sprintf("pod %s/%s is %q, want %v", ns, name, got, phases)
	}))
	return got
}

func (w *wired) logs(t *testing.T, ns, name string) string {
	t.Helper()
	return w.mustKubectl("", "logs", "-n", ns, name)
}

func (w *wired) events(ns, name string) string {
	out, _ := w.kubectl("", "get", "events", "-n", ns, "--field-selector", "involvedObject.name="+name,
		"-o", `jsonpath={range .items[*]}{.type} {.reason}: {.message}{"\n"}{end}`)
	return out
}

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

func (w *wired) caPEM() string {
	b, err := os.ReadFile(w.ep.CAFile)
	require.NoError(w.t, err)
	return strings.TrimSpace(string(b))
}

func indent(s, p string) string { return p + strings.ReplaceAll(s, "\n", "\n"+p) }

func (w *wired) runClient(t *testing.T, manifest, ns, name, wantPhase string) string {
	t.Helper()
	w.mustKubectl(manifest, "apply", "-f", "-")
	phase := w.waitPhase(t, ns, name, "Succeeded", "Failed")
	logs := w.logs(t, ns, name)
	t.Logf("pod %s/%s %s; log:\n%s", ns, name, phase, logs)
	require.Equal(t, wantPhase, phase)
	return logs
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

// acrSecret does what an acrpull-style controller does: a service-account
// token with audience api://AzureCRTokenExchange from the cluster's
// TokenRequest API, the Entra exchange, the ACR exchange, and a
// dockerconfigjson pull secret with the ACR refresh token.
func (w *wired) acrSecret(t *testing.T) {
	t.Helper()
	tok := strings.TrimSpace(w.mustKubectl("", "create", "token", "acr-puller", "--audience", "api://AzureCRTokenExchange", "--duration", "24h"))
	res := w.hostFlow().Federated(w.ctx, w.tenant, w.clients["app-puller"], tok, "azsimacr.azurecr.io/hello:v1")
	h, bad := res.Failed()
	require.False(t, bad, "exchange failed at %s: %s", h.Name, h.Detail)
	require.NotEmpty(t, res.RefreshToken)
	secret := w.mustKubectl("", "create", "secret", "docker-registry", "acr-pull", "--docker-server=azsimacr.azurecr.io",
		"--docker-username=00000000-0000-0000-0000-000000000000", "--docker-password="+res.RefreshToken, "--dry-run=client", "-o", "yaml")
	w.mustKubectl(secret, "apply", "-f", "-")
}

func (w *wired) secretPod(name string) string {
	return fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: default}
spec:
  restartPolicy: Never
  imagePullSecrets: [{name: acr-pull}]
  containers:
  - {name: hello, image: azsimacr.azurecr.io/hello:v1, imagePullPolicy: Always}
`, name)
}

// waitPullFailure waits until the pod's container waits in ErrImagePull or
// ImagePullBackOff and returns its events.
func (w *wired) waitPullFailure(t *testing.T, name string) string {
	t.Helper()
	var reason string
	require.NoError(t, docker.Poll(w.ctx, 2*time.Minute, func() (bool, string) {
		p := w.pod("default", name)
		require.NotEqual(t, "Succeeded", p.Status.Phase, "the pull must fail")
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Waiting != nil {
				reason = cs.State.Waiting.Reason
			}
		}
		return reason == "ErrImagePull" || reason == "ImagePullBackOff", "waiting reason " + reason
	}))
	ev := w.events("default", name)
	require.Contains(t, ev, `Warning Failed: Failed to pull image "azsimacr.azurecr.io/hello:v1"`)
	return ev
}

// testAcrPullStyle: the kubelet identity has no AcrPull (so only the pull
// secret can work); a secret made from an api://AzureCRTokenExchange token
// lets a pod pull; past the ACR refresh token's expiry on the simulated
// clock a new pod cannot pull until the secret is refreshed.
func (w *wired) testAcrPullStyle(t *testing.T) {
	w.changeWorld(t, func(m map[string]any) {
		m["roleAssignments"] = []any{map[string]any{"principal": "app-puller", "role": "AcrPull", "scope": "registry/azsimacr"}}
		for _, id := range m["identities"].([]any) {
			id := id.(map[string]any)
			if id["name"] == "app-puller" {
				// The controller's service account, federated for its
				// audience (one audience per credential, one credential
				// per issuer and subject, as Entra).
				id["federatedCredentials"] = append(id["federatedCredentials"].([]any), map[string]any{
					"name": "acr-puller-aks1", "cluster": "aks1", "subject": "system:serviceaccount:default:acr-puller",
					"audiences": []any{"api://AzureCRTokenExchange"}})
			}
		}
	})
	t.Cleanup(func() {
		var c struct{ Now string }
		w.admin(http.MethodPost, "/api/clock", map[string]string{"set": time.Now().UTC().Format(time.RFC3339)}, &c)
	})
	w.mustKubectl("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: acr-puller, namespace: default}\n", "apply", "-f", "-")
	w.acrSecret(t)
	w.runClient(t, w.secretPod("acrpull-1"), "default", "acrpull-1", "Succeeded")
	require.Contains(t, w.logs(t, "default", "acrpull-1"), "Hello from azsim")

	var c struct{ Now string }
	w.admin(http.MethodPost, "/api/clock", map[string]string{"advance": "4h"}, &c)
	t.Logf("simulated clock advanced to %s", c.Now)
	w.mustKubectl(w.secretPod("acrpull-2"), "apply", "-f", "-")
	ev := w.waitPullFailure(t, "acrpull-2")
	t.Logf("after expiry, events:\n%s", ev)
	var expired bool
	for _, d := range w.trace() {
		if strings.HasSuffix(d.Path, "/oauth2/token") && d.Outcome != "allow" && strings.Contains(strings.ToLower(d.Reason+d.Error), "expire") {
			expired = true
		}
	}
	require.True(t, expired, "the simulator refused the expired refresh token at /oauth2/token")

	w.acrSecret(t) // refreshed
	w.runClient(t, w.secretPod("acrpull-3"), "default", "acrpull-3", "Succeeded")
	w.mustKubectl("", "delete", "pod", "acrpull-2", "--wait=false")
}

// testKindLoad: `azsim kind load` puts an engine image into the node.
func (w *wired) testKindLoad(t *testing.T) {
	const img = "azsim-e2e/loaded:v1"
	out, err := exec.CommandContext(w.ctx, "docker", "tag", kindenv.SimImage, img).CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", img).Run() })
	s, err := w.azsim("kind", "load", "--name", wiredName, img)
	require.NoError(t, err, "%s", s)
	t.Log(strings.TrimSpace(s))
	w.runClient(t, `
apiVersion: v1
kind: Pod
metadata: {name: loaded, namespace: default}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: `+img+`, imagePullPolicy: Never, args: [scenario, list]}
`, "default", "loaded", "Succeeded")
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
