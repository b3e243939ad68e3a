package world

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/azsim/azsim/internal/platform/ids"
)

// t0 is the simulated time the tests compile worlds at.
var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	issuerRE = regexp.MustCompile(`^https://[a-z0-9]+\.oic\.prod-aks\.azure\.com/[0-9a-f-]{36}/[0-9a-f-]{36}/$`)
	vmssRE   = regexp.MustCompile(`^aks-[a-z0-9]+-[0-9]{8}-vmss$`)
)

// compileFile parses and compiles a world file, failing the test on error.
func compileFile(t *testing.T, path string) *Index {
	t.Helper()
	w, err := Load(path)
	require.NoError(t, err)
	ix, err := Compile(w, t0)
	require.NoError(t, err)
	return ix
}

// principal finds a principal by world name, failing the test when missing.
func principal(t *testing.T, ix *Index, name string) *Principal {
	t.Helper()
	p, ok := ix.PrincipalByName(name)
	require.True(t, ok, "principal %q", name)
	return p
}

func cluster(t *testing.T, ix *Index, name string) *ClusterInfo {
	t.Helper()
	c, ok := ix.Cluster(name)
	require.True(t, ok, "cluster %q", name)
	return c
}

func registry(t *testing.T, ix *Index, name string) *RegistryInfo {
	t.Helper()
	r, ok := ix.Registry(name)
	require.True(t, ok, "registry %q", name)
	return r
}

func TestValidWorlds(t *testing.T) {
	t.Parallel()
	checks := map[string]func(t *testing.T, ix *Index){
		"default.yaml":       checkDefaultWorld,
		"multi-tenant.yaml":  checkMultiTenant,
		"abac-registry.yaml": checkABACRegistry,
		"applications.yaml":  checkApplications,
		"nodepools.yaml":     checkNodePools,
	}
	files, err := filepath.Glob("testdata/valid/*.yaml")
	require.NoError(t, err)
	require.Len(t, files, len(checks), "every valid world has a check")
	for _, f := range files {
		check, ok := checks[filepath.Base(f)]
		require.True(t, ok, "no check for %s", f)
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			ix := compileFile(t, f)
			checkInvariants(t, ix)
			check(t, ix)
		})
	}
}

func TestDefaultWorldIsTheEmbeddedFile(t *testing.T) {
	t.Parallel()
	ix, err := Compile(Default(), t0)
	require.NoError(t, err)
	checkDefaultWorld(t, ix)
	file, err := os.ReadFile("testdata/valid/default.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(DefaultYAML()), string(file), "testdata/valid/default.yaml is a copy of default.yaml")

	b := DefaultYAML()
	b[0] = 'X'
	assert.NotEqual(t, b, DefaultYAML(), "DefaultYAML returns a copy")
}

// checkInvariants holds for every compiled world.
func checkInvariants(t *testing.T, ix *Index) {
	t.Helper()
	for _, p := range ix.Principals {
		assert.True(t, ids.IsGUID(p.ClientID), "%s client ID %q", p.Name, p.ClientID)
		assert.True(t, ids.IsGUID(p.ObjectID), "%s object ID %q", p.Name, p.ObjectID)
		assert.Equal(t, strings.ToLower(p.ClientID), p.ClientID)
		assert.Equal(t, strings.ToLower(p.ObjectID), p.ObjectID)
		got, ok := ix.PrincipalByClientID(strings.ToUpper(p.ClientID))
		assert.True(t, ok)
		assert.Same(t, p, got)
		got, ok = ix.PrincipalByObjectID(strings.ToUpper(p.ObjectID))
		assert.True(t, ok)
		assert.Same(t, p, got)
		if p.Kind == KindUserAssigned {
			got, ok = ix.PrincipalByResourceID(strings.ToUpper(p.ResourceID))
			assert.True(t, ok)
			assert.Same(t, p, got)
		}
		assert.Equal(t, p.Kind != KindApplication, p.IsManagedIdentity())
	}
	for _, c := range ix.Clusters {
		assert.Regexp(t, `^MC_.+_.+_[a-z0-9]+$`, c.NodeResourceGroup)
		assert.Regexp(t, issuerRE, c.IssuerURL)
		for _, p := range c.Pools {
			if p.VMSS != "aks-gpu-custom-vmss" {
				assert.Regexp(t, vmssRE, p.VMSS)
			}
			assert.Equal(t, c.NodeResourceGroup, p.ResourceGroup)
			assert.Same(t, c, p.Cluster)
		}
	}
	for _, r := range ix.Registries {
		assert.Equal(t, strings.ToLower(r.LoginServer), r.LoginServer)
		assert.Contains(t, ix.Hosts(), r.LoginServer)
	}
	assert.Equal(t, EntraHost, ix.Hosts()[0])
	for _, a := range ix.Assignments {
		assert.Equal(t, strings.ToLower(a.Scope), a.Scope)
		assert.True(t, strings.HasPrefix(a.Scope, "/subscriptions/"), a.Scope)
		assert.True(t, ids.IsGUID(a.PrincipalID), a.PrincipalID)
		assert.NotEmpty(t, a.Role.ID)
	}
}

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
// after a YAML round trip of the compiled world, and expects the same IDs.
func TestCompileIsDeterministic(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/valid/*.yaml")
	require.NoError(t, err)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			a, b := compileFile(t, f), compileFile(t, f)
			assert.Equal(t, idsOf(a), idsOf(b))
			assert.Equal(t, a.World, b.World)

			out, err := yaml.Marshal(a.World)
			require.NoError(t, err)
			w, err := Parse(out)
			require.NoError(t, err, "a compiled world parses again")
			c, err := Compile(w, t0)
			require.NoError(t, err, "a compiled world compiles again:\n%s", out)
			assert.Equal(t, idsOf(a), idsOf(c))
			assert.Equal(t, a.World, c.World, "compiling is idempotent")
		})
	}
}

// idsOf lists every identifier a compiled world exposes.
func idsOf(ix *Index) []string {
	var out []string
	for _, tn := range ix.Tenants {
		out = append(out, "tenant "+tn.Name+" "+tn.ID+" "+tn.Domain)
	}
	for _, s := range ix.World.Subscriptions {
		out = append(out, "subscription "+s.Name+" "+s.ID)
	}
	for _, p := range ix.Principals {
		out = append(out, "principal "+p.Name+" "+p.ClientID+" "+p.ObjectID+" "+p.ResourceID)
		for _, f := range p.FederatedCredentials {
			out = append(out, "fic "+f.Name+" "+f.Issuer)
		}
	}
	for _, r := range ix.Registries {
		out = append(out, "registry "+r.Name+" "+r.ResourceID+" "+r.LoginServer)
	}
	for _, c := range ix.Clusters {
		out = append(out, "cluster "+c.Name+" "+c.ResourceID+" "+c.IssuerURL+" "+c.NodeResourceGroup)
		for _, p := range c.Pools {
			out = append(out, "pool "+p.Name+" "+p.VMSSResourceID)
		}
	}
	for _, a := range ix.Assignments {
		out = append(out, "assignment "+a.PrincipalID+" "+a.Role.ID+" "+a.Scope)
	}
	return out
}

func TestCompileDoesNotModifyInput(t *testing.T) {
	t.Parallel()
	w := Default()
	before, err := yaml.Marshal(w)
	require.NoError(t, err)
	_, err = Compile(w, t0)
	require.NoError(t, err)
	after, err := yaml.Marshal(w)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
}

func TestExplicitIDsAreKeptLowerCased(t *testing.T) {
	t.Parallel()
	w := Default()
	w.Tenants[0].ID = "ABCDEF00-0000-4000-8000-000000000001"
	w.Subscriptions[0].ID = "ABCDEF00-0000-4000-8000-000000000002"
	w.Identities[1].ClientID = "ABCDEF00-0000-4000-8000-000000000003"
	w.Identities[1].PrincipalID = "ABCDEF00-0000-4000-8000-000000000004"
	w.Clusters[0].OIDCIssuer.ID = "ABCDEF00-0000-4000-8000-000000000005"
	ix, err := Compile(w, t0)
	require.NoError(t, err)
	assert.Equal(t, "abcdef00-0000-4000-8000-000000000001", ix.Tenants[0].ID)
	assert.Equal(t, "abcdef00-0000-4000-8000-000000000002", ix.World.Subscriptions[0].ID)
	p := principal(t, ix, "app-puller")
	assert.Equal(t, "abcdef00-0000-4000-8000-000000000003", p.ClientID)
	assert.Equal(t, "abcdef00-0000-4000-8000-000000000004", p.ObjectID)
	assert.Equal(t, "/subscriptions/abcdef00-0000-4000-8000-000000000002/resourcegroups/rg-azsim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app-puller", p.ResourceID)
	assert.Equal(t, "https://eastus.oic.prod-aks.azure.com/abcdef00-0000-4000-8000-000000000001/abcdef00-0000-4000-8000-000000000005/", cluster(t, ix, "aks1").IssuerURL)

	// Derived IDs of everything else do not depend on the explicit ones
	// except through the subscription and tenant they belong to.
	d, err := Compile(Default(), t0)
	require.NoError(t, err)
	assert.NotEqual(t, principal(t, d, "app-puller").ClientID, p.ClientID)
}

func TestExplicitIssuerURL(t *testing.T) {
	t.Parallel()
	w := Default()
	w.Clusters[0].OIDCIssuer.URL = "https://oidc.prod-aks.azure.com/legacy-uuid/"
	ix, err := Compile(w, t0)
	require.NoError(t, err)
	aks := cluster(t, ix, "aks1")
	assert.Equal(t, "https://oidc.prod-aks.azure.com/legacy-uuid/", aks.IssuerURL)
	assert.Equal(t, aks.IssuerURL, principal(t, ix, "app-puller").FederatedCredentials[0].Issuer)
	assert.Contains(t, ix.Hosts(), "oidc.prod-aks.azure.com")
}

func TestNodePoolLookup(t *testing.T) {
	t.Parallel()
	w := Default()
	w.Clusters = append(w.Clusters, Cluster{Name: "aks2", ResourceGroup: "rg-azsim", NodePools: []NodePool{{Name: "nodepool1"}, {Name: "other"}}})
	ix, err := Compile(w, t0)
	require.NoError(t, err)
	_, ok := ix.NodePool("nodepool1")
	assert.False(t, ok, "ambiguous unqualified pool name")
	p, ok := ix.NodePool("aks2/nodepool1")
	require.True(t, ok)
	assert.Equal(t, "aks2", p.Cluster.Name)
	p, ok = ix.NodePool("other")
	require.True(t, ok)
	assert.Equal(t, "aks2", p.Cluster.Name)
	_, ok = ix.NodePool("aks3/nodepool1")
	assert.False(t, ok)
	assert.Len(t, ix.NodePools(), 3)
	a, b := ix.Clusters[0].Pools[0].VMSS, ix.Clusters[1].Pools[0].VMSS
	assert.NotEqual(t, a, b, "the VMSS hash depends on the cluster")
}

func TestParse(t *testing.T) {
	t.Parallel()
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		w, err := Parse([]byte(`{"apiVersion":"azsim.dev/v1alpha1","kind":"World","tenants":[{"name":"t"}]}`))
		require.NoError(t, err)
		assert.Equal(t, "t", w.Tenants[0].Name)
	})
	t.Run("too large", func(t *testing.T) {
		t.Parallel()
		_, err := Parse(make([]byte, MaxWorldSize+1))
		require.ErrorContains(t, err, "more than the limit")
	})
	t.Run("unknown field", func(t *testing.T) {
		t.Parallel()
		_, err := Parse([]byte("apiVersion: azsim.dev/v1alpha1\nkind: World\ntenant: []\n"))
		require.ErrorContains(t, err, `unknown field "tenant"`)
	})
	t.Run("duplicate key", func(t *testing.T) {
		t.Parallel()
		_, err := Parse([]byte("kind: World\nkind: World\n"))
		require.Error(t, err)
	})
	t.Run("durations", func(t *testing.T) {
		t.Parallel()
		w, err := Parse([]byte("roleAssignments:\n- {effectiveAfter: 90s}\n- {effectiveAfter: 30}\n"))
		require.NoError(t, err)
		assert.Equal(t, Duration(90*time.Second), w.RoleAssignments[0].EffectiveAfter)
		assert.Equal(t, Duration(30*time.Second), w.RoleAssignments[1].EffectiveAfter)
		_, err = Parse([]byte("roleAssignments:\n- {effectiveAfter: soon}\n"))
		require.ErrorContains(t, err, `invalid duration "soon"`)
		_, err = Parse([]byte("roleAssignments:\n- {effectiveAfter: [1]}\n"))
		require.ErrorContains(t, err, "duration must be a string")
	})
	t.Run("load missing file", func(t *testing.T) {
		t.Parallel()
		_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
		require.ErrorContains(t, err, "loading world")
	})
	t.Run("load invalid file", func(t *testing.T) {
		t.Parallel()
		p := filepath.Join(t.TempDir(), "w.yaml")
		require.NoError(t, os.WriteFile(p, []byte("bogus: 1\n"), 0o600))
		_, err := Load(p)
		require.ErrorContains(t, err, `unknown field "bogus"`)
	})
}

func TestParseCertificatePEM(t *testing.T) {
	t.Parallel()
	_, err := ParseCertificatePEM("")
	require.ErrorContains(t, err, "no PEM CERTIFICATE block found")
	_, err = ParseCertificatePEM("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
	require.ErrorContains(t, err, "no PEM CERTIFICATE block found")
	_, err = ParseCertificatePEM("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	require.ErrorContains(t, err, "parsing certificate")
}
