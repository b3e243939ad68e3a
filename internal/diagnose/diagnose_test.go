package diagnose

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/world"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// testWorld is an estate with one principal per pitfall.
const testWorld = `
apiVersion: azsim.dev/v1alpha1
kind: World
tenants:
  - name: azsim
subscriptions:
  - name: sub
resourceGroups:
  - name: rg-azsim
    location: eastus
  - name: rg-other
    location: eastus
  - name: MC_rg-azsim_aks1_eastus
    location: eastus
  - name: MC_rg-azsim_aks2_eastus
    location: eastus
identities:
  - name: aks1-agentpool
    resourceGroup: MC_rg-azsim_aks1_eastus
  - name: addon
    resourceGroup: MC_rg-azsim_aks1_eastus
  - name: aks2-agentpool
    resourceGroup: MC_rg-azsim_aks2_eastus
  - name: aks2-cp
    resourceGroup: rg-azsim
  - name: stranger
    resourceGroup: rg-azsim
  - name: app-puller
    resourceGroup: rg-azsim
    federatedCredentials:
      - name: app-puller-one
        issuer: https://issuer.example.com/one/
        subject: system:serviceaccount:default:app-puller
        audiences: ["api://AzureADTokenExchange"]
      - name: app-puller-one-b
        issuer: https://issuer.example.com/one/
        subject: system:serviceaccount:batch:app-puller
        audiences: ["api://Custom"]
      - name: app-puller-two
        issuer: https://issuer.example.com/two
        subject: system:serviceaccount:default:app-puller
        audiences: ["api://AzureADTokenExchange"]
  - name: nofic
    resourceGroup: rg-azsim
  - name: allowed
    resourceGroup: rg-azsim
  - name: wrongreg
    resourceGroup: rg-azsim
  - name: wrongrg
    resourceGroup: rg-azsim
  - name: abacpull
    resourceGroup: rg-azsim
  - name: conditional
    resourceGroup: rg-azsim
  - name: late
    resourceGroup: rg-azsim
  - name: nobody
    resourceGroup: rg-azsim
registries:
  - name: azsimacr
    resourceGroup: rg-azsim
    images:
      - repository: hello
        tag: v1
  - name: otheracr
    resourceGroup: rg-other
  - name: abacacr
    resourceGroup: rg-azsim
    roleAssignmentMode: AbacRepositoryPermissions
  - name: armoffacr
    resourceGroup: rg-azsim
    authenticationAsArm: false
roleAssignments:
  - principal: aks1
    role: AcrPull
    scope: registry/azsimacr
  - principal: aks2-cp
    role: AcrPush
    scope: resourceGroup/rg-azsim
  - principal: allowed
    role: AcrPull
    scope: registry/azsimacr
  - principal: wrongreg
    role: AcrPull
    scope: registry/otheracr
  - principal: wrongrg
    role: AcrPull
    scope: resourceGroup/rg-other
  - principal: abacpull
    role: AcrPull
    scope: registry/abacacr
  - principal: conditional
    role: Container Registry Repository Reader
    scope: registry/abacacr
    condition: >-
      ((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'})
      AND !(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'}))
      OR (@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWith 'team-a/'))
  - principal: late
    role: AcrPull
    scope: registry/azsimacr
    effectiveAfter: 10m
  - principal: aks2-agentpool
    role: Managed Identity Operator
    scope: resourceGroup/MC_rg-azsim_aks2_eastus
  - principal: aks2-agentpool
    role: Virtual Machine Contributor
    scope: subscription/sub
clusters:
  - name: aks1
    resourceGroup: rg-azsim
    location: eastus
    kubeletIdentity: aks1-agentpool
    nodePools:
      - name: nodepool1
        identities: [aks1-agentpool, addon]
      - name: bare
      - name: single
        identities: [aks1-agentpool]
  - name: aks2
    resourceGroup: rg-azsim
    location: eastus
    identity:
      type: UserAssigned
      userAssigned: aks2-cp
    kubeletIdentity: aks2-agentpool
    nodePools:
      - name: pool2
        identities: [aks2-agentpool]
`

// newStore compiles testWorld, with edit applied first (nil: as is).
func newStore(t *testing.T, edit func(w *world.World)) *world.Store {
	t.Helper()
	w, err := world.Parse([]byte(testWorld))
	require.NoError(t, err)
	if edit != nil {
		edit(w)
	}
	s, err := world.NewStore(w, world.NewFixedClock(t0))
	require.NoError(t, err)
	return s
}

func principal(t *testing.T, s *world.Store, name string) *world.Principal {
	t.Helper()
	p, ok := s.Snapshot().PrincipalByName(name)
	require.True(t, ok, name)
	return p
}

func registry(t *testing.T, s *world.Store, name string) *world.RegistryInfo {
	t.Helper()
	r, ok := s.Snapshot().Registry(name)
	require.True(t, ok, name)
	return r
}

func TestHinterUnknownServiceAndAllowed(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	h := func(d api.Decision) string { return Hinter(s)(d).String() }
	for _, tc := range []struct {
		name string
		d    api.Decision
	}{
		{"oidc", api.Decision{Service: "oidc", Error: "AADSTS700211"}},
		{"unknown service", api.Decision{Service: "arm", Error: "AADSTS700211"}},
		{"no service", api.Decision{}},
		{"entra unknown code", api.Decision{Service: "entra", Error: "AADSTS50034"}},
		{"entra no code", api.Decision{Service: "entra"}},
		{"imds unknown pool", api.Decision{Service: "imds", Error: "Identity not found", Facts: api.Facts{"pool": "nope"}}},
		{"imds ambiguous pool", api.Decision{Service: "imds", Error: "Identity not found", Facts: api.Facts{"pool": "nope/nodepool1"}}},
		{"imds no facts", api.Decision{Service: "imds", Error: "Identity not found"}},
		{"imds other error", api.Decision{Service: "imds", Error: "Bad request", Facts: api.Facts{"pool": "aks1/nodepool1"}}},
		{"acr unknown registry", api.Decision{Service: "acr", Error: "UNAUTHORIZED", Facts: api.Facts{FactRegistry: "nope.azurecr.io"}}},
		{"acr no facts", api.Decision{Service: "acr", Error: "UNAUTHORIZED"}},
		{"registry unknown principal", api.Decision{Service: "registry", PrincipalID: "00000000-0000-0000-0000-000000000000",
			Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io", FactRepository: "hello"}}},
		{"registry no repository", api.Decision{Service: "registry", PrincipalID: principal(t, s, "nobody").ObjectID,
			Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io"}}},
		{"allowed pull", api.Decision{Service: "registry", PrincipalID: principal(t, s, "allowed").ObjectID,
			Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io", FactRepository: "hello", FactActions: "pull", FactTokenScopes: "repository:hello:pull"}}},
		{"allowed default action", api.Decision{Service: "acr", PrincipalID: principal(t, s, "allowed").ObjectID,
			Facts: api.Facts{FactRegistry: "azsimacr", FactRepository: "hello"}}},
		{"allowed pull and metadata_read", api.Decision{Service: "acr", PrincipalID: principal(t, s, "allowed").ObjectID,
			Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io", FactRepository: "hello", FactActions: "pull,metadata_read"}}},
		{"conditional allowed repository", api.Decision{Service: "registry", PrincipalID: principal(t, s, "conditional").ObjectID,
			Facts: api.Facts{FactRegistry: "abacacr.azurecr.io", FactRepository: "team-a/api", FactActions: "pull"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Empty(t, h(tc.d))
		})
	}
}

func TestEntraHints(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	h := func(d api.Decision) string { return Hinter(s)(d).String() }
	puller := principal(t, s, "app-puller")
	nofic := principal(t, s, "nofic")
	facts := func(iss, sub, aud string) api.Facts {
		return api.Facts{"issuer": iss, "subject": sub, "audience": aud}
	}
	const (
		one    = "https://issuer.example.com/one/"
		sa     = "system:serviceaccount:default:app-puller"
		exchAu = "api://AzureADTokenExchange"
	)
	for _, tc := range []struct {
		name string
		d    api.Decision
		want string
	}{
		{"700211 trailing slash missing on the credential", api.Decision{Error: "AADSTS700211", Principal: "app-puller", PrincipalID: puller.ObjectID,
			Facts: facts("https://issuer.example.com/two/", sa, exchAu)},
			`issuer trailing-slash mismatch: the federated credential "app-puller-two" of app-puller has issuer "https://issuer.example.com/two" but the token's issuer is "https://issuer.example.com/two/"; AKS issuer URLs end with '/': set the credential's issuer to exactly "https://issuer.example.com/two/"`},
		{"700211 trailing slash missing on the token", api.Decision{Error: "AADSTS700211", Principal: "app-puller", PrincipalID: puller.ObjectID,
			Facts: facts("https://issuer.example.com/one", sa, exchAu)},
			`issuer trailing-slash mismatch: the federated credential "app-puller-one" of app-puller has issuer "https://issuer.example.com/one/" but the token's issuer is "https://issuer.example.com/one"; AKS issuer URLs end with '/': set the credential's issuer to exactly "https://issuer.example.com/one"`},
		{"700211 unknown issuer", api.Decision{Error: "AADSTS700211", Principal: "app-puller", PrincipalID: puller.ObjectID,
			Facts: facts("https://elsewhere.example.com/", sa, exchAu)},
			`no federated credential of app-puller trusts issuer "https://elsewhere.example.com/" (it trusts "https://issuer.example.com/one/", "https://issuer.example.com/one/", "https://issuer.example.com/two"); add one for this cluster's issuer (az aks show --query oidcIssuerProfile.issuerUrl)`},
		{"700211 identity without credentials", api.Decision{Error: "AADSTS700211", Principal: "nofic", PrincipalID: nofic.ObjectID,
			Facts: facts(one, sa, exchAu)},
			`no federated credential of nofic trusts issuer "https://issuer.example.com/one/" (it trusts none); add one for this cluster's issuer (az aks show --query oidcIssuerProfile.issuerUrl)`},
		{"700211 unknown principal", api.Decision{Error: "AADSTS700211", Facts: facts(one, sa, exchAu)},
			`no federated credential of  trusts issuer "https://issuer.example.com/one/" (it trusts none); add one for this cluster's issuer (az aks show --query oidcIssuerProfile.issuerUrl)`},
		{"700213 subject", api.Decision{Error: "AADSTS700213", Principal: "app-puller", PrincipalID: puller.ObjectID,
			Facts: facts(one, "system:serviceaccount:kube-system:app-puller", exchAu)},
			`subject mismatch: the token is for "system:serviceaccount:kube-system:app-puller" but the federated credentials of app-puller accept "system:serviceaccount:default:app-puller", "system:serviceaccount:batch:app-puller"; check the pod's namespace and service account, or add a credential for "system:serviceaccount:kube-system:app-puller"`},
		{"700213 no credential for the issuer", api.Decision{Error: "AADSTS700213", Principal: "nofic", PrincipalID: nofic.ObjectID,
			Facts: facts(one, "system:serviceaccount:x:y", exchAu)},
			`subject mismatch: the token is for "system:serviceaccount:x:y" but the federated credentials of nofic accept none; check the pod's namespace and service account, or add a credential for "system:serviceaccount:x:y"`},
		{"7002138 subject case", api.Decision{Error: "AADSTS7002138", Principal: "app-puller", PrincipalID: puller.ObjectID,
			Facts: facts(one, "system:serviceaccount:default:App-Puller", exchAu)},
			`subject case mismatch: Entra compares subjects case-sensitively; the token's "system:serviceaccount:default:App-Puller" differs from the credential only in case: make the credential's subject exactly "system:serviceaccount:default:App-Puller"`},
		{"700212 audience", api.Decision{Error: "AADSTS700212", Principal: "app-puller", PrincipalID: puller.ObjectID,
			Facts: facts(one, sa, "api://AzureCRTokenExchange")},
			`audience mismatch: the token's audience is "api://AzureCRTokenExchange" but the federated credentials of app-puller expect "api://AzureADTokenExchange", "api://Custom"; project the service-account token with that audience (the workload-identity webhook uses api://AzureADTokenExchange) or change the credential's audience`},
		{"700024 expired", api.Decision{Error: "AADSTS700024", Facts: api.Facts{"assertionExpiry": "2025-03-01T11:00:00Z"}},
			`the service-account token expired (exp 2025-03-01T11:00:00Z) or is not valid yet; projected tokens are refreshed by the kubelet: re-read AZURE_FEDERATED_TOKEN_FILE instead of caching the token`},
		{"7000272 rotated key", api.Decision{Error: "AADSTS7000272", Facts: api.Facts{"issuer": one, "kid": "old-kid"}},
			`the token was signed with key "old-kid", which issuer https://issuer.example.com/one/ no longer publishes (its signing keys were rotated); request a fresh service-account token`},
		{"90061 issuer unreachable", api.Decision{Error: "AADSTS90061", Facts: api.Facts{"issuer": "https://gone.example.com/"}},
			`Entra could not fetch the discovery document or JWKS of issuer "https://gone.example.com/"; the issuer must be reachable over HTTPS and serve .well-known/openid-configuration`},
		{"70021 propagation", api.Decision{Error: "AADSTS70021"},
			"no federated credential matches yet: a new or changed credential takes a while to propagate; retry after a few minutes"},
		{"700016 unknown client", api.Decision{Error: "AADSTS700016", Facts: api.Facts{"clientId": "11111111-1111-1111-1111-111111111111", "tenant": "tid"}},
			"client ID 11111111-1111-1111-1111-111111111111 is not an identity or application of tenant tid: check AZURE_CLIENT_ID (the identity's client ID, not its object ID) and AZURE_TENANT_ID"},
		{"500011 unknown resource", api.Decision{Error: "AADSTS500011", Resource: "https://unknown.example.com"},
			`resource "https://unknown.example.com" is unknown; ACR tokens are for https://containerregistry.azure.net/.default`},
		{"1002012 bad scope", api.Decision{Error: "AADSTS1002012"},
			"client-credential scopes must be '<resource>/.default', e.g. https://containerregistry.azure.net/.default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.d.Service = "entra"
			tc.d.Outcome = api.OutcomeDeny
			assert.Equal(t, tc.want, h(tc.d))
		})
	}
}

func TestIMDSHints(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	h := func(d api.Decision) string { return Hinter(s)(d).String() }
	ix := s.Snapshot()
	np1, ok := ix.NodePool("aks1/nodepool1")
	require.True(t, ok)
	bare, ok := ix.NodePool("aks1/bare")
	require.True(t, ok)
	pool2, ok := ix.NodePool("aks2/pool2")
	require.True(t, ok)
	kubelet, addon := principal(t, s, "aks1-agentpool"), principal(t, s, "addon")
	stranger := principal(t, s, "stranger")
	const roles = "; a controller that assigns it as the kubelet identity (AAD Pod Identity) needs Managed Identity Operator and Virtual Machine Contributor on node resource group MC_rg-azsim_aks1_eastus for aks1-agentpool"
	notAssignedTo := func(np *world.NodePoolInfo) string {
		return "identity stranger is not assigned to VMSS " + np.VMSS + " (node pool " + np.Cluster.Name + "/" + np.Name + "); assign it (az vmss identity assign --identities " + stranger.ResourceID + ")"
	}
	for _, tc := range []struct {
		name string
		pool string
		err  string
		sel  string
		want string
	}{
		{"multiple identities", "aks1/nodepool1", "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request", "",
			"VMSS " + np1.VMSS + " has 2 user-assigned identities and the request named none: aks1-agentpool (client_id " + kubelet.ClientID + "), addon (client_id " + addon.ClientID + "); pass the identity's client_id (AZURE_CLIENT_ID / userAssignedIdentityID) or msi_res_id"},
		{"no identity", "aks1/bare", "Identity not found", "",
			"VMSS " + bare.VMSS + " has no managed identity; assign one (az vmss identity assign)"},
		{"not assigned by client_id, kubelet lacks roles", "aks1/nodepool1", "Identity not found", "client_id=" + stranger.ClientID,
			notAssignedTo(np1) + roles},
		{"not assigned by object_id", "aks1/nodepool1", "Identity not found", "object_id=" + stranger.ObjectID,
			notAssignedTo(np1) + roles},
		{"not assigned by msi_res_id", "aks1/nodepool1", "Identity not found", "msi_res_id=" + stranger.ResourceID,
			notAssignedTo(np1) + roles},
		{"not assigned, kubelet has both roles", "aks2/pool2", "Identity not found", "client_id=" + stranger.ClientID,
			notAssignedTo(pool2)},
		{"unknown selector", "aks1/nodepool1", "Identity not found", "client_id=00000000-0000-0000-0000-00000000beef",
			"no identity of the world has client_id=00000000-0000-0000-0000-00000000beef; check the client ID"},
		{"missing header", "aks1/nodepool1", "Required metadata header not specified", "",
			"IMDS requires the header 'Metadata: true' (an SSRF guard)"},
		{"pool by unique name", "bare", "Identity not found", "",
			"VMSS " + bare.VMSS + " has no managed identity; assign one (az vmss identity assign)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := api.Decision{Service: "imds", Outcome: api.OutcomeDeny, Status: 400, Error: tc.err,
				Facts: api.Facts{"pool": tc.pool}}
			if tc.sel != "" {
				d.Facts["selector"] = tc.sel
			}
			assert.Equal(t, tc.want, h(d))
		})
	}
}

func TestIMDSHintNeedsBothRoles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		roles     []world.RoleAssignment
		wantRoles bool
	}{
		{"none", nil, true},
		{"only Managed Identity Operator", []world.RoleAssignment{
			{Principal: "aks1-agentpool", Role: "Managed Identity Operator", Scope: "resourceGroup/MC_rg-azsim_aks1_eastus"}}, true},
		{"only Virtual Machine Contributor", []world.RoleAssignment{
			{Principal: "aks1-agentpool", Role: "Virtual Machine Contributor", Scope: "resourceGroup/MC_rg-azsim_aks1_eastus"}}, true},
		{"both on the node resource group", []world.RoleAssignment{
			{Principal: "aks1-agentpool", Role: "Managed Identity Operator", Scope: "resourceGroup/MC_rg-azsim_aks1_eastus"},
			{Principal: "aks1-agentpool", Role: "Virtual Machine Contributor", Scope: "resourceGroup/MC_rg-azsim_aks1_eastus"}}, false},
		{"both inherited from the subscription", []world.RoleAssignment{
			{Principal: "aks1-agentpool", Role: "Managed Identity Operator", Scope: "subscription/sub"},
			{Principal: "aks1-agentpool", Role: "Virtual Machine Contributor", Scope: "subscription/sub"}}, false},
		{"both on another resource group", []world.RoleAssignment{
			{Principal: "aks1-agentpool", Role: "Managed Identity Operator", Scope: "resourceGroup/rg-other"},
			{Principal: "aks1-agentpool", Role: "Virtual Machine Contributor", Scope: "resourceGroup/rg-other"}}, true},
		{"both, but to another principal", []world.RoleAssignment{
			{Principal: "addon", Role: "Managed Identity Operator", Scope: "resourceGroup/MC_rg-azsim_aks1_eastus"},
			{Principal: "addon", Role: "Virtual Machine Contributor", Scope: "resourceGroup/MC_rg-azsim_aks1_eastus"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t, func(w *world.World) { w.RoleAssignments = append(w.RoleAssignments, tc.roles...) })
			hint := hintOf(s, api.Decision{Service: "imds", Error: "Identity not found",
				Facts: api.Facts{"pool": "aks1/single", "selector": "client_id=" + principal(t, s, "stranger").ClientID}})
			assert.Contains(t, hint, "identity stranger is not assigned to VMSS")
			if tc.wantRoles {
				assert.Contains(t, hint, "needs Managed Identity Operator and Virtual Machine Contributor on node resource group MC_rg-azsim_aks1_eastus for aks1-agentpool")
			} else {
				assert.NotContains(t, hint, "Managed Identity Operator")
			}
		})
	}
}

func TestACRHints(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	h := func(d api.Decision) string { return Hinter(s)(d).String() }
	azsimacr, otheracr, abacacr := registry(t, s, "azsimacr"), registry(t, s, "otheracr"), registry(t, s, "abacacr")
	oid := func(name string) string { return principal(t, s, name).ObjectID }
	fix := func(name, role string, reg *world.RegistryInfo) string {
		return "az role assignment create --assignee " + principal(t, s, name).ClientID + " --role " + role + " --scope " + reg.ResourceID
	}
	rgOther := "/subscriptions/" + otheracr.SubscriptionID + "/resourcegroups/rg-other"
	late, _ := s.Snapshot().PrincipalByName("late")
	var lateAt time.Time
	for _, a := range s.Snapshot().Assignments {
		if a.PrincipalID == late.ObjectID {
			lateAt = a.EffectiveAt
		}
	}
	require.Equal(t, t0.Add(10*time.Minute), lateAt)
	pull := func(reg, repo string) api.Facts {
		return api.Facts{FactRegistry: reg, FactRepository: repo, FactActions: "pull"}
	}
	for _, tc := range []struct {
		name string
		d    api.Decision
		want string
	}{
		{"arm aad token disallowed in the error", api.Decision{Service: "acr", Error: "arm aad token disallowed",
			Facts: api.Facts{FactRegistry: "armoffacr.azurecr.io", "audience": "https://management.azure.com/"}},
			"registry armoffacr has authentication-as-ARM disabled: it accepts only Entra tokens for https://containerregistry.azure.net; request that scope (https://containerregistry.azure.net/.default) instead of ARM"},
		{"arm aad token disallowed in the reason", api.Decision{Service: "acr", Error: "UNAUTHORIZED",
			Reason: "arm aad token disallowed: ARM audience https://management.azure.com/, but authenticationAsArm is disabled on armoffacr",
			Facts:  api.Facts{FactRegistry: "armoffacr.azurecr.io"}},
			"registry armoffacr has authentication-as-ARM disabled: it accepts only Entra tokens for https://containerregistry.azure.net; request that scope (https://containerregistry.azure.net/.default) instead of ARM"},
		{"repository scope mismatch", api.Decision{Service: "registry", Error: "UNAUTHORIZED", PrincipalID: oid("allowed"),
			Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io", FactRepository: "hello", FactActions: "pull", FactTokenScopes: "repository:other:pull"}},
			`repository scope mismatch: the access token grants repository:other:pull but the request is for repository "hello"; request a token with scope repository:hello:pull`},
		{"scope of a longer repository name is a mismatch", api.Decision{Service: "registry", PrincipalID: oid("allowed"),
			Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io", FactRepository: "hello", FactTokenScopes: "repository:hello/world:pull"}},
			`repository scope mismatch: the access token grants repository:hello/world:pull but the request is for repository "hello"; request a token with scope repository:hello:pull`},
		{"cluster identity pitfall, system-assigned", api.Decision{Service: "acr", PrincipalID: oid("aks1-agentpool"), Facts: pull("azsimacr.azurecr.io", "hello")},
			"AcrPull is assigned to the cluster's system-assigned identity 'aks1' but the pull used the kubelet identity 'aks1-agentpool'; assign AcrPull on azsimacr to the kubelet identity (az aks update --attach-acr azsimacr)"},
		{"cluster identity pitfall, user-assigned", api.Decision{Service: "registry", PrincipalID: oid("aks2-agentpool"), Facts: pull("azsimacr.azurecr.io", "hello")},
			"AcrPush is assigned to the cluster's user-assigned identity 'aks2-cp' but the pull used the kubelet identity 'aks2-agentpool'; assign AcrPush on azsimacr to the kubelet identity (az aks update --attach-acr azsimacr)"},
		{"role on another registry", api.Decision{Service: "acr", PrincipalID: oid("wrongreg"), Facts: pull("azsimacr.azurecr.io", "hello")},
			"wrongreg cannot pull azsimacr/hello: AcrPull is assigned at " + lower(otheracr.ResourceID) + ", which does not contain registry azsimacr; fix: " + fix("wrongreg", "AcrPull", azsimacr)},
		{"role on a resource group without the registry", api.Decision{Service: "acr", PrincipalID: oid("wrongrg"), Facts: pull("azsimacr.azurecr.io", "hello")},
			"wrongrg cannot pull azsimacr/hello: AcrPull is assigned at " + rgOther + ", which does not contain registry azsimacr; fix: " + fix("wrongrg", "AcrPull", azsimacr)},
		{"ABAC registry ignores AcrPull", api.Decision{Service: "registry", PrincipalID: oid("abacpull"), Facts: pull("abacacr.azurecr.io", "hello")},
			"abacpull cannot pull abacacr/hello: registry abacacr uses ABAC repository permissions, where AcrPull grants no data access; assign Container Registry Repository Reader (or Writer) instead; fix: " + fix("abacpull", "'Container Registry Repository Reader'", abacacr)},
		{"ABAC condition", api.Decision{Service: "registry", PrincipalID: oid("conditional"), Facts: pull("abacacr.azurecr.io", "team-b/api")},
			`conditional cannot pull abacacr/team-b/api: the condition on Container Registry Repository Reader does not allow repository "team-b/api"; fix: ` + fix("conditional", "'Container Registry Repository Reader'", abacacr)},
		{"propagation delay", api.Decision{Service: "acr", PrincipalID: oid("late"), Facts: pull("azsimacr.azurecr.io", "hello")},
			"late cannot pull azsimacr/hello: role assignment propagation: AcrPull at " + lower(azsimacr.ResourceID) + ": not yet effective (propagation delay until 2025-03-01T12:10:00Z); retry after it takes effect; fix: " + fix("late", "AcrPull", azsimacr)},
		{"no role at all", api.Decision{Service: "acr", PrincipalID: oid("nobody"), Facts: pull("azsimacr.azurecr.io", "hello")},
			"nobody has no role that grants pull on azsimacr/hello; " + fix("nobody", "AcrPull", azsimacr)},
		{"no role, default action is pull", api.Decision{Service: "acr", PrincipalID: oid("nobody"),
			Facts: api.Facts{FactRegistry: "azsimacr", FactRepository: "hello"}},
			"nobody has no role that grants pull on azsimacr/hello; " + fix("nobody", "AcrPull", azsimacr)},
		{"no role for push", api.Decision{Service: "acr", PrincipalID: oid("nobody"),
			Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io", FactRepository: "hello", FactActions: "pull,push"}},
			"nobody has no role that grants pull on azsimacr/hello; " + fix("nobody", "AcrPull", azsimacr)},
		{"pull granted, push missing", api.Decision{Service: "acr", PrincipalID: oid("allowed"),
			Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io", FactRepository: "hello", FactActions: "pull,push"}},
			"allowed has no role that grants push on azsimacr/hello; " + fix("allowed", "AcrPush", azsimacr)},
		{"metadata_write needs AcrPush", api.Decision{Service: "acr", PrincipalID: oid("allowed"),
			Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io", FactRepository: "hello", FactActions: "metadata_write"}},
			"allowed has no role that grants metadata_write on azsimacr/hello; " + fix("allowed", "AcrPush", azsimacr)},
		{"delete needs AcrDelete", api.Decision{Service: "acr", PrincipalID: oid("allowed"),
			Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io", FactRepository: "hello", FactActions: "delete"}},
			"allowed has no role that grants delete on azsimacr/hello; " + fix("allowed", "AcrDelete", azsimacr)},
		{"ABAC push needs the Writer role", api.Decision{Service: "acr", PrincipalID: oid("nobody"),
			Facts: api.Facts{FactRegistry: "abacacr.azurecr.io", FactRepository: "hello", FactActions: "push"}},
			"nobody has no role that grants push on abacacr/hello; " + fix("nobody", "'Container Registry Repository Writer'", abacacr)},
		{"ABAC pull needs the Reader role", api.Decision{Service: "acr", PrincipalID: oid("nobody"),
			Facts: pull("abacacr.azurecr.io", "hello")},
			"nobody has no role that grants pull on abacacr/hello; " + fix("nobody", "'Container Registry Repository Reader'", abacacr)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.d.Outcome = api.OutcomeDeny
			assert.Equal(t, tc.want, h(tc.d))
		})
	}
}

// TestACRHintFollowsTheClock: once the propagation delay is over the same
// decision no longer needs a hint.
func TestACRHintFollowsTheClock(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	h := func(d api.Decision) string { return Hinter(s)(d).String() }
	d := api.Decision{Service: "registry", PrincipalID: principal(t, s, "late").ObjectID,
		Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io", FactRepository: "hello", FactActions: "pull"}}
	assert.Contains(t, h(d), "role assignment propagation")
	s.Clock().Advance(11 * time.Minute)
	assert.Empty(t, h(d))
}

func TestHinterReadsTheCurrentWorld(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	h := func(d api.Decision) string { return Hinter(s)(d).String() }
	d := api.Decision{Service: "acr", PrincipalID: principal(t, s, "nobody").ObjectID,
		Facts: api.Facts{FactRegistry: "azsimacr.azurecr.io", FactRepository: "hello", FactActions: "pull"}}
	assert.Contains(t, h(d), "nobody has no role that grants pull")
	_, err := s.Update(func(w *world.World) error {
		w.RoleAssignments = append(w.RoleAssignments, world.RoleAssignment{Principal: "nobody", Role: "AcrPull", Scope: "registry/azsimacr"})
		return nil
	})
	require.NoError(t, err)
	assert.Empty(t, h(d))
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestClusterIdentityPitfallFollowsTheMode: in an ABAC registry AcrPull on
// the cluster identity grants nothing, so moving it to the kubelet identity
// (the attach-acr advice) would not help; the Repository roles would.
func TestClusterIdentityPitfallFollowsTheMode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		role string
		want string
	}{
		{"AcrPull on the cluster identity", "AcrPull", "aks1-agentpool has no role that grants pull on abacacr/hello; az role assignment create --assignee "},
		{"Repository Reader on the cluster identity", "Container Registry Repository Reader",
			"Container Registry Repository Reader is assigned to the cluster's system-assigned identity 'aks1' but the pull used the kubelet identity 'aks1-agentpool'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t, func(w *world.World) {
				w.RoleAssignments = append(w.RoleAssignments, world.RoleAssignment{Principal: "aks1", Role: tc.role, Scope: "registry/abacacr"})
			})
			hint := hintOf(s, api.Decision{Service: "registry", PrincipalID: principal(t, s, "aks1-agentpool").ObjectID,
				Facts: api.Facts{FactRegistry: "abacacr.azurecr.io", FactRepository: "hello", FactActions: "pull"}})
			assert.Contains(t, hint, tc.want)
		})
	}
}

func hintOf(s *world.Store, d api.Decision) string { return Hinter(s)(d).String() }
