package sim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/ids"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
	"github.com/azsim/azsim/world"
)

func lastDecision(t *testing.T, s *sim.Sim, service string) api.Decision {
	t.Helper()
	resp, err := http.Get("http://" + s.AdminAddr() + "/api/trace")
	require.NoError(t, err)
	defer resp.Body.Close()
	var ds []api.Decision
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ds))
	for i := len(ds) - 1; i >= 0; i-- {
		if string(ds[i].Service) == service {
			return ds[i]
		}
	}
	t.Fatalf("no %s decision in %v", service, ds)
	return api.Decision{}
}

func TestTraceExplainsEntraDenials(t *testing.T) {
	t.Parallel()
	_, _, certPEM := newCert(t)
	s := simtest.Start(t, testWorld(t, certPEM))
	tid := tenantID(s)
	puller := principal(t, s, "app-puller")
	for _, tc := range []struct {
		clientID, token, code, hint string
	}{
		{puller.ClientID, saToken(t, s, "default", "app-puller", "api://AzureCRTokenExchange"), "AADSTS700212", `audience mismatch: the token's audience is "api://AzureCRTokenExchange" but the federated credentials of app-puller expect "api://AzureADTokenExchange"`},
		{puller.ClientID, saToken(t, s, "kube-system", "app-puller"), "AADSTS700213", `subject mismatch: the token is for "system:serviceaccount:kube-system:app-puller"`},
		{principal(t, s, "noslash-id").ClientID, saToken(t, s, "default", "noslash"), "AADSTS700211", "issuer trailing-slash mismatch"},
		{principal(t, s, "case-id").ClientID, saToken(t, s, "default", "case-test"), "AADSTS7002138", "subject case mismatch"},
	} {
		resp, body := postToken(t, s, tid, assertionForm(tc.clientID, tc.token))
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, string(body))
		d := lastDecision(t, s, "entra")
		assert.Equal(t, api.OutcomeDeny, d.Outcome)
		assert.Equal(t, tc.code, d.Error)
		assert.Contains(t, d.Hint.String(), tc.hint)
		assert.NotEmpty(t, d.TokenIn, "the assertion's jti correlates the flow")
		assert.NotContains(t, mustJSON(t, d), tc.token, "tokens are never recorded whole")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func imdsWorld(t *testing.T) *world.World {
	t.Helper()
	w := world.Default()
	w.Identities = append(w.Identities, world.Identity{Name: "addon", ResourceGroup: "MC_rg-azsim_aks1_eastus"},
		world.Identity{Name: "stranger", ResourceGroup: "rg-azsim"})
	w.Clusters[0].NodePools[0].Identities = append(w.Clusters[0].NodePools[0].Identities, "addon")
	return w
}

func miCred(t *testing.T, s *sim.Sim, id azidentity.ManagedIDKind, retry policy.RetryOptions) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ID: id, ClientOptions: azcore.ClientOptions{Transport: s.Client(), Retry: retry}})
	require.NoError(t, err)
	return cred
}

func TestTraceExplainsIMDSDenials(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, imdsWorld(t))
	noRetry := policy.RetryOptions{MaxRetries: -1}
	_, err := miCred(t, s, azidentity.ClientID(principal(t, s, "stranger").ClientID), noRetry).GetToken(context.Background(),
		policy.TokenRequestOptions{Scopes: []string{"https://containerregistry.azure.net/.default"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the requested identity isn't assigned to this resource")
	d := lastDecision(t, s, "imds")
	assert.Equal(t, "Identity not found", d.Error)
	assert.Contains(t, d.Hint.String(), "identity stranger is not assigned to VMSS aks-nodepool1-")

	resp, err := s.Client().Do(imdsRequest(t, ""))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	d = lastDecision(t, s, "imds")
	assert.True(t, strings.HasPrefix(d.Error, "Multiple user assigned identities exist"))
	assert.Contains(t, d.Hint.String(), "has 2 user-assigned identities and the request named none")
}

func imdsRequest(t *testing.T, clientID string) *http.Request {
	t.Helper()
	u := "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://containerregistry.azure.net"
	if clientID != "" {
		u += "&client_id=" + clientID
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	req.Header.Set("Metadata", "true")
	return req
}

// TestFaultIMDS429Retried shows azidentity's reaction to an injected IMDS
// 429: it retries and then gets a token.
func TestFaultIMDS429Retried(t *testing.T) {
	t.Parallel()
	// An identity of its own (a fresh client ID): MSAL caches managed-identity
	// tokens process-wide, so a repeated run must not find one cached.
	w := world.Default()
	name := "retry-" + ids.New()[:8]
	w.Identities = append(w.Identities, world.Identity{Name: name, ResourceGroup: "MC_rg-azsim_aks1_eastus"})
	w.Clusters[0].NodePools[0].Identities = append(w.Clusters[0].NodePools[0].Identities, name)
	s := simtest.Start(t, w)
	code, rule := admin(t, s, http.MethodPost, "/api/faults",
		`{"service":"imds","path":"/metadata/identity/*","status":429,"headers":{"Retry-After":"0"},"count":2}`, "")
	require.Equal(t, http.StatusOK, code, rule)
	kubelet := principal(t, s, name)
	cred := miCred(t, s, azidentity.ClientID(kubelet.ClientID), policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond})
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	require.NoError(t, err)
	assert.Equal(t, kubelet.ObjectID, claims(t, tok.Token)["oid"])
	resp, err := http.Get("http://" + s.AdminAddr() + "/api/trace")
	require.NoError(t, err)
	defer resp.Body.Close()
	var ds []api.Decision
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ds))
	var statuses []string
	for _, d := range ds {
		if d.Service == "imds" {
			statuses = append(statuses, fmt.Sprintf("%d×%d", d.Status, d.Repeats+1))
		}
	}
	assert.Equal(t, []string{"429×2", "200×1"}, statuses, "the two identical 429s are folded into one decision")
	code, _ = admin(t, s, http.MethodPost, "/api/faults", `{"service":"nope","status":42}`, "")
	assert.Equal(t, http.StatusBadRequest, code)
}

// TestTraceFollowStreams: GET /api/trace?follow=1 streams decisions as they
// happen, one JSON object per line.
func TestTraceFollowStreams(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.AdminAddr()+"/api/trace?follow=1", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
	r, err := s.Client().Do(imdsRequest(t, ""))
	require.NoError(t, err)
	r.Body.Close()
	var d api.Decision
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&d))
	assert.Equal(t, api.ServiceIMDS, d.Service)
	assert.Equal(t, http.StatusOK, d.Status)
	assert.Equal(t, "aks1-agentpool", d.Principal)
}
