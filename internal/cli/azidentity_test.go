package cli

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/world"
)

// TestWorkloadIdentityWithTokenFromCLI: a token file written by `azsim token
// sa` works with azidentity's WorkloadIdentityCredential against `azsim up`,
// with instance discovery on and off.
func TestWorkloadIdentityWithTokenFromCLI(t *testing.T) {
	t.Parallel()
	dir, ep := startUp(t)
	code, out, errs := run(t, "token", "sa", "--state-dir", dir, "--namespace", "default", "--service-account", "app-puller")
	require.Equal(t, ExitOK, code, errs)
	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte(strings.TrimSpace(out)), 0o600))
	ix, err := world.Compile(world.Default(), world.NewSimClock().Now())
	require.NoError(t, err)
	puller, _ := ix.PrincipalByName("app-puller")
	client := &http.Client{Transport: &http.Transport{DialContext: dialTo(ep.HTTPS),
		TLSClientConfig: &tls.Config{RootCAs: mustPool(t, filepath.Join(dir, "ca.crt"))}}}
	for _, disable := range []bool{true, false} {
		cred, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: azcore.ClientOptions{Transport: client, Retry: policy.RetryOptions{MaxRetries: -1}},
			ClientID:      puller.ClientID, TenantID: ep.TenantID, TokenFilePath: file, DisableInstanceDiscovery: disable})
		require.NoError(t, err)
		tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://containerregistry.azure.net/.default"}})
		require.NoError(t, err, "DisableInstanceDiscovery=%v", disable)
		assert.Equal(t, 2, strings.Count(tok.Token, "."))
	}
}

// TestTraceCommand shows the decisions of a running simulator, with the
// diagnosis of a denial.
func TestTraceCommand(t *testing.T) {
	t.Parallel()
	w := world.Default()
	w.RoleAssignments = []world.RoleAssignment{{Principal: "aks1", Role: "AcrPull", Scope: "registry/azsimacr"}}
	cfg := filepath.Join(t.TempDir(), "world.yaml")
	require.NoError(t, os.WriteFile(cfg, mustYAML(t, w), 0o644))
	dir, _ := startUp(t, "--config", cfg)
	code, _, _ := run(t, "pull", "--state-dir", dir, "--node-pool", "nodepool1", "azsimacr.azurecr.io/hello:v1")
	require.Equal(t, ExitFailed, code)
	code, out, errs := run(t, "trace", "--state-dir", dir)
	require.Equal(t, ExitOK, code, errs)
	assert.Contains(t, out, "imds     allow 200 GET")
	assert.Contains(t, out, "diagnosis: AcrPull is assigned to the cluster's system-assigned identity 'aks1'")
	code, out, _ = run(t, "trace", "--state-dir", dir, "--json")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, `"service":"acr"`)
}
