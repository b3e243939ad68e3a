//go:build integration

package kindenv_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/kindenv/internal/docker"
)

// testMissingImage: the kubelet pulling a tag the registry does not have
// reports the registry's "not found", not a TLS error from containerd's
// fallback to the registry's server entry.
func (w *wired) testMissingImage(t *testing.T) {
	w.mustKubectl(`
apiVersion: v1
kind: Pod
metadata: {name: hello-missing, namespace: default}
spec:
  restartPolicy: Never
  containers:
  - {name: hello, image: "azsimacr.azurecr.io/hello:missing", imagePullPolicy: Always}
`, "apply", "-f", "-")
	t.Cleanup(func() { _, _ = w.kubectl("", "delete", "pod", "hello-missing", "--wait=false") })
	var ev string
	require.NoError(t, docker.Poll(w.ctx, 2*time.Minute, func() (bool, string) {
		ev = w.events("default", "hello-missing")
		return strings.Contains(ev, "Failed to pull image"), ev
	}))
	t.Logf("events:\n%s", ev)
	assert.Contains(t, ev, "not found")
	assert.NotContains(t, ev, "x509")
}
