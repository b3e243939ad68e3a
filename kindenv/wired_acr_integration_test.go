//go:build integration

package kindenv_test

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/kindenv"
	"github.com/azsim/azsim/kindenv/internal/docker"
)

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
		_, err := w.admin.SetClock(w.ctx, time.Now().UTC().Truncate(time.Second))
		require.NoError(t, err)
	})
	w.mustKubectl("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: acr-puller, namespace: default}\n", "apply", "-f", "-")
	w.acrSecret(t)
	w.runClient(t, w.secretPod("acrpull-1"), "default", "acrpull-1", "Succeeded")
	require.Contains(t, w.logs(t, "default", "acrpull-1"), "Hello from azsim")

	now, err := w.admin.AdvanceClock(w.ctx, 4*time.Hour)
	require.NoError(t, err)
	t.Logf("simulated clock advanced to %s", now.Format(time.RFC3339Nano))
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
