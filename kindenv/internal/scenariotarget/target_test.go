package scenariotarget

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/world"
)

// testTarget is a kind target for the default world's cluster, with no
// cluster behind it: enough for the parts that are pure functions.
func testTarget(t *testing.T) (*Target, *world.Index) {
	t.Helper()
	ix, err := world.Compile(world.Default(), time.Now())
	require.NoError(t, err)
	tg := &Target{
		env:   kindstate.Env{Name: "azsim", WorldCluster: "aks1", IssuerURL: ix.Clusters[0].IssuerURL},
		ep:    api.Endpoints{Hosts: ix.Hosts()},
		pools: []string{"aks1/nodepool1"},
		run:   "abc123", seq: 7,
		sc:      &scenarios.Scenario{ID: "some-scenario"},
		tokens:  map[string]tokenRef{"cached": {namespace: "default", secret: "azsim-sat-abc123-1"}},
		refresh: map[string]refreshRef{"kept": {node: "azsim-worker", file: scenarioHostDir + "/abc123-2-kept"}},
	}
	return tg, ix
}

func TestPlanPod(t *testing.T) {
	t.Parallel()
	tg, ix := testTarget(t)
	app, _ := ix.PrincipalByName("app-puller")
	kubelet := ix.Clusters[0].Kubelet
	tenant := ix.Clusters[0].TenantID
	for _, tc := range []struct {
		name string
		step scenarios.Step
		want podSpec
	}{
		{"federated pull with a projected token",
			scenarios.Step{Pull: &scenarios.PullStep{ServiceAccount: "default/app-puller", Image: "azsimacr.azurecr.io/hello:v1"}},
			podSpec{namespace: "default", sa: "app-puller", audience: defaultAudience, action: scenarios.PodAction{Action: "pull", Flow: "federated",
				Image: "azsimacr.azurecr.io/hello:v1", TenantID: tenant, ClientID: app.ClientID, TokenFile: podProjectedFile}}},
		{"token with another audience in another namespace",
			scenarios.Step{Token: &scenarios.TokenStep{ServiceAccount: "payments/app-puller", Identity: "app-puller", Audience: "api://AzureCRTokenExchange"}},
			podSpec{namespace: "payments", sa: "app-puller", audience: "api://AzureCRTokenExchange", action: scenarios.PodAction{Action: "token",
				TenantID: tenant, ClientID: app.ClientID, TokenFile: podProjectedFile}}},
		{"token a saToken step got",
			scenarios.Step{Token: &scenarios.TokenStep{Token: "cached", Identity: "app-puller"}},
			podSpec{namespace: "default", secret: "azsim-sat-abc123-1", action: scenarios.PodAction{Action: "token",
				TenantID: tenant, ClientID: app.ClientID, TokenFile: podSecretDir + "/token"}}},
		{"node client with a scope, saving its refresh token",
			scenarios.Step{Pull: &scenarios.PullStep{NodePool: "nodepool1", Image: "azsimacr.azurecr.io/other:v1", ScopeRepository: "hello", SaveRefresh: "mine"}},
			podSpec{pool: "nodepool1", namespace: "default", action: scenarios.PodAction{Action: "pull", Flow: "vmss", Image: "azsimacr.azurecr.io/other:v1",
				TenantID: tenant, ClientID: kubelet.ClientID, ScopeRepository: "hello", SaveRefreshFile: scenarioHostDir + "/abc123-7-mine"}}},
		{"refresh token on the node that saved it",
			scenarios.Step{Pull: &scenarios.PullStep{Image: "azsimacr.azurecr.io/hello:v1", UseRefresh: "kept"}},
			podSpec{node: "azsim-worker", namespace: "default", action: scenarios.PodAction{Action: "pull", Flow: "refresh", Image: "azsimacr.azurecr.io/hello:v1",
				RefreshFile: scenarioHostDir + "/abc123-2-kept"}}},
		{"IMDS without a selector",
			scenarios.Step{IMDS: &scenarios.IMDSStep{NodePool: "nodepool1"}},
			podSpec{pool: "nodepool1", namespace: "default", action: scenarios.PodAction{Action: "imds",
				IMDSQuery: url.Values{"api-version": {"2018-02-01"}, "resource": {"https://containerregistry.azure.net"}}.Encode()}}},
		{"azidentity managed identity",
			scenarios.Step{Azidentity: &scenarios.AzidentityStep{Credential: "ManagedIdentity", NodePool: "nodepool1", Identity: "aks1-agentpool", Scope: "https://vault.azure.net/.default"}},
			podSpec{pool: "nodepool1", namespace: "default", action: scenarios.PodAction{Action: "azidentity", Credential: "ManagedIdentity",
				Scope: "https://vault.azure.net/.default", TenantID: tenant, ClientID: kubelet.ClientID}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tg.planPod(ix, &tc.step)
			require.NoError(t, err)
			tc.want.action.AuthorityHost = "https://login.microsoftonline.com/"
			assert.Equal(t, tc.want, *got)
		})
	}
	_, err := tg.planPod(ix, &scenarios.Step{Token: &scenarios.TokenStep{Token: "nope"}})
	assert.EqualError(t, err, `no service-account token named "nope"`)
	_, err = tg.planPod(ix, &scenarios.Step{IMDS: &scenarios.IMDSStep{NodePool: "nodepool1", Identity: "ghost"}})
	assert.EqualError(t, err, `unknown identity "ghost"`)
}

// TestPodStepSpec pins the pod a federated step runs in: the webhook's
// environment, the projected token, the CA, no API token.
func TestPodStepSpec(t *testing.T) {
	t.Parallel()
	tg, ix := testTarget(t)
	for _, tc := range []struct {
		golden string
		step   scenarios.Step
	}{
		{"scenario-pod-federated.json", scenarios.Step{Pull: &scenarios.PullStep{ServiceAccount: "default/app-puller", Image: "azsimacr.azurecr.io/hello:v1"}}},
		{"scenario-pod-refresh.json", scenarios.Step{Pull: &scenarios.PullStep{Image: "azsimacr.azurecr.io/hello:v1", UseRefresh: "kept"}}},
	} {
		s, err := tg.planPod(ix, &tc.step)
		require.NoError(t, err)
		action, err := json.Marshal(s.action)
		require.NoError(t, err)
		obj := tg.podObject(s.namespace, tg.podName(s.action.Action), tg.podStepSpec(s, string(action)), s.pool, s.node)
		b, err := json.MarshalIndent(obj, "", "  ")
		require.NoError(t, err)
		// Client IDs and tenants are deterministic (world IDs).
		golden(t, tc.golden, append(b, '\n'))
	}
}

func TestRootCauseAndFailedHop(t *testing.T) {
	t.Parallel()
	anon := api.Decision{Service: "acr", Path: "/v2/hello/manifests/v1", Outcome: api.OutcomeDeny, Status: 401, Error: "UNAUTHORIZED", Reason: "no credentials"}
	denied := api.Decision{Service: "acr", Path: "/v2/hello/manifests/v1", Outcome: api.OutcomeDeny, Status: 401, Error: "UNAUTHORIZED",
		Reason: "the access token does not grant repository:hello:pull", Principal: "aks1-agentpool", Hint: &api.Hint{Text: "AcrPull is assigned to..."}}
	imds := api.Decision{Service: "imds", Path: "/metadata/identity/oauth2/token", Outcome: api.OutcomeError, Status: 503, Error: "fault"}
	allow := api.Decision{Service: "imds", Outcome: api.OutcomeAllow, Status: 200, Principal: "aks1-agentpool"}
	for _, tc := range []struct {
		name     string
		ds       []api.Decision
		wantHop  string
		status   int
		contains string
	}{
		{"the refusal with a principal, not containerd's anonymous first request", []api.Decision{allow, anon, denied, anon}, "pull", 401, "UNAUTHORIZED: the access token does not grant repository:hello:pull (kubelet: event)"},
		{"else the last refusal", []api.Decision{allow, anon, imds}, "imds", 503, "fault"},
		{"exchange", []api.Decision{{Service: "acr", Path: "/oauth2/exchange", Outcome: api.OutcomeDeny, Status: 401, Principal: "x"}}, "exchange", 401, ""},
		{"token", []api.Decision{{Service: "acr", Path: "/oauth2/token", Outcome: api.OutcomeDeny, Status: 401, Hint: &api.Hint{Text: "expired"}}}, "token", 401, ""},
		{"entra", []api.Decision{{Service: "entra", Outcome: api.OutcomeDeny, Status: 401, Error: "AADSTS700212", Principal: "x"}}, "entra", 401, "AADSTS700212"},
		{"nothing refused", []api.Decision{allow}, "pull", 0, "the simulator refused nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := failedHop(rootCause(tc.ds), "event")
			assert.False(t, h.OK)
			assert.Equal(t, tc.wantHop, h.Name)
			assert.Equal(t, tc.status, h.Status)
			assert.Contains(t, h.Detail, tc.contains)
		})
	}
}

// TestMapIssuer: a scenario naming its own issuer URL for the cluster the
// kind cluster plays gets kube-apiserver's, in the world and in what it
// expects; the trailing-slash variant keeps its meaning.
func TestMapIssuer(t *testing.T) {
	t.Parallel()
	tg, _ := testTarget(t)
	all, err := scenarios.Catalogue()
	require.NoError(t, err)
	sc, ok := scenarios.Find(all, "issuer-trailing-slash")
	require.True(t, ok)
	w, err := sc.BuildWorld()
	require.NoError(t, err)
	const theirs = "https://eastus.oic.prod-aks.azure.com/6c1a5f0e-7d52-4d51-9d2a-0c1b2f3a4b5c/0d9b1c2e-3f4a-4b5c-8d7e-9f0a1b2c3d4e"
	b, err := tg.mapIssuer(w)
	require.NoError(t, err)
	assert.NotContains(t, string(b), theirs)
	mapped, err := world.Parse(b)
	require.NoError(t, err)
	ix, err := world.Compile(mapped, time.Now())
	require.NoError(t, err)
	assert.Equal(t, tg.env.IssuerURL, ix.Clusters[0].IssuerURL)
	p, _ := ix.PrincipalByName("slash-puller")
	assert.Equal(t, strings.TrimSuffix(tg.env.IssuerURL, "/"), p.FederatedCredentials[0].Issuer)
	e := tg.MapExpect(sc.Steps[0].Expect)
	assert.Contains(t, e.Error, "presented assertion issuer '"+tg.env.IssuerURL+"'")

	// A world with the kind cluster's own issuer is left alone.
	b2, err := tg.mapIssuer(world.Default())
	require.NoError(t, err)
	assert.Nil(t, tg.renames)
	want, _ := json.Marshal(world.Default())
	assert.JSONEq(t, string(want), string(b2))
}

func TestCompatible(t *testing.T) {
	t.Parallel()
	tg, _ := testTarget(t)
	w := world.Default()
	w.Clusters[0].NodePools = append(w.Clusters[0].NodePools, world.NodePool{Name: "gpu", Identities: []string{"aks1-agentpool"}})
	sc := &scenarios.Scenario{ID: "x", Steps: []scenarios.Step{
		{Pull: &scenarios.PullStep{NodePool: "nodepool1", Image: "stagingacr.azurecr.io/hello:v1"}},
		{SAToken: &scenarios.SATokenStep{Name: "t", ServiceAccount: "default/app-puller", Cluster: "aks2"}},
	}}
	err := tg.compatible(w, sc)
	require.Error(t, err)
	for _, want := range []string{
		"registry stagingacr.azurecr.io is not a name of the simulator container",
		"node pool aks1/gpu has no IMDS in the simulator container",
		"a step names cluster aks2; the kind cluster plays aks1",
	} {
		assert.Contains(t, err.Error(), want)
	}
	require.NoError(t, tg.compatible(world.Default(), &scenarios.Scenario{ID: "y"}))
}
