package cli

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConformanceAgainstRunningSimulator: `azsim up`, then `azsim
// conformance run --state-dir` passes every case, none Disabled, and writes
// the three reports.
func TestConformanceAgainstRunningSimulator(t *testing.T) {
	t.Parallel()
	dir, _ := startUp(t)
	out := t.TempDir()
	junit, md, js := filepath.Join(out, "junit.xml"), filepath.Join(out, "summary.md"), filepath.Join(out, "results.json")
	code, stdout, errs := run(t, "conformance", "run", "--suite", "providers", "--state-dir", dir, "--junit", junit, "--report", md, "--json", js)
	require.Equal(t, ExitOK, code, "%s\n%s", stdout, errs)
	assert.Contains(t, stdout, "providers: PASS")
	assert.NotContains(t, stdout, "disabled")

	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
	}
	b, err := os.ReadFile(junit)
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(b, &doc))
	assert.Greater(t, doc.Tests, 50)
	assert.Equal(t, []int{0, 0, 0}, []int{doc.Failures, doc.Errors, doc.Skipped})
	b, err = os.ReadFile(md)
	require.NoError(t, err)
	assert.Contains(t, string(b), "## ✅ azsim conformance: providers passed")
	b, err = os.ReadFile(js)
	require.NoError(t, err)
	var res struct {
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal(b, &res))
	assert.Equal(t, "pass", res.Status)
}

// TestConformanceOwnSimulatorAndFilter: without a target the command starts
// its own simulator; the filter selects cases.
func TestConformanceOwnSimulatorAndFilter(t *testing.T) {
	t.Parallel()
	code, stdout, errs := run(t, "conformance", "run", "--filter", "providers/imds/token,**/fic/audience-*")
	require.Equal(t, ExitOK, code, "%s\n%s", stdout, errs)
	assert.Contains(t, errs, "started a simulator for the run")
	assert.Contains(t, stdout, "audience-mismatch")
	assert.Contains(t, stdout, "metadata-header-missing")
	assert.NotContains(t, stdout, "acr")
	assert.Contains(t, stdout, "(10 pass)")
}

// TestConformanceTargetFile: a target file without the admin API runs with
// the admin cases Disabled; a target that is wrong fails with exit 1.
func TestConformanceTargetFile(t *testing.T) {
	t.Parallel()
	_, ep := startUp(t)
	target := func(tenant string) string {
		y := "tenantId: " + tenant + "\ncaFile: " + ep.CAFile + "\nentra: {authority: https://login.microsoftonline.com}\n" +
			"resolve: {login.microsoftonline.com: \"" + ep.HTTPS + "\"}\n"
		p := filepath.Join(t.TempDir(), "target.yaml")
		require.NoError(t, os.WriteFile(p, []byte(y), 0o600))
		return p
	}
	code, stdout, errs := run(t, "conformance", "run", "--target", target(ep.TenantID), "--filter", "providers/entra")
	require.Equal(t, ExitOK, code, "%s\n%s", stdout, errs)
	assert.Contains(t, stdout, "disabled audience-mismatch: target does not declare admin, federated-identity")

	code, stdout, errs = run(t, "conformance", "run", "--target", target("00000000-0000-4000-8000-00000000beef"), "--filter", "providers/entra/discovery/document")
	assert.Equal(t, ExitFailed, code, stdout)
	assert.Contains(t, stdout, "fail")
	assert.Contains(t, errs, "conformance: 1 failed, 0 errored")
}

func TestConformanceUsageErrors(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "target.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("entra: {authority: http://x}\n"), 0o600))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"conformance", "run", "--suite", "clients"}, `--driver "": want credential-provider, exec or acrpullbinding`},
		{[]string{"conformance", "run", "--suite", "nope"}, `--suite "nope": want providers or clients`},
		{[]string{"conformance", "run", "--driver", "exec"}, "--driver applies to the clients suite only"},
		{[]string{"conformance", "run", "--target", bad}, "tenantId: is required"},
		{[]string{"conformance", "run", "--target", filepath.Join(t.TempDir(), "missing.yaml")}, "reading target"},
	} {
		code, _, errs := run(t, tc.args...)
		assert.Equal(t, ExitUsage, code, "%v: %s", tc.args, errs)
		assert.Contains(t, errs, tc.want, strings.Join(tc.args, " "))
	}
	code, _, errs := run(t, "conformance", "run", "--state-dir", t.TempDir())
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errs, "no running simulator found")
}
