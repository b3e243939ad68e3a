//go:build linux

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/world"
)

// craneScript gets an ACR refresh token for identity $1 inside the
// namespace (IMDS, then /oauth2/exchange) and has crane log in with
// 00000000-0000-0000-0000-000000000000 and inspect and copy hello:v1.
const craneScript = `set -e
tok=$(curl -sS -H Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://containerregistry.azure.net&client_id=$1" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
refresh=$(curl -sS -X POST https://azsimacr.azurecr.io/oauth2/exchange -d grant_type=access_token -d service=azsimacr.azurecr.io --data-urlencode "access_token=$tok" | sed -E 's/.*"refresh_token":"([^"]+)".*/\1/')
crane auth login azsimacr.azurecr.io -u 00000000-0000-0000-0000-000000000000 -p "$refresh" 2>/dev/null
crane manifest azsimacr.azurecr.io/hello:v1
echo
crane pull azsimacr.azurecr.io/hello:v1 "$HOME/hello.tar"
echo "copied $(wc -c < "$HOME/hello.tar") bytes"
`

func TestExecCraneWithACRRefreshToken(t *testing.T) {
	t.Parallel()
	needCurl(t)
	w := world.Default()
	w.Identities = append(w.Identities, world.Identity{Name: "no-acrpull", ResourceGroup: "MC_rg-azsim_aks1_eastus"})
	w.Clusters[0].NodePools[0].Identities = append(w.Clusters[0].NodePools[0].Identities, "no-acrpull")
	ix, err := world.Compile(w, world.NewSimClock().Now())
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "azsim-exec-crane-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	cfg := filepath.Join(dir, "world.yaml")
	require.NoError(t, os.WriteFile(cfg, mustYAML(t, ix.World), 0o644))
	script := filepath.Join(dir, "crane.sh")
	require.NoError(t, os.WriteFile(script, []byte(craneScript), 0o644))
	kubelet, _ := ix.PrincipalByName("aks1-agentpool")
	other, _ := ix.PrincipalByName("no-acrpull")
	for _, u := range users(t) {
		out, errs, code := azsimExec(t, u, "--config", cfg, "--", "sh", script, kubelet.ClientID)
		require.Equal(t, 0, code, "%s: %s", u.name, errs)
		assert.Contains(t, out, `"schemaVersion":2`, u.name)
		assert.Contains(t, out, "copied ", u.name)

		out, errs, code = azsimExec(t, u, "--config", cfg, "--", "sh", script, other.ClientID)
		assert.NotEqual(t, 0, code, "%s: an identity without AcrPull must be denied: %s", u.name, out)
		assert.Contains(t, errs, "UNAUTHORIZED", u.name)
		assert.Contains(t, errs, "no-acrpull has no role that grants pull on azsimacr/hello", "the failure prints the diagnosis")
		assert.False(t, strings.Contains(out, "copied"), u.name)
	}
}

func TestExecExitStatusTraceAndBadInput(t *testing.T) {
	t.Parallel()
	u := users(t)[0]
	traceFile := filepath.Join(t.TempDir(), "trace.json")
	_, _, code := azsimExec(t, u, "--trace", traceFile, "--", "sh", "-c", "exit 7")
	assert.Equal(t, 7, code)
	b, err := os.ReadFile(traceFile)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(strings.TrimSpace(string(b)), "["), string(b))

	_, errs, code := azsimExec(t, u, "--node-pool", "nope", "--", "true")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errs, `--node-pool: unknown node pool "nope"`)
	_, errs, code = azsimExec(t, u, "--env-from-service-account", "nonsense", "--", "true")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errs, `"nonsense": want NAMESPACE/NAME`)
	_, errs, code = azsimExec(t, u, "--", "/no/such/program")
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errs, "starting /no/such/program")
}

func TestNamespaceErrorSaysWhatToDo(t *testing.T) {
	t.Parallel()
	for _, errno := range []error{syscall.EPERM, syscall.EINVAL, syscall.ENOSPC, syscall.EACCES} {
		err := namespaceError(&os.SyscallError{Syscall: "clone", Err: errno})
		assert.Contains(t, err.Error(), "does not let", errno)
		assert.Contains(t, err.Error(), "run azsim exec as root", errno)
		assert.Contains(t, err.Error(), "`azsim up` with `azsim env`", errno)
	}
	assert.Contains(t, namespaceError(os.ErrNotExist).Error(), "starting the namespaced simulator")
}
