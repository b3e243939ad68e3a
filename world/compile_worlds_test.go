package world

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/internal/platform/ids"
)

func checkDefaultWorld(t *testing.T, ix *Index) {
	t.Helper()
	tenantID := ids.Derive("tenant", "azsim")
	subID := ids.Derive("subscription", "azsim-subscription")
	require.Len(t, ix.Tenants, 1)
	assert.Equal(t, tenantID, ix.Tenants[0].ID)
	tn, ok := ix.Tenant("AZSIM.onmicrosoft.com")
	require.True(t, ok)
	assert.Equal(t, tenantID, tn.ID)
	tn, ok = ix.Tenant(strings.ToUpper(tenantID))
	require.True(t, ok)
	assert.Equal(t, "azsim.onmicrosoft.com", tn.Domain)

	aks := cluster(t, ix, "AKS1")
	issuerID := ids.Derive("issuer", subID, "rg-azsim", "aks1")
	assert.Equal(t, "https://eastus.oic.prod-aks.azure.com/"+tenantID+"/"+issuerID+"/", aks.IssuerURL)
	assert.Equal(t, issuerID, aks.OIDCIssuer.ID)
	assert.True(t, aks.IssuerEnabled())
	assert.Equal(t, "MC_rg-azsim_aks1_eastus", aks.NodeResourceGroup)
	assert.Equal(t, "/subscriptions/"+subID+"/resourceGroups/rg-azsim/providers/Microsoft.ContainerService/managedClusters/aks1", aks.ResourceID)
	byIss, ok := ix.ClusterByIssuer(aks.IssuerURL)
	require.True(t, ok)
	assert.Same(t, aks, byIss)
	_, ok = ix.ClusterByIssuer(strings.TrimSuffix(aks.IssuerURL, "/"))
	assert.False(t, ok, "issuer match is exact: the trailing slash matters")

	// System-assigned cluster identity.
	require.NotNil(t, aks.SystemIdentity)
	assert.Same(t, aks.SystemIdentity, aks.ControlPlane)
	assert.Equal(t, KindSystemAssigned, aks.SystemIdentity.Kind)
	assert.Equal(t, ids.Derive("cluster-client", subID, "rg-azsim", "aks1"), aks.SystemIdentity.ClientID)
	assert.Equal(t, "/subscriptions/"+subID+"/resourcegroups/rg-azsim/providers/Microsoft.ContainerService/managedClusters/aks1", aks.SystemIdentity.ResourceID)

	// Kubelet identity in the node resource group, assigned to nodepool1.
	kubelet := principal(t, ix, "aks1-agentpool")
	assert.Same(t, kubelet, aks.Kubelet)
	assert.Equal(t, ids.Derive("identity-client", subID, "MC_rg-azsim_aks1_eastus", "aks1-agentpool"), kubelet.ClientID)
	assert.Equal(t, ids.Derive("identity-principal", subID, "MC_rg-azsim_aks1_eastus", "aks1-agentpool"), kubelet.ObjectID)
	assert.Equal(t, "/subscriptions/"+subID+"/resourcegroups/MC_rg-azsim_aks1_eastus/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks1-agentpool", kubelet.ResourceID)
	assert.Equal(t, tenantID, kubelet.TenantID)
	pool, ok := ix.NodePool("nodepool1")
	require.True(t, ok)
	same, ok := ix.NodePool("AKS1/NodePool1")
	require.True(t, ok)
	assert.Same(t, pool, same)
	assert.Regexp(t, vmssRE, pool.VMSS)
	assert.True(t, strings.HasPrefix(pool.VMSS, "aks-nodepool1-"))
	assert.Equal(t, []*Principal{kubelet}, pool.UserAssigned)
	assert.Nil(t, pool.SystemIdentity)
	assert.Equal(t, "/subscriptions/"+subID+"/resourceGroups/MC_rg-azsim_aks1_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/"+pool.VMSS, pool.VMSSResourceID)
	assert.Len(t, ix.NodePools(), 1)

	// Registry.
	acr := registry(t, ix, "azsimacr.azurecr.io")
	assert.Same(t, acr, registry(t, ix, "AzSimACR"))
	assert.Equal(t, "azsimacr.azurecr.io", acr.LoginServer)
	assert.Equal(t, ModeLegacy, acr.RoleAssignmentMode)
	assert.False(t, acr.ABAC())
	assert.True(t, acr.ArmAudienceAllowed())
	assert.Equal(t, tenantID, acr.TenantID)
	assert.Equal(t, "/subscriptions/"+subID+"/resourceGroups/rg-azsim/providers/Microsoft.ContainerRegistry/registries/azsimacr", acr.ResourceID)
	require.Len(t, acr.Images, 1)
	assert.Equal(t, Image{Repository: "hello", Tag: "v1", Source: "hello"}, acr.Images[0])

	// Workload identity federated with the cluster issuer.
	app := principal(t, ix, "app-puller")
	require.Len(t, app.FederatedCredentials, 1)
	fic := app.FederatedCredentials[0]
	assert.Equal(t, aks.IssuerURL, fic.Issuer)
	assert.Equal(t, "system:serviceaccount:default:app-puller", fic.Subject)
	assert.Equal(t, []string{"api://AzureADTokenExchange"}, fic.Audiences)

	// AcrPull for the kubelet identity and the workload identity.
	require.Len(t, ix.Assignments, 2)
	for i, p := range []*Principal{kubelet, app} {
		a := ix.Assignments[i]
		assert.Same(t, p, a.Principal)
		assert.Equal(t, p.ObjectID, a.PrincipalID)
		assert.Equal(t, "AcrPull", a.Role.Name)
		assert.Equal(t, strings.ToLower(acr.ResourceID), a.Scope)
		assert.True(t, a.EffectiveAt.IsZero(), "an assignment without a delay holds at any time")
	}
	assert.Equal(t, []string{EntraHost, "eastus.oic.prod-aks.azure.com", "azsimacr.azurecr.io"}, ix.Hosts())
}

func checkMultiTenant(t *testing.T, ix *Index) {
	t.Helper()
	contoso := ids.Derive("tenant", "contoso")
	fabrikam := "0a1b2c3d-0000-4000-8000-00000000fab1"
	require.Len(t, ix.Tenants, 2)
	assert.Equal(t, contoso, ix.Tenants[0].ID)
	assert.Equal(t, "contoso.onmicrosoft.com", ix.Tenants[0].Domain)
	assert.Equal(t, fabrikam, ix.Tenants[1].ID, "explicit IDs are kept, lower-cased")
	assert.Equal(t, "fabrikam.onmicrosoft.com", ix.Tenants[1].Domain)
	tn, ok := ix.Tenant("FABRIKAM.onmicrosoft.com")
	require.True(t, ok)
	assert.Equal(t, "fabrikam", tn.Name)
	_, ok = ix.Tenant("nope.onmicrosoft.com")
	assert.False(t, ok)

	assert.Equal(t, "contoso", ix.World.Subscriptions[0].Tenant, "the first tenant is the default")
	assert.Equal(t, ids.Derive("subscription", "contoso-prod"), ix.World.Subscriptions[0].ID)

	capp := principal(t, ix, "contoso-app")
	assert.Equal(t, contoso, capp.TenantID)
	assert.Equal(t, "https://token.actions.githubusercontent.com", capp.FederatedCredentials[0].Issuer)

	fapp := principal(t, ix, "fabrikam-app")
	assert.Equal(t, fabrikam, fapp.TenantID)
	assert.Equal(t, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", fapp.ClientID)
	assert.Equal(t, "99999999-8888-4777-8666-555555555555", fapp.ObjectID)
	assert.Equal(t, "/subscriptions/11111111-2222-4333-8444-555555555555/resourcegroups/rg-fabrikam/providers/Microsoft.ManagedIdentity/userAssignedIdentities/fabrikam-app", fapp.ResourceID)

	dev := cluster(t, ix, "devaks")
	assert.Equal(t, "westeurope", dev.Location, "location comes from the resource group, lower-cased")
	assert.Equal(t, fabrikam, dev.TenantID)
	assert.Equal(t, "MC_rg-fabrikam_devaks_westeurope", dev.NodeResourceGroup)
	assert.Equal(t, "https://westeurope.oic.prod-aks.azure.com/"+fabrikam+"/"+dev.OIDCIssuer.ID+"/", dev.IssuerURL)
	require.Len(t, fapp.FederatedCredentials, 2)
	for _, f := range fapp.FederatedCredentials {
		assert.Equal(t, dev.IssuerURL, f.Issuer)
	}
	assert.Equal(t, []string{"api://AzureCRTokenExchange"}, fapp.FederatedCredentials[1].Audiences)
	assert.Equal(t, dev.SystemIdentity.TenantID, fabrikam)
}

func checkABACRegistry(t *testing.T, ix *Index) {
	t.Helper()
	acr := registry(t, ix, "abacacr")
	assert.True(t, acr.ABAC())
	assert.False(t, acr.ArmAudienceAllowed())
	require.NotNil(t, acr.Tokens)
	assert.Equal(t, RegistryTokens{RefreshTokenLifetime: Duration(8 * time.Hour)}, *acr.Tokens)
	require.NotNil(t, acr.AdminUser)
	assert.True(t, acr.AdminUser.Enabled)
	assert.Equal(t, Image{Repository: "team1/api", Tag: "v2.0.1", Source: "random", Layers: 2, LayerSize: 1024}, acr.Images[1])
	require.Len(t, ix.Assignments, 3)
	assert.Equal(t, "Container Registry Repository Reader", ix.Assignments[0].Role.Name)
	assert.Equal(t, "Container Registry Repository Writer", ix.Assignments[1].Role.Name, "roles may be given by GUID")
	assert.NotEmpty(t, ix.Assignments[0].Condition)
	sub := ix.World.Subscriptions[0].ID
	assert.Equal(t, "/subscriptions/"+sub+"/resourcegroups/rg-acr", ix.Assignments[1].Scope)
}

func checkApplications(t *testing.T, ix *Index) {
	t.Helper()
	tenantID := ids.Derive("tenant", "azsim")
	app := principal(t, ix, "ci-deployer")
	assert.Equal(t, KindApplication, app.Kind)
	assert.False(t, app.IsManagedIdentity())
	assert.Empty(t, app.ResourceID)
	assert.Equal(t, ids.Derive("app-client", tenantID, "ci-deployer"), app.ClientID)
	assert.Equal(t, ids.Derive("app-principal", tenantID, "ci-deployer"), app.ObjectID)
	require.NotNil(t, app.Application)
	require.Len(t, app.Application.Secrets, 1)
	assert.Equal(t, "not-a-real-secret", app.Application.Secrets[0].Value)
	require.NotNil(t, app.Application.Secrets[0].Expires)
	assert.True(t, app.Application.Secrets[0].Expires.Equal(t0))
	require.Len(t, app.Application.Certificates, 1)
	cert, err := ParseCertificatePEM(app.Application.Certificates[0].PEM)
	require.NoError(t, err)
	assert.Equal(t, "azsim-test-app", cert.Subject.CommonName)
	require.Len(t, app.FederatedCredentials, 1)
	require.NotNil(t, app.FederatedCredentials[0].EffectiveAfter)
	assert.True(t, app.FederatedCredentials[0].EffectiveAfter.Equal(t0.Add(5*time.Minute)))

	explicit := principal(t, ix, "explicit-app")
	assert.Equal(t, "3f2504e0-4f89-41d3-9a0c-0305e82c3301", explicit.ClientID)
	assert.Equal(t, "3f2504e0-4f89-41d3-9a0c-0305e82c3302", explicit.ObjectID)

	acr := registry(t, ix, "APPACR.example.test")
	assert.Equal(t, "appacr.example.test", acr.LoginServer)

	require.Len(t, ix.Assignments, 3)
	assert.Same(t, app, ix.Assignments[0].Principal)
	assert.Same(t, explicit, ix.Assignments[1].Principal, "principal by object ID, case-insensitive")
	assert.Equal(t, "AcrPull", ix.Assignments[1].Role.Name, "role by definition resource ID")
	assert.Equal(t, strings.ToLower(acr.ResourceID), ix.Assignments[1].Scope, "registry scope by login server")
	assert.Nil(t, ix.Assignments[2].Principal, "a principal outside the world")
	assert.Equal(t, "01234567-89ab-4cde-8f01-234567890abc", ix.Assignments[2].PrincipalID)
	assert.Equal(t, "/subscriptions/"+ix.World.Subscriptions[0].ID, ix.Assignments[2].Scope)
}

func checkNodePools(t *testing.T, ix *Index) {
	t.Helper()
	subID := ids.Derive("subscription", "sub")
	aks := cluster(t, ix, "aks2")
	assert.False(t, aks.IssuerEnabled())
	_, ok := ix.ClusterByIssuer(aks.IssuerURL)
	assert.False(t, ok, "a disabled issuer is not served")
	assert.Nil(t, aks.SystemIdentity)
	assert.Same(t, principal(t, ix, "control-plane"), aks.ControlPlane)
	assert.Same(t, principal(t, ix, "kubelet"), aks.Kubelet)
	assert.Equal(t, "MC_rg-aks_aks2_westus2", aks.NodeResourceGroup)

	require.Len(t, aks.Pools, 2)
	sys, gpu := aks.Pools[0], aks.Pools[1]
	assert.Regexp(t, `^aks-system-[0-9]{8}-vmss$`, sys.VMSS)
	assert.Equal(t, "aks-gpu-custom-vmss", gpu.VMSS)
	assert.Equal(t, "127.0.0.1:8079", sys.IMDSAddress)
	assert.Equal(t, []*Principal{principal(t, ix, "kubelet"), principal(t, ix, "sidecar")}, sys.UserAssigned)
	for _, p := range aks.Pools {
		require.NotNil(t, p.SystemIdentity)
		assert.Same(t, p.SystemIdentity, principal(t, ix, "aks2/"+p.Name))
		assert.Equal(t, ids.Derive("vmss-client", p.VMSSResourceID), p.SystemIdentity.ClientID)
		assert.Equal(t, ids.Derive("vmss-principal", p.VMSSResourceID), p.SystemIdentity.ObjectID)
		assert.Equal(t, "/subscriptions/"+subID+"/resourcegroups/MC_rg-aks_aks2_westus2/providers/Microsoft.Compute/virtualMachineScaleSets/"+p.VMSS, p.SystemIdentity.ResourceID)
		assert.Equal(t, "westus2", p.Location)
		assert.Equal(t, subID, p.SubscriptionID)
		_, ok := ix.PrincipalByResourceID(p.SystemIdentity.ResourceID)
		assert.False(t, ok, "only user-assigned identities are found by resource ID")
	}

	require.Len(t, ix.Assignments, 4)
	want := []struct{ principal, role, scope string }{
		{"kubelet", "AcrPull", "/subscriptions/" + subID},
		{"aks2/gpu", "AcrPush", "/subscriptions/" + subID + "/resourcegroups/rg-aks"},
		{"control-plane", "Reader", "/subscriptions/" + subID + "/resourcegroups/rg-aks/providers/microsoft.containerregistry/registries/poolacr"},
		{"aks2/system", "AcrPull", "/subscriptions/8c0e0f3c-0000-4000-8000-000000000000/resourcegroups/other"},
	}
	for i, w := range want {
		a := ix.Assignments[i]
		assert.Same(t, principal(t, ix, w.principal), a.Principal, "assignment %d", i)
		assert.Equal(t, w.role, a.Role.Name, "assignment %d", i)
		assert.Equal(t, w.scope, a.Scope, "assignment %d", i)
	}
	assert.Equal(t, t0.Add(5*time.Minute), ix.Assignments[3].EffectiveAt)
}

// TestCompileIsDeterministic compiles every valid world twice, and again
