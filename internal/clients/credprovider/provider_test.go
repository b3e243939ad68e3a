package credprovider_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/clients/credprovider"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
)

// seed is a state directory whose keys every test's simulator shares:
// azidentity caches managed-identity tokens process-wide by client ID, so
// simulators of one test process must sign with the same Entra key.
var seed string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "azsim-credprovider-")
	if err != nil {
		panic(err)
	}
	s, err := sim.New(sim.WithStateDir(dir))
	if err != nil {
		panic(err)
	}
	_ = s
	seed = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func setup(t *testing.T) (*sim.Sim, *http.Client) {
	t.Helper()
	s := simtest.Start(t, nil, sim.WithStateDir(seed))
	return s, s.Client()
}

func request(image string) *credprovider.Request {
	return &credprovider.Request{Kind: "CredentialProviderRequest", APIVersion: credprovider.APIVersion, Image: image}
}

func TestManagedIdentityByClientAndResourceID(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	ix := s.World().Snapshot()
	k, _ := ix.PrincipalByName("aks1-agentpool")
	for _, id := range []string{k.ClientID, k.ResourceID} {
		p := &credprovider.Provider{HTTP: c, Config: &credprovider.Config{TenantID: k.TenantID, UseManagedIdentityExtension: true, UserAssignedIdentityID: id}}
		resp, err := p.Get(context.Background(), request("azsimacr.azurecr.io/hello:v1"))
		require.NoError(t, err, id)
		assert.Equal(t, "CredentialProviderResponse", resp.Kind)
		assert.Equal(t, "Registry", resp.CacheKeyType)
		assert.Equal(t, "1h0m0s", resp.CacheDuration)
		auth := resp.Auth["azsimacr.azurecr.io"]
		assert.Equal(t, credprovider.NullUser, auth.Username)
		assert.Equal(t, 2, strings.Count(auth.Password, "."), "an ACR refresh token")
	}
}

func TestServiceAccountTokenMode(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	puller, _ := s.World().Snapshot().PrincipalByName("app-puller")
	tok, _, err := s.MintServiceAccountToken(api.ServiceAccountTokenRequest{Namespace: "default", ServiceAccount: "app-puller"})
	require.NoError(t, err)
	p := &credprovider.Provider{HTTP: c, Config: &credprovider.Config{TenantID: puller.TenantID, UseManagedIdentityExtension: true}}
	req := request("azsimacr.azurecr.io/hello:v1")
	req.ServiceAccountToken = tok
	_, err = p.Get(context.Background(), req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kubernetes.azure.com/acr-client-id")
	req.ServiceAccountAnnotations = map[string]string{"kubernetes.azure.com/acr-client-id": puller.ClientID}
	resp, err := p.Get(context.Background(), req)
	require.NoError(t, err)
	assert.Equal(t, credprovider.NullUser, resp.Auth["azsimacr.azurecr.io"].Username)
}

func TestNonACRImageAndSecretPassthrough(t *testing.T) {
	t.Parallel()
	p := &credprovider.Provider{Config: &credprovider.Config{TenantID: "t", UseManagedIdentityExtension: true}}
	resp, err := p.Get(context.Background(), request("docker.io/library/busybox"))
	require.NoError(t, err)
	assert.Empty(t, resp.Auth)
	assert.Equal(t, "0s", resp.CacheDuration)
	for _, img := range []string{"my-reg.azurecr.io/x", "azsimacr.azurecr.io:5443/x", "azsimacr.azurecr.io.evil.com/x"} {
		assert.Empty(t, credprovider.LoginServer(img), img)
	}
	assert.Equal(t, "azsimacr.azurecr.io", credprovider.LoginServer("AzsimACR.azurecr.io/hello:v1"))

	p = &credprovider.Provider{Config: &credprovider.Config{TenantID: "t", AADClientID: "app", AADClientSecret: "s"}}
	resp, err = p.Get(context.Background(), request("azsimacr.azurecr.io/hello:v1"))
	require.NoError(t, err)
	assert.Equal(t, credprovider.AuthConfig{Username: "app", Password: "s"}, resp.Auth["*.azurecr.io"])
}

func TestCacheSparesTheRoundTrip(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	k, _ := s.World().Snapshot().PrincipalByName("aks1-agentpool")
	p := &credprovider.Provider{HTTP: c, Cache: &credprovider.Cache{Dir: t.TempDir()},
		Config: &credprovider.Config{TenantID: k.TenantID, UseManagedIdentityExtension: true, UserAssignedIdentityID: k.ClientID}}
	first, err := p.Get(context.Background(), request("azsimacr.azurecr.io/hello:v1"))
	require.NoError(t, err)
	_, err = s.AddFault(api.FaultRule{Service: "imds", Status: 500})
	require.NoError(t, err)
	p2 := *p
	p2.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
	second, err := p2.Get(context.Background(), request("azsimacr.azurecr.io/hello:v2"))
	require.NoError(t, err, "served from the cache although IMDS fails")
	assert.Equal(t, first.Auth, second.Auth)
	assert.Equal(t, "50m0s", second.CacheDuration)
}

func TestErrorsNameTheHop(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	k, _ := s.World().Snapshot().PrincipalByName("aks1-agentpool")
	p := &credprovider.Provider{HTTP: c, Config: &credprovider.Config{TenantID: k.TenantID, UseManagedIdentityExtension: true,
		UserAssignedIdentityID: "00000000-1111-2222-3333-444444444444"}}
	_, err := p.Get(context.Background(), request("azsimacr.azurecr.io/hello:v1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "getting an Entra token for ACR")

	_, err = credprovider.ReadRequest(strings.NewReader(`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","image":"x"}`))
	assert.ErrorContains(t, err, `apiVersion "credentialprovider.kubelet.k8s.io/v1alpha1" is not supported`)
	_, err = credprovider.ReadRequest(strings.NewReader(`{`))
	assert.ErrorContains(t, err, "reading CredentialProviderRequest")
}
