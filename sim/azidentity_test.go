package sim_test

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
)

func clientOptions(s *sim.Sim) azcore.ClientOptions {
	return azcore.ClientOptions{Transport: s.Client(), Retry: policy.RetryOptions{MaxRetries: -1}}
}

func getToken(t *testing.T, cred azcore.TokenCredential, scope string) (string, error) {
	t.Helper()
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{scope}})
	return tok.Token, err
}

// TestAzidentityCredentials proves the fake with real, unmodified azidentity
// credentials, with instance discovery disabled and enabled (the fake is
// login.microsoftonline.com, so discovery reaches it too).
func TestAzidentityCredentials(t *testing.T) {
	t.Parallel()
	cert, key, certPEM := newCert(t)
	s := simtest.Start(t, testWorld(t, certPEM))
	tid := tenantID(s)
	app := principal(t, s, "ci-app")
	puller := principal(t, s, "app-puller")
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(saToken(t, s, "default", "app-puller")), 0o600))

	for _, disable := range []bool{true, false} {
		creds := map[string]func() (azcore.TokenCredential, error){
			"ClientSecretCredential": func() (azcore.TokenCredential, error) {
				return azidentity.NewClientSecretCredential(tid, app.ClientID, "s3cr3t-value",
					&azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: disable})
			},
			"ClientCertificateCredential": func() (azcore.TokenCredential, error) {
				return azidentity.NewClientCertificateCredential(tid, app.ClientID, []*x509.Certificate{cert}, key,
					&azidentity.ClientCertificateCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: disable})
			},
			"ClientAssertionCredential": func() (azcore.TokenCredential, error) {
				return azidentity.NewClientAssertionCredential(tid, puller.ClientID,
					func(context.Context) (string, error) { return saToken(t, s, "default", "app-puller"), nil },
					&azidentity.ClientAssertionCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: disable})
			},
			"WorkloadIdentityCredential": func() (azcore.TokenCredential, error) {
				return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
					ClientOptions: clientOptions(s), DisableInstanceDiscovery: disable,
					TenantID: tid, ClientID: puller.ClientID, TokenFilePath: tokenFile})
			},
		}
		for name, mk := range creds {
			cred, err := mk()
			require.NoError(t, err, name)
			tok, err := getToken(t, cred, "https://containerregistry.azure.net/.default")
			require.NoError(t, err, "%s (DisableInstanceDiscovery=%v)", name, disable)
			c := claims(t, tok)
			want := app
			acr := "1"
			if name == "ClientAssertionCredential" || name == "WorkloadIdentityCredential" {
				want = puller
			}
			if name != "ClientSecretCredential" {
				acr = "2"
			}
			assert.Equal(t, "https://containerregistry.azure.net", c["aud"], name)
			assert.Equal(t, "https://sts.windows.net/"+tid+"/", c["iss"], name)
			assert.Equal(t, tid, c["tid"], name)
			assert.Equal(t, want.ObjectID, c["oid"], name)
			assert.Equal(t, want.ObjectID, c["sub"], name)
			assert.Equal(t, want.ClientID, c["appid"], name)
			assert.Equal(t, acr, c["appidacr"], name)
			assert.Equal(t, "app", c["idtyp"], name)
			assert.Equal(t, "1.0", c["ver"], name)
			assert.NotEmpty(t, c["uti"], name)
			if want == puller {
				assert.Equal(t, puller.ResourceID, c["xms_mirid"], name)
			} else {
				assert.NotContains(t, c, "xms_mirid", name)
			}
		}
	}
}

// TestAzidentityARMScope covers the "//.default" ARM scope azcore sends.
func TestAzidentityARMScope(t *testing.T) {
	t.Parallel()
	_, _, certPEM := newCert(t)
	s := simtest.Start(t, testWorld(t, certPEM))
	app := principal(t, s, "ci-app")
	cred, err := azidentity.NewClientSecretCredential(tenantID(s), app.ClientID, "s3cr3t-value",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(s)})
	require.NoError(t, err)
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{
		Scopes: []string{"https://management.core.windows.net//.default"}, EnableCAE: true})
	require.NoError(t, err)
	assert.Equal(t, "https://management.core.windows.net/", claims(t, tok.Token)["aud"])
}
