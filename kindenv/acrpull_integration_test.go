//go:build integration

package kindenv_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/conformance"
	"github.com/azsim/azsim/internal/platform/ociimage"
	"github.com/azsim/azsim/kindenv/internal/kindcluster"
)

const (
	apbFixture = "../conformance/testdata/acrpull-controller"
	apbImage   = "azsim-fixture/acrpull-controller:v1"
)

// testAcrPullBindingDriver proves the conformance driver acrpullbinding on
// the wired cluster: the reference AcrPullBinding controller (a test
// fixture) passes every case, and its deliberately wrong variants fail the
// cases that must catch them.
func (w *wired) testAcrPullBindingDriver(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "acrpull-controller")
	build := exec.CommandContext(w.ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, apbFixture)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	img, err := ociimage.BuildFromFile(bin)
	require.NoError(t, err)
	require.NoError(t, kindcluster.LoadImage(w.ctx, wiredName, img, apbImage))
	crd, err := os.ReadFile(filepath.Join(apbFixture, "crd.yaml"))
	require.NoError(t, err)
	tmpl, err := os.ReadFile(filepath.Join(apbFixture, "install.yaml"))
	require.NoError(t, err)
	target, err := conformance.TargetFromEndpoints(w.ctx, api.Endpoints{HTTPS: w.ep.HTTPS, Admin: w.ep.Admin, IMDS: w.ep.IMDS,
		CAFile: w.ep.CAFile, TenantID: w.ep.TenantID, Hosts: w.ep.Hosts}, w.token)
	require.NoError(t, err)
	kubectl := []string{"docker", "exec", "-i", wiredName + "-control-plane", "kubectl", "--kubeconfig=/etc/kubernetes/admin.conf"}

	run := func(t *testing.T, name, ns, filter string, args ...string) *conformance.Report {
		argv, _ := json.Marshal(append([]string{}, args...))
		manifest := strings.NewReplacer("NAME", name, "IMAGE", apbImage, "ARGS", string(argv),
			"\nCA\n", "\n"+indent(w.caPEM(), "    ")+"\n").Replace(string(tmpl))
		file := filepath.Join(dir, name+".yaml")
		require.NoError(t, os.WriteFile(file, append(append(crd, "\n---\n"...), manifest...), 0o644))
		k := strings.Join(kubectl, " ")
		cfg := conformance.AcrPullBindingConfig{
			Install:   k + " apply -f - < " + file + " && " + k + " rollout status -n acrpull-system deployment/" + name + " --timeout=120s",
			Uninstall: k + " delete deployment -n acrpull-system " + name + " --wait && " + k + " wait --for=delete pod -n acrpull-system -l app=" + name + " --timeout=60s",
			Kubectl:   kubectl, Namespace: ns, Target: target,
		}
		start := time.Now()
		rep := conformance.Run(w.ctx, conformance.AcrPullBindingSuite(cfg), conformance.Options{Filter: conformance.ParseFilter(filter), CaseTimeout: 4 * time.Minute})
		var b bytes.Buffer
		require.NoError(t, rep.WriteConsole(&b, true))
		t.Logf("%s (%s):\n%s", name, time.Since(start).Round(time.Second), b.String())
		if logs, err := w.kubectl("", "logs", "-n", "acrpull-system", "deployment/"+name, "--tail", "30"); err == nil {
			t.Logf("controller log:\n%s", logs)
		}
		return rep
	}
	status := func(rep *conformance.Report, id string) conformance.Status {
		r := rep.Root.Find("clients/acrpullbinding/" + id)
		require.NotNil(t, r, id)
		return r.Status
	}

	t.Run("reference", func(t *testing.T) {
		rep := run(t, "apb-reference", "apb-ref", "")
		require.Len(t, rep.Cases(), 8)
		require.True(t, rep.OK(), "the reference controller must pass: failed %v, errored %v", rep.WithStatus(conformance.Fail), rep.WithStatus(conformance.Error))
	})
	t.Run("wrong-audience", func(t *testing.T) {
		rep := run(t, "apb-wrong-audience", "apb-wrong-aud", "clients/acrpullbinding/workload-identity/ok,clients/acrpullbinding/workload-identity/wrong-audience",
			"-wrong=audience")
		require.Equal(t, conformance.Fail, status(rep, "workload-identity/ok"))
		require.Equal(t, conformance.Fail, status(rep, "workload-identity/wrong-audience"))
	})
	t.Run("entra-token-in-secret", func(t *testing.T) {
		rep := run(t, "apb-entra-token", "apb-wrong-entra", "clients/acrpullbinding/workload-identity/ok", "-wrong=entra-token")
		require.Equal(t, conformance.Fail, status(rep, "workload-identity/ok"))
	})
}
