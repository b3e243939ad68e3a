//go:build integration

package kindenv_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/kindenv"
	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/world"
)

// testScenarioCatalogue runs `azsim scenario run --all --target kind` on the
// wired cluster: every scenario passes with the kubelet and pods as the
// clients, the steps a cluster cannot perform are the ones the catalogue
// declares, and a scenario whose expectation is wrong fails there.
func (w *wired) testScenarioCatalogue(t *testing.T) {
	all, err := scenarios.Catalogue()
	require.NoError(t, err)
	notIn := 0
	for _, sc := range all {
		for _, st := range sc.Steps {
			if st.NotIn["kind"] != "" {
				notIn++
			}
		}
	}
	out, err := w.azsim("scenario", "run", "--all", "--target", "kind", "--name", w.cluster(), "--state-dir", w.stateDir)
	t.Logf("azsim scenario run --all --target kind:\n%s", out)
	require.NoError(t, err)
	require.Contains(t, out, fmt.Sprintf("\n%d passed, 0 failed on kind (%d step(s) not applicable there)\n", len(all), notIn))
	// The clients were the kubelet and pods, and the pitfalls were explained.
	assert.Contains(t, out, "by: kubelet of ")
	assert.Contains(t, out, "by: azsim client in pod default/")
	assert.Contains(t, out, "by: kube-apiserver (TokenRequest)")
	assert.Contains(t, out, "diagnosis: AcrPull is assigned to the cluster's system-assigned identity 'aks1' but the pull used the kubelet identity 'aks1-agentpool'")
	assert.Contains(t, out, "failed at imds (400): {\"error\":\"invalid_request\",\"error_description\":\"Multiple user assigned identities exist")
	assert.NotContains(t, out, "UNEXPECTED")

	// The simulator has the kind world back. (It was restarted after the
	// key-rotation scenario, on other host ports: endpoints.json says which.)
	w.reload()
	var got world.World
	require.NoError(t, w.admin.World(w.ctx, &got))
	require.NotEmpty(t, got.RoleAssignments)
	assert.Equal(t, "aks1-agentpool", got.RoleAssignments[0].Principal)
	assert.Len(t, got.Identities, len(world.Default().Identities))

	w.testScenarioWrongExpectation(t, all)
}

// testScenarioWrongExpectation: the SMI pitfall with its expectation
// turned around (the kubelet pull should work, the fix should not) fails
// on kind with the kubelet's real outcome in the problems.
func (w *wired) testScenarioWrongExpectation(t *testing.T, all []*scenarios.Scenario) {
	sc, ok := scenarios.Find(all, "acrpull-on-cluster-identity")
	require.True(t, ok)
	wrong := *sc
	wrong.Steps = append([]scenarios.Step(nil), sc.Steps...)
	wrong.Steps[0].Expect = scenarios.Expect{}
	wrong.Steps[2].Expect = scenarios.Expect{Fail: true, Hop: "pull", Status: 401}
	target, err := kindenv.NewScenarioTarget(w.stateDir, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, target.Close(w.ctx)) })
	rep := scenarios.Run(w.ctx, &wrong, scenarios.RunOptions{Target: target})
	require.NoError(t, rep.Err)
	require.False(t, rep.Pass())
	require.Len(t, rep.Steps, 3)
	first, third := strings.Join(rep.Steps[0].Problems, "; "), strings.Join(rep.Steps[2].Problems, "; ")
	assert.Contains(t, first, "expected success, failed at pull (401): UNAUTHORIZED")
	assert.Contains(t, first, "(kubelet: ")
	assert.Equal(t, "expected a failure, the step succeeded", third)
	assert.Contains(t, rep.Steps[0].By, "kubelet of "+w.cluster())
}

// testScenariosOnWorkers: the kind target on a multi-node cluster. The
// kubelet pull lands on the nodepool1 worker (not the tainted control
// plane), the IMDS pitfall is answered by that worker's pool.
func (m *multiNode) testScenariosOnWorkers(t *testing.T) {
	out, err := m.azsim("scenario", "run", "--target", "kind", "--name", mnName, "--state-dir", m.stateDir,
		"acrpull-on-cluster-identity", "several-identities-no-selector", "workload-identity")
	t.Logf("azsim scenario run --target kind on %s:\n%s", mnName, out)
	require.NoError(t, err)
	require.Contains(t, out, "\n3 passed, 0 failed on kind\n")
	assert.Contains(t, out, "by: kubelet of "+mnName+"-worker (pod default/acrpull-on-cluster-identity-kubelet-")
	assert.Contains(t, out, "by: azsim client in pod default/several-identities-no-selector-imds-")
	assert.Contains(t, out, " on "+mnName+"-worker\n")
	assert.NotContains(t, out, "on "+mnName+"-control-plane")
	m.reload()
}
