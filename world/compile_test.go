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
