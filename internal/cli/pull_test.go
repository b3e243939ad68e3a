package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/world"
)

func TestPullBothFlowsAgainstRunningSimulator(t *testing.T) {
	t.Parallel()
	dir, _ := startUp(t)
	code, out, errs := run(t, "pull", "--state-dir", dir, "--node-pool", "nodepool1", "azsimacr.azurecr.io/hello:v1")
	require.Equal(t, ExitOK, code, errs)
	assert.Contains(t, out, "as node pool aks1/nodepool1 (kubelet identity aks1-agentpool")
	for _, hop := range []string{"ok   imds", "ok   challenge", "ok   exchange", "ok   token", "ok   pull", "pulled sha256:"} {
		assert.Contains(t, out, hop)
	}
	code, out, errs = run(t, "pull", "--state-dir", dir, "--service-account", "default/app-puller", "azsimacr.azurecr.io/hello:v1")
	require.Equal(t, ExitOK, code, errs)
	assert.Contains(t, out, "ok   entra")
	assert.Contains(t, out, "pulled sha256:")

	code, _, errs = run(t, "pull", "--state-dir", dir, "azsimacr.azurecr.io/hello:v1")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errs, "set exactly one of --node-pool or --service-account")
	code, _, errs = run(t, "pull", "--state-dir", dir, "--service-account", "default/nobody", "azsimacr.azurecr.io/hello:v1")
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errs, "no identity has a federated credential")
}

func TestPullReportsTheFailingHop(t *testing.T) {
	t.Parallel()
	w := world.Default()
	w.RoleAssignments = []world.RoleAssignment{{Principal: "aks1", Role: "AcrPull", Scope: "registry/azsimacr"}}
	cfg := filepath.Join(t.TempDir(), "world.yaml")
	require.NoError(t, os.WriteFile(cfg, mustYAML(t, w), 0o644))
	dir, _ := startUp(t, "--config", cfg)
	code, out, errs := run(t, "pull", "--state-dir", dir, "--node-pool", "nodepool1", "azsimacr.azurecr.io/hello:v1")
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, out, "FAIL pull")
	assert.Contains(t, out, "UNAUTHORIZED")
	assert.Contains(t, errs, `pull failed at hop "pull" (status 401)`)
}

func TestScenarioCommands(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "scenario", "list")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "acrpull-on-cluster-identity")
	code, out, _ = run(t, "scenario", "show", "fic-audience-mismatch")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "Fix: ")
	code, out, errs := run(t, "scenario", "run", "--all")
	require.Equal(t, ExitOK, code, errs)
	assert.Contains(t, out, "diagnosis: AcrPull is assigned to the cluster's system-assigned identity 'aks1'")
	assert.Regexp(t, `\n\d+ passed, 0 failed on embedded\n`, out)
	code, _, errs = run(t, "scenario", "show", "nope")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errs, `unknown scenario "nope"`)
	code, _, _ = run(t, "scenario", "run")
	assert.Equal(t, ExitUsage, code)
	code, _, errs = run(t, "scenario", "run", "--all", "--target", "cloud")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errs, `--target "cloud": want embedded or kind`)
	// kind needs the state of `azsim kind up`.
	code, _, errs = run(t, "scenario", "run", "--all", "--target", "kind", "--state-dir", t.TempDir())
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errs, "no wired kind cluster in")
	assert.Contains(t, errs, "run `azsim kind up` first")
}
