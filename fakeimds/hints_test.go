package fakeimds

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
	"github.com/azsim/azsim/world"
)

// tracedToken asks pool's IMDS for a token with query and returns the
// decision the trace recorded.
func tracedToken(t *testing.T, s *world.Store, pool, query string, headers map[string]string) api.Decision {
	t.Helper()
	log := trace.NewLog(10)
	h, err := New(s, pool, &testIssuer{t: t, clock: s.Clock()})
	require.NoError(t, err)
	srv := newServer(t, trace.Middleware(api.ServiceIMDS, s.Clock(), log)(h))
	do(t, srv, "GET", "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/"+query, headers)
	ds := log.Recent(0)
	require.Len(t, ds, 1)
	return ds[0]
}

// Every refused selection carries the hint derived from the scale set's
// identities, and each identity weighed is recorded.
func TestSelectionHints(t *testing.T) {
	t.Parallel()
	s := fixedStore(t)
	stranger := principal(t, s, "stranger")
	for _, tc := range []struct {
		name, pool, query, pitfall, text string
		headers                          map[string]string
		considered                       int
	}{
		{"several identities, no selector", "aks1/two", "", "several-identities-no-selector",
			"has 2 user-assigned identities and the request named none", nil, 2},
		{"no identity at all", "aks1/none", "", "vmss-without-identity", "has no managed identity; assign one", nil, 0},
		{"identity of another scale set", "aks1/one", "&client_id=" + stranger.ClientID, "identity-not-on-vmss",
			"identity stranger is not assigned to VMSS", nil, 1},
		{"unknown client ID", "aks1/one", "&client_id=00000000-0000-0000-0000-00000000beef", "unknown-identity",
			"no identity of the world has client_id=00000000-0000-0000-0000-00000000beef", nil, 1},
		{"no Metadata header", "aks1/one", "", "imds-metadata-header", "requires the header 'Metadata: true'", map[string]string{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := tracedToken(t, s, tc.pool, tc.query, tc.headers)
			assert.Equal(t, api.OutcomeDeny, d.Outcome)
			require.NotNil(t, d.Hint, "refusal %q carries a hint", d.Error)
			assert.Equal(t, tc.pitfall, d.Hint.Pitfall)
			assert.Contains(t, d.Hint.Text, tc.text)
			assert.Len(t, d.Considered, tc.considered)
			for _, c := range d.Considered {
				assert.False(t, c.Applies, "%s was not selected", c.Name)
			}
		})
	}
}

// An allowed selection records the rule that chose the identity.
func TestSelectionRuleRecorded(t *testing.T) {
	t.Parallel()
	s := fixedStore(t)
	kubelet := principal(t, s, "kubelet")
	for _, tc := range []struct {
		name, pool, query string
		chosen            []bool
		why               string
	}{
		{"the only user-assigned identity", "aks1/one", "", []bool{true}, "chosen: the request names no identity and this is the only user-assigned identity"},
		{"the system-assigned one before two others", "aks1/smiuami", "", []bool{true, false, false}, "chosen: the request names no identity and this is the system-assigned identity"},
		{"named by client_id", "aks1/two", "&client_id=" + kubelet.ClientID, []bool{true, false}, "chosen: client_id names it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := tracedToken(t, s, tc.pool, tc.query, nil)
			assert.Equal(t, api.OutcomeAllow, d.Outcome)
			assert.Nil(t, d.Hint)
			require.Len(t, d.Considered, len(tc.chosen))
			for i, c := range d.Considered {
				assert.Equal(t, tc.chosen[i], c.Applies, c.Name)
			}
			assert.Equal(t, tc.why, d.Considered[0].Why)
		})
	}
}

// The AAD Pod Identity note is added only while the kubelet identity lacks
// one of the two roles on the node resource group.
func TestNotAssignedHintNeedsBothRoles(t *testing.T) {
	t.Parallel()
	const rg = "resourceGroup/MC_rg1_aks1_westeurope"
	for _, tc := range []struct {
		name      string
		roles     []world.RoleAssignment
		wantRoles bool
	}{
		{"none", nil, true},
		{"only Managed Identity Operator", []world.RoleAssignment{{Principal: "kubelet", Role: "Managed Identity Operator", Scope: rg}}, true},
		{"only Virtual Machine Contributor", []world.RoleAssignment{{Principal: "kubelet", Role: "Virtual Machine Contributor", Scope: rg}}, true},
		{"both on the node resource group", []world.RoleAssignment{
			{Principal: "kubelet", Role: "Managed Identity Operator", Scope: rg},
			{Principal: "kubelet", Role: "Virtual Machine Contributor", Scope: rg}}, false},
		{"both inherited from the subscription", []world.RoleAssignment{
			{Principal: "kubelet", Role: "Managed Identity Operator", Scope: "subscription/sub1"},
			{Principal: "kubelet", Role: "Virtual Machine Contributor", Scope: "subscription/sub1"}}, false},
		{"both on another resource group", []world.RoleAssignment{
			{Principal: "kubelet", Role: "Managed Identity Operator", Scope: "resourceGroup/rg1"},
			{Principal: "kubelet", Role: "Virtual Machine Contributor", Scope: "resourceGroup/rg1"}}, true},
		{"both, but to another principal", []world.RoleAssignment{
			{Principal: "addon", Role: "Managed Identity Operator", Scope: rg},
			{Principal: "addon", Role: "Virtual Machine Contributor", Scope: rg}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, err := world.Parse([]byte(testWorld))
			require.NoError(t, err)
			w.RoleAssignments = tc.roles
			s, err := world.NewStore(w, world.NewFixedClock(t0))
			require.NoError(t, err)
			ix := s.Snapshot()
			np, ok := ix.NodePool("aks1/one")
			require.True(t, ok)
			h := notAssignedHint(ix, np, selector{Name: selClientID, Value: principal(t, s, "stranger").ClientID})
			assert.Equal(t, "identity-not-on-vmss", h.Pitfall)
			assert.Contains(t, h.Text, "identity stranger is not assigned to VMSS")
			if tc.wantRoles {
				assert.Contains(t, h.Text, "needs Managed Identity Operator and Virtual Machine Contributor on node resource group MC_rg1_aks1_westeurope for kubelet")
			} else {
				assert.NotContains(t, h.Text, "Managed Identity Operator")
			}
		})
	}
}
