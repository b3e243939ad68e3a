package world

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Conditions as written in protocols.md 4.2.
const (
	condNginx = `((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'nginx'))`
	condTeam1 = `((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWithIgnoreCase 'team1/'))`
	// condTeam1All restricts reads and writes to team1/.
	condTeam1All = `((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/write'}) AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/write'})) OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWithIgnoreCase 'team1/'))`
)

var (
	read  = []string{ActionMetadataRead, ActionPull}
	write = []string{ActionMetadataRead, ActionMetadataWrite, ActionPull, ActionPush}
	all   = []string{ActionDelete, ActionMetadataRead, ActionMetadataWrite, ActionPull, ActionPush}
)

// rbacWorld has registries in two resource groups whose names share a
// prefix, and two registries whose names share a prefix, to catch scope
// checks that compare prefixes without a separator.
func rbacWorld(assignments ...RoleAssignment) *World {
	return &World{
		APIVersion: APIVersion, Kind: KindWorld,
		Tenants:        []Tenant{{Name: "azsim"}},
		Subscriptions:  []Subscription{{Name: "sub"}, {Name: "sub2"}},
		ResourceGroups: []ResourceGroup{{Name: "rg-acr"}, {Name: "rg-acr2"}, {Name: "rg-sub2", Subscription: "sub2"}},
		Identities:     []Identity{{Name: "p", ResourceGroup: "rg-acr"}, {Name: "other", ResourceGroup: "rg-acr"}},
		Registries: []Registry{
			{Name: "legacyacr", ResourceGroup: "rg-acr"},
			{Name: "legacyacr2", ResourceGroup: "rg-acr"},
			{Name: "abacacr", ResourceGroup: "rg-acr", RoleAssignmentMode: ModeABAC},
			{Name: "otheracr", ResourceGroup: "rg-acr2"},
			{Name: "sub2acr", ResourceGroup: "rg-sub2"},
		},
		RoleAssignments: assignments,
	}
}

func TestRepositoryActions(t *testing.T) {
	t.Parallel()
	type grant struct {
		registry, repo string
		at             time.Duration // after t0
		want           []string
		catalog        bool
	}
	tests := []struct {
		name   string
		assign []RoleAssignment
		checks []grant
	}{
		// Legacy (RBAC-only) registries.
		{"AcrPull grants pull and metadata_read", []RoleAssignment{{Principal: "p", Role: "AcrPull", Scope: "registry/legacyacr"}},
			[]grant{{registry: "legacyacr", repo: "hello", want: read}, {registry: "legacyacr", repo: "any/thing", want: read}}},
		{"AcrPush adds push", []RoleAssignment{{Principal: "p", Role: "AcrPush", Scope: "registry/legacyacr"}},
			[]grant{{registry: "legacyacr", repo: "hello", want: write}}},
		{"AcrDelete grants delete only", []RoleAssignment{{Principal: "p", Role: "AcrDelete", Scope: "registry/legacyacr"}},
			[]grant{{registry: "legacyacr", repo: "hello", want: []string{ActionDelete}}}},
		{"Reader grants pull", []RoleAssignment{{Principal: "p", Role: "Reader", Scope: "registry/legacyacr"}},
			[]grant{{registry: "legacyacr", repo: "hello", want: read}}},
		{"Owner grants everything and the catalog", []RoleAssignment{{Principal: "p", Role: "Owner", Scope: "registry/legacyacr"}},
			[]grant{{registry: "legacyacr", repo: "hello", want: all, catalog: true}}},
		{"Contributor grants everything and the catalog", []RoleAssignment{{Principal: "p", Role: "b24988ac-6180-42a0-ab88-20f7382dd24c", Scope: "registry/legacyacr"}},
			[]grant{{registry: "legacyacr", repo: "hello", want: all, catalog: true}}},
		{"roles add up", []RoleAssignment{
			{Principal: "p", Role: "AcrPull", Scope: "registry/legacyacr"},
			{Principal: "p", Role: "AcrDelete", Scope: "registry/legacyacr"},
		}, []grant{{registry: "legacyacr", repo: "hello", want: []string{ActionDelete, ActionMetadataRead, ActionPull}}}},
		{"repository roles grant nothing in legacy mode", []RoleAssignment{
			{Principal: "p", Role: "Container Registry Repository Contributor", Scope: "registry/legacyacr"},
			{Principal: "p", Role: "Container Registry Repository Catalog Lister", Scope: "registry/legacyacr"},
		}, []grant{{registry: "legacyacr", repo: "hello"}}},
		{"data importer reads and lists in both modes", []RoleAssignment{{Principal: "p", Role: "Container Registry Data Importer and Data Reader", Scope: "resourceGroup/rg-acr"}},
			[]grant{{registry: "legacyacr", repo: "hello", want: read, catalog: true}, {registry: "abacacr", repo: "hello", want: read, catalog: true}}},
		{"control-plane roles grant nothing", []RoleAssignment{
			{Principal: "p", Role: "User Access Administrator", Scope: "subscription/sub"},
			{Principal: "p", Role: "Container Registry Contributor and Data Access Configuration Administrator", Scope: "subscription/sub"},
		}, []grant{{registry: "legacyacr", repo: "hello"}, {registry: "abacacr", repo: "hello"}}},
		{"conditions do not apply in legacy mode", []RoleAssignment{{Principal: "p", Role: "AcrPull", Scope: "registry/legacyacr", Condition: condNginx}},
			[]grant{{registry: "legacyacr", repo: "other", want: read}}},

		// Scope inheritance.
		{"subscription scope covers its registries", []RoleAssignment{{Principal: "p", Role: "AcrPull", Scope: "subscription/sub"}},
			[]grant{{registry: "legacyacr", repo: "hello", want: read}, {registry: "otheracr", repo: "hello", want: read}, {registry: "sub2acr", repo: "hello"}}},
		{"resource group scope covers its registries only", []RoleAssignment{{Principal: "p", Role: "AcrPull", Scope: "resourceGroup/rg-acr"}},
			[]grant{{registry: "legacyacr", repo: "hello", want: read}, {registry: "legacyacr2", repo: "hello", want: read}, {registry: "otheracr", repo: "hello"}}},
		{"resource group not containing the registry", []RoleAssignment{{Principal: "p", Role: "Owner", Scope: "resourceGroup/rg-acr2"}},
			[]grant{{registry: "legacyacr", repo: "hello"}, {registry: "otheracr", repo: "hello", want: all, catalog: true}}},
		{"registry scope covers that registry only", []RoleAssignment{{Principal: "p", Role: "AcrPull", Scope: "registry/legacyacr"}},
			[]grant{{registry: "legacyacr2", repo: "hello"}, {registry: "otheracr", repo: "hello"}}},
		{"scope below the registry does not grant the registry", []RoleAssignment{{Principal: "p", Role: "AcrPull", Scope: "/subscriptions/" + subID("sub") + "/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/legacyacr/scopeMaps/x"}},
			[]grant{{registry: "legacyacr", repo: "hello"}}},
		{"ARM ID scopes are case-insensitive", []RoleAssignment{{Principal: "p", Role: "AcrPull", Scope: "/SUBSCRIPTIONS/" + strings.ToUpper(subID("sub")) + "/RESOURCEGROUPS/RG-ACR/"}},
			[]grant{{registry: "legacyacr", repo: "hello", want: read}}},
		{"another principal's assignment does not count", []RoleAssignment{{Principal: "other", Role: "Owner", Scope: "subscription/sub"}},
			[]grant{{registry: "legacyacr", repo: "hello"}}},

		// ABAC registries (protocols.md 4.2).
		{"ABAC ignores AcrPull, AcrPush, AcrDelete, Owner, Contributor and Reader", []RoleAssignment{
			{Principal: "p", Role: "AcrPull", Scope: "registry/abacacr"},
			{Principal: "p", Role: "AcrPush", Scope: "registry/abacacr"},
			{Principal: "p", Role: "AcrDelete", Scope: "registry/abacacr"},
			{Principal: "p", Role: "Owner", Scope: "registry/abacacr"},
			{Principal: "p", Role: "Contributor", Scope: "subscription/sub"},
			{Principal: "p", Role: "Reader", Scope: "resourceGroup/rg-acr"},
		}, []grant{{registry: "abacacr", repo: "hello"}, {registry: "legacyacr", repo: "hello", want: all, catalog: true}}},
		{"repository reader without condition is registry-wide", []RoleAssignment{{Principal: "p", Role: "Container Registry Repository Reader", Scope: "registry/abacacr"}},
			[]grant{{registry: "abacacr", repo: "hello", want: read}, {registry: "abacacr", repo: "team1/api", want: read}}},
		{"repository writer", []RoleAssignment{{Principal: "p", Role: "Container Registry Repository Writer", Scope: "subscription/sub"}},
			[]grant{{registry: "abacacr", repo: "hello", want: write}}},
		{"repository contributor", []RoleAssignment{{Principal: "p", Role: "Container Registry Repository Contributor", Scope: "resourceGroup/rg-acr"}},
			[]grant{{registry: "abacacr", repo: "hello", want: all}}},
		{"catalog lister", []RoleAssignment{{Principal: "p", Role: "Container Registry Repository Catalog Lister", Scope: "registry/abacacr"}},
			[]grant{{registry: "abacacr", repo: "hello", catalog: true}}},
		{"StringEqualsIgnoreCase condition", []RoleAssignment{{Principal: "p", Role: "Container Registry Repository Reader", Scope: "registry/abacacr", Condition: condNginx}},
			[]grant{
				{registry: "abacacr", repo: "nginx", want: read},
				{registry: "abacacr", repo: "NGINX", want: read},
				{registry: "abacacr", repo: "nginx2"},
				{registry: "abacacr", repo: "library/nginx"},
			}},
		{"StringStartsWithIgnoreCase condition", []RoleAssignment{{Principal: "p", Role: "Container Registry Repository Reader", Scope: "registry/abacacr", Condition: condTeam1}},
			[]grant{
				{registry: "abacacr", repo: "team1/api", want: read},
				{registry: "abacacr", repo: "Team1/web/frontend", want: read},
				{registry: "abacacr", repo: "team1"},
				{registry: "abacacr", repo: "team2/api"},
			}},
		{"condition restricts only the actions it names", []RoleAssignment{{Principal: "p", Role: "Container Registry Repository Contributor", Scope: "registry/abacacr", Condition: condTeam1}},
			[]grant{
				{registry: "abacacr", repo: "team1/api", want: all},
				{registry: "abacacr", repo: "team2/api", want: []string{ActionDelete, ActionMetadataWrite, ActionPush}},
			}},
		{"delete needs both delete data actions", []RoleAssignment{{Principal: "p", Role: "Container Registry Repository Contributor", Scope: "registry/abacacr",
			Condition: `!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/delete'}) OR @Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEquals 'scratch'`}},
			[]grant{
				{registry: "abacacr", repo: "scratch", want: all},
				{registry: "abacacr", repo: "hello", want: write},
			}},
		{"conditional and unconditional assignments add up", []RoleAssignment{
			{Principal: "p", Role: "Container Registry Repository Writer", Scope: "registry/abacacr", Condition: condTeam1All},
			{Principal: "p", Role: "Container Registry Repository Reader", Scope: "registry/abacacr"},
		}, []grant{
			{registry: "abacacr", repo: "team1/api", want: write},
			{registry: "abacacr", repo: "team2/api", want: read},
		}},

		// Propagation delay on the simulated clock.
		{"effectiveAfter delays the assignment", []RoleAssignment{
			{Principal: "p", Role: "AcrPull", Scope: "registry/legacyacr", EffectiveAfter: Duration(5 * time.Minute)},
			{Principal: "p", Role: "Owner", Scope: "registry/legacyacr2", EffectiveAfter: Duration(time.Hour)},
		}, []grant{
			{registry: "legacyacr", repo: "hello"},
			{registry: "legacyacr", repo: "hello", at: 5*time.Minute - time.Nanosecond},
			{registry: "legacyacr", repo: "hello", at: 5 * time.Minute, want: read},
			{registry: "legacyacr2", repo: "hello", at: 59 * time.Minute},
			{registry: "legacyacr2", repo: "hello", at: time.Hour, want: all, catalog: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ix, err := Compile(rbacWorld(tt.assign...), t0)
			require.NoError(t, err)
			p := principal(t, ix, "p")
			for _, c := range tt.checks {
				reg := registry(t, ix, c.registry)
				now := t0.Add(c.at)
				g := ix.RepositoryActions(p.ObjectID, reg, c.repo, now)
				assert.Equal(t, c.want, g.Allowed, "%s %s at +%v: %q", c.registry, c.repo, c.at, g.Considered(reg))
				assert.Equal(t, c.catalog, ix.CatalogAllowed(p.ObjectID, reg, now), "catalog of %s at +%v", c.registry, c.at)
				// Principal IDs are compared case-insensitively.
				assert.Equal(t, g, ix.RepositoryActions(strings.ToUpper(p.ObjectID), reg, c.repo, now))
				assert.Equal(t, c.catalog, ix.CatalogAllowed(strings.ToUpper(p.ObjectID), reg, now))
			}
		})
	}
}

func subID(name string) string {
	ix, err := Compile(rbacWorld(), t0)
	if err != nil {
		panic(err)
	}
	for _, s := range ix.World.Subscriptions {
		if s.Name == name {
			return s.ID
		}
	}
	panic("no subscription " + name)
}

func TestRepositoryActionsExplains(t *testing.T) {
	t.Parallel()
	ix, err := Compile(rbacWorld(
		RoleAssignment{Principal: "p", Role: "AcrPull", Scope: "registry/otheracr"},
		RoleAssignment{Principal: "p", Role: "AcrPull", Scope: "registry/abacacr"},
		RoleAssignment{Principal: "p", Role: "Container Registry Repository Reader", Scope: "registry/abacacr", EffectiveAfter: Duration(time.Minute)},
		RoleAssignment{Principal: "p", Role: "Container Registry Repository Writer", Scope: "resourceGroup/rg-acr"},
	), t0)
	require.NoError(t, err)
	p := principal(t, ix, "p")
	abac := registry(t, ix, "abacacr")
	g := ix.RepositoryActions(p.ObjectID, abac, "hello", t0)
	assert.Equal(t, write, g.Allowed)
	require.Len(t, g.Checks, 4)
	assert.Equal(t, []CheckResult{CheckOutOfScope, CheckNoDataAccess, CheckNotYetEffective, CheckApplies},
		[]CheckResult{g.Checks[0].Result, g.Checks[1].Result, g.Checks[2].Result, g.Checks[3].Result})
	lines := g.Considered(abac)
	assert.Contains(t, lines[0], "AcrPull at ")
	assert.Contains(t, lines[0], "scope does not contain registry abacacr")
	assert.Contains(t, lines[1], "grants no data-plane access in AbacRepositoryPermissions mode")
	assert.Contains(t, lines[2], "not yet effective (propagation delay until 2030-01-01T00:01:00Z)")
	assert.Contains(t, lines[3], "Container Registry Repository Writer at /subscriptions/")
	assert.Contains(t, lines[3], ": applies")
	assert.ElementsMatch(t, write, g.Checks[3].Granted)

	none := ix.RepositoryActions("00000000-0000-4000-8000-000000000000", registry(t, ix, "abacacr"), "hello", t0)
	assert.Empty(t, none.Allowed)
	assert.Empty(t, none.Checks)
}

// TestOutsidePrincipal checks that an assignment to an object ID that is not
// in the world (for example a principal created elsewhere) still counts.
func TestOutsidePrincipal(t *testing.T) {
	t.Parallel()
	const oid = "0a0b0c0d-0000-4000-8000-000000000001"
	ix, err := Compile(rbacWorld(RoleAssignment{Principal: strings.ToUpper(oid), Role: "acrpush", Scope: "registry/legacyacr"}), t0)
	require.NoError(t, err)
	assert.Equal(t, write, ix.RepositoryActions(oid, registry(t, ix, "legacyacr"), "x", t0).Allowed)
}

func TestLookupRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"AcrPull", "AcrPull"},
		{"acrpull", "AcrPull"},
		{"7F951DDA-4ED3-4680-A7CA-43FE172D538D", "AcrPull"},
		{"/providers/Microsoft.Authorization/roleDefinitions/8311e382-0749-4cb8-b61a-304f252e45ec", "AcrPush"},
		{"/subscriptions/x/providers/Microsoft.Authorization/RoleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader"},
		{"container registry repository reader", "Container Registry Repository Reader"},
		{"Owner", "Owner"},
		{"", ""},
		{"Acr", ""},
		{"registry/AcrPull", ""},
	}
	for _, tt := range tests {
		r, ok := LookupRole(tt.in)
		assert.Equal(t, tt.want != "", ok, tt.in)
		assert.Equal(t, tt.want, r.Name, tt.in)
	}
	seen := map[string]bool{}
	for _, r := range BuiltinRoles {
		assert.False(t, seen[r.ID], "duplicate role ID %s", r.ID)
		seen[r.ID] = true
		got, ok := LookupRole(r.ID)
		assert.True(t, ok)
		assert.Equal(t, r.Name, got.Name)
	}
}
