//go:build linux

package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Plugins for the clients suite, written as shell scripts around curl.
const (
	// fetch gets an Entra token from IMDS ($1: query suffix) and an ACR
	// refresh token for it.
	fetchTokens = `tok=$(curl -sS -f -H Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://containerregistry.azure.net$1" | sed -E 's/.*"access_token":"([^"]+)".*/\1/') || exit 1
refresh=$(curl -sS -f -X POST https://azsimacr.azurecr.io/oauth2/exchange -d grant_type=access_token -d service=azsimacr.azurecr.io --data-urlencode "access_token=$tok" | sed -E 's/.*"refresh_token":"([^"]+)".*/\1/') || exit 1
`
	respond = `printf '{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","cacheDuration":"5m0s","auth":{"azsimacr.azurecr.io":{"username":"00000000-0000-0000-0000-000000000000","password":"%s"}}}' "$PASSWORD"
`
	// noSelector never names the identity.
	noSelectorPlugin = "#!/bin/sh\ncat >/dev/null\nset -- ''\n" + fetchTokens + "PASSWORD=$refresh\n" + respond
	// aadTokenPlugin returns the Entra token instead of the ACR refresh token.
	aadTokenPlugin = "#!/bin/sh\ncat >/dev/null\nid=$(sed -E 's/.*\"userAssignedIdentityID\":\"([^\"]+)\".*/\\1/' \"$1\")\nset -- \"&client_id=$id\"\n" + fetchTokens + "PASSWORD=$tok\n" + respond
	// execPlugin prints a Docker config JSON for the exec driver.
	execPlugin = "#!/bin/sh\nset -- \"&client_id=$AZURE_CLIENT_ID\"\n" + fetchTokens +
		`printf '{"auths":{"%s":{"username":"00000000-0000-0000-0000-000000000000","password":"%s"}}}' "$AZSIM_REGISTRY" "$refresh"` + "\n"
)

func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o755))
	return p
}

func runClients(t *testing.T, args ...string) (string, int) {
	t.Helper()
	bin := binaries(t)
	cmd := exec.Command(filepath.Join(bin, "azsim"), append([]string{"conformance", "run", "--suite", "clients"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	require.NoError(t, err)
	return out.String(), 0
}

func TestClientsSuite(t *testing.T) {
	t.Parallel()
	needCurl(t)
	bin := binaries(t)
	dir := t.TempDir()
	junit := filepath.Join(dir, "junit.xml")

	out, code := runClients(t, "--driver", "credential-provider", "--plugin", filepath.Join(bin, "azsim"), "--plugin-arg", "credential-provider", "--junit", junit)
	require.Equal(t, 0, code, "azsim credential-provider passes the clients suite in full:\n%s", out)
	assert.Contains(t, out, "(7 pass)")
	b, err := os.ReadFile(junit)
	require.NoError(t, err)
	assert.Contains(t, string(b), `<testsuite`)

	out, code = runClients(t, "--driver", "exec", "--plugin", writeScript(t, dir, "exec-plugin", execPlugin))
	require.Equal(t, 0, code, "a correct exec plugin passes:\n%s", out)

	out, code = runClients(t, "--driver", "credential-provider", "--plugin", writeScript(t, dir, "no-selector", noSelectorPlugin))
	assert.Equal(t, ExitFailed, code)
	assert.Regexp(t, `✗ fail\s+several-identities-no-selector`, out, "a plugin that sends no selector fails where the VMSS has several identities")
	assert.Regexp(t, `✓ pass\s+kubelet-acrpull`, out, "and passes where there is one")

	out, code = runClients(t, "--driver", "credential-provider", "--plugin", writeScript(t, dir, "aad-token", aadTokenPlugin))
	assert.Equal(t, ExitFailed, code)
	for _, id := range []string{"kubelet-acrpull", "several-identities-no-selector", "acr-refresh-token-expiry"} {
		assert.Regexp(t, `✗ fail\s+`+id, out, "returning the Entra token instead of the ACR refresh token fails %s", id)
	}
	assert.Regexp(t, `✓ pass\s+acrpull-on-cluster-identity`, out)
	assert.False(t, strings.Contains(out, "error "), "no harness errors:\n%s", out)
}

func TestClientsSuiteBadUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"conformance", "run", "--suite", "clients", "--driver", "nope", "--plugin", "/bin/true"}, `--driver "nope"`},
		{[]string{"conformance", "run", "--suite", "clients", "--driver", "exec"}, "--plugin is required"},
		{[]string{"conformance", "run", "--suite", "clients", "--driver", "exec", "--plugin", "/no/such"}, "--plugin: stat /no/such"},
		{[]string{"conformance", "run", "--suite", "clients", "--driver", "acrpullbinding"}, "--install is required"},
	} {
		code, _, errs := run(t, tc.args...)
		assert.Equal(t, ExitUsage, code, tc.args)
		assert.Contains(t, errs, tc.want)
	}
}
