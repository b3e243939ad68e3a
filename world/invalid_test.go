package world

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden testdata/invalid/*.errors files")

// TestInvalidWorlds compiles every testdata/invalid/*.yaml and compares the
// full list of problems (one per line, each with its path) with the sibling
// .errors file. Run with -update to regenerate the .errors files.
func TestInvalidWorlds(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			got := problemsOf(t, f)
			golden := strings.TrimSuffix(f, ".yaml") + ".errors"
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(strings.Join(got, "\n")+"\n"), 0o644))
				return
			}
			data, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./world -run TestInvalidWorlds -update to create it")
			want := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			assert.Equal(t, want, got)
		})
	}
}

// problemsOf returns the problems reported for a world file, one per line:
// the parse error, or every compile problem.
func problemsOf(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	w, err := Parse(data)
	if err != nil {
		return []string{err.Error()}
	}
	ix, err := Compile(w, t0)
	require.Error(t, err, "an invalid world must not compile")
	assert.Nil(t, ix)
	var joined interface{ Unwrap() []error }
	require.True(t, errors.As(err, &joined), "Compile joins every problem")
	var out []string
	for _, e := range joined.Unwrap() {
		assert.NotContains(t, e.Error(), "\n", "one line per problem")
		out = append(out, e.Error())
	}
	return out
}

// TestInvalidWorldsKeyMessages spells out the messages the design and the
// protocol reference require, independently of the golden files.
func TestInvalidWorldsKeyMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{"header.yaml", []string{
			`apiVersion: must be "azsim.dev/v1alpha1", got "azsim.dev/v1"`,
			`kind: must be "World", got "Universe"`,
			`tenants: at least one tenant is required`,
			`subscriptions: at least one subscription is required`,
		}},
		{"unknown-field.yaml", []string{`parsing world: error unmarshaling JSON: while decoding JSON: json: unknown field "federatedCredential"`}},
		{"duplicates.yaml", []string{
			`tenants[1].name: duplicate name "AZSIM"`,
			`subscriptions[1].name: duplicate name "sub"`,
			`subscriptions[2].name: is required`,
			`resourceGroups[1].name: duplicate name "Rg"`,
			`identities[1].name: duplicate name "App"`,
			`clusters[0].nodePools[1].name: duplicate name "POOL"`,
			`registries[1].name: duplicate name "AzsimAcr"`,
		}},
		{"ids.yaml", []string{
			`tenants[0].id: "azsim-tenant" is not a GUID`,
			`subscriptions[0].id: "1234" is not a GUID`,
			`identities[0].clientId: "00000000-0000-0000-0000-00000000000g" is not a GUID`,
			`clusters[0].oidcIssuer.id: "not-a-guid" is not a GUID`,
			`roleAssignments[0].principal: unknown principal "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz" (an identity, application, cluster, <cluster>/<nodePool> or object ID)`,
		}},
		{"duplicate-ids.yaml", []string{
			`identities[1].clientId: "00000000-0000-4000-8000-000000000001" is already the client ID of "one"`,
		}},
		{"references.yaml", []string{
			`subscriptions[1].tenant: unknown tenant "nosuchtenant"`,
			`identities[1].resourceGroup: unknown resource group "nosuchrg"`,
			`identities[2].resourceGroup: is required`,
			`clusters[0].kubeletIdentity: unknown user-assigned identity "nosuchidentity"`,
			`roleAssignments[1].role: unknown built-in role "AcrPuller"`,
			`roleAssignments[1].scope: unknown registry "nosuchacr"`,
			`roleAssignments[3].scope: unknown resource group "nosuchrg"`,
			`roleAssignments[6].principal: "twin" is ambiguous: 2 principals have that name`,
		}},
		{"fics.yaml", []string{
			`identities[0].federatedCredentials[0].audiences: exactly one audience is required, got 2`,
			`identities[0].federatedCredentials[1].audiences: exactly one audience is required, got 0`,
			`identities[0].federatedCredentials[2].name: "ab" must be 3-120 characters of letters, digits, '-' and '_', starting with a letter or digit`,
			`identities[0].federatedCredentials[6].name: duplicate name "Two-Audiences"`,
			`identities[0].federatedCredentials[7]: issuer and subject combination already exists for this identity ("https://issuer.example", "s1")`,
			`identities[0].federatedCredentials[8].subject: wildcards are not supported`,
			`identities[0].federatedCredentials[9].issuer: "http://issuer.example" must be an https URL`,
			`identities[0].federatedCredentials[10]: set either issuer or cluster, not both`,
			`identities[0].federatedCredentials[11].issuer: is required (or set cluster)`,
			`identities[0].federatedCredentials[12].subject: is required`,
			`identities[0].federatedCredentials[14].subject: must be at most 600 characters, got 601`,
			`identities[1].federatedCredentials: at most 20 federated identity credentials are allowed, got 21`,
			`applications[0].federatedCredentials[1]: issuer and subject combination already exists for this identity ("https://token.actions.githubusercontent.com", "repo:azsim/azsim:ref:refs/heads/main")`,
		}},
		{"registries.yaml", []string{
			`registries[0].name: "acr" must be 5-50 letters and digits`,
			`registries[1].name: "my-registry" must be 5-50 letters and digits`,
			`registries[2].images[0].repository: "Hello" is not a valid repository name`,
			`registries[2].images[3].source: must be hello or random, got "docker.io/library/nginx"`,
			`registries[2].images[4].layers: must be positive for a random image`,
		}},
		{"access.yaml", []string{
			`applications[0].secrets[0].value: is required`,
			`roleAssignments[3].effectiveAfter: must not be negative`,
		}},
		{"registries-collide.yaml", []string{
			`registries[1].loginServer: "firstacr.azurecr.io" is already the login server of registries[0]`,
			`registries[2].loginServer: "login.microsoftonline.com" is the host of Entra ID, which the simulator serves itself`,
			`registries[3].loginServer: "169.254.169.254" is the address of IMDS, which the simulator serves itself`,
			`registries[4].loginServer: "issuer.example.com" is already the OIDC issuer host of clusters[0].oidcIssuer.url`,
		}},
		{"tenants-collide.yaml", []string{
			`tenants[1].domain: "Shared.Example.com" is already the domain of tenants[0]`,
			`subscriptions[1].id: "00000000-0000-4000-8000-000000000001" is already the ID of subscriptions[0]`,
		}},
		{"clusters-collide.yaml", []string{
			`clusters[0].nodePools[0].identities[1]: identity "foreign" (identities[1]) is in tenant "contoso", but clusters[0] is in tenant "azsim"`,
			`clusters[1].oidcIssuer.url: "https://issuer.example.com/shared/" is already the OIDC issuer URL of clusters[0]`,
			`clusters[1].nodePools[0].imdsAddress: "127.0.0.1:8080" is already the IMDS address of clusters[0].nodePools[0]`,
		}},
		{"images.yaml", []string{
			`registries[0].images[0].layerSize: 268435456000 bytes (250 GiB) is more than the limit of 1073741824 bytes (1 GiB) per layer`,
			`registries[0].images[1].layers: 1000000 is more than the limit of 127 layers per image`,
			`registries[1].images[2]: brings the images the world seeds to 8589934593 bytes (8.0 GiB), more than the limit of 8589934592 bytes (8 GiB) per world`,
		}},
		{"cluster.yaml", []string{
			`clusters[0].oidcIssuer.url: "http://issuer.example/" must be an https URL`,
			`clusters[0].nodePools[0].imdsAddress: "8080" is not host:port: address 8080: missing port in address`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got := problemsOf(t, filepath.Join("testdata/invalid", tt.file))
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
		})
	}
}
