package fakeacr

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
	"github.com/azsim/azsim/world"
)

// The decisions fakeacr annotates carry the facts they were made on and the
// hint derived from them, never whole tokens; the registry's refusal takes
// the hint of the token request of its flow.
func TestTraceDecisions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(w *world.World) {
		for i := range w.RoleAssignments {
			if w.RoleAssignments[i].Principal == "aks1-agentpool" && w.RoleAssignments[i].Scope == "registry/azsimacr" {
				w.RoleAssignments[i].Principal = "aks1"
			}
		}
	})
	log := trace.NewLog(100)
	e.srv.Config.Handler = trace.Middleware("acr", e.clock, log)(e.acr)

	rt := e.refreshToken(t, azsimacr, "aks1-agentpool")
	at := e.accessToken(t, azsimacr, rt, "repository:hello:pull")
	r := e.get(t, "https://"+azsimacr+"/v2/hello/manifests/v1", "Authorization", "Bearer "+at)
	require.Equal(t, http.StatusUnauthorized, r.status)
	r = e.postForm(t, "https://noarmacr.azurecr.io/oauth2/exchange", url.Values{"grant_type": {"access_token"},
		"service": {"noarmacr.azurecr.io"}, "access_token": {e.entraToken(t, "aks1-agentpool", audARM)}})
	require.Equal(t, http.StatusUnauthorized, r.status)

	ds := log.Recent(0)
	require.Len(t, ds, 4)
	exch, tok, pull, arm := ds[0], ds[1], ds[2], ds[3]
	assert.Equal(t, api.OutcomeAllow, exch.Outcome)
	assert.Equal(t, "aks1-agentpool", exch.Principal)
	assert.Equal(t, "uti-aks1-agentpool", exch.TokenIn)
	assert.NotEmpty(t, exch.TokenOut)
	assert.Equal(t, exch.TokenOut, tok.TokenIn, "the token request continues the exchange's flow")
	assert.Equal(t, exch.Flow, pull.Flow)
	assert.Equal(t, "", tok.Facts["granted"])
	assert.Contains(t, tok.Reason, "not granted: repository:hello:pull")

	assert.Equal(t, api.OutcomeDeny, pull.Outcome)
	assert.Equal(t, "UNAUTHORIZED", pull.Error)
	assert.Equal(t, "hello", pull.Facts["repository"])
	assert.Equal(t, "repository:hello:", pull.Facts["tokenScopes"])
	assert.Contains(t, pull.Hint.String(), "cluster's system-assigned identity 'aks1' but the pull used the kubelet identity 'aks1-agentpool'")
	assert.Equal(t, "acrpull-on-cluster-identity", tok.Hint.Pitfall, "the token request that dropped pull explains it")
	assert.Equal(t, tok.Hint, pull.Hint)
	assert.Equal(t, "2", pull.Facts[api.FactExplainedBy])
	assert.True(t, slices.ContainsFunc(tok.Considered, func(c api.Considered) bool {
		return strings.HasSuffix(c.Name, "(cluster identity aks1)") && !c.Applies
	}), "the cluster identity's assignment is among what was weighed: %+v", tok.Considered)

	assert.Contains(t, arm.Hint.String(), "authentication-as-ARM disabled")
	assert.Equal(t, "authentication-as-arm-disabled", arm.Hint.Pitfall)
	for _, d := range ds {
		for _, v := range []string{d.Reason, d.TokenIn, d.TokenOut, d.Resource} {
			assert.NotContains(t, v, "eyJ", "no whole token in the trace")
		}
	}
}

// A hint describes the world that refused: changing the world after the
// refusal does not change what the trace says about it.
func TestHintOutlivesWorldChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(w *world.World) {
		w.RoleAssignments = slices.DeleteFunc(w.RoleAssignments, func(ra world.RoleAssignment) bool {
			return ra.Principal == "aks1-agentpool"
		})
	})
	log := trace.NewLog(100)
	e.srv.Config.Handler = trace.Middleware(api.ServiceACR, e.clock, log)(e.acr)
	rt := e.refreshToken(t, azsimacr, "aks1-agentpool")
	_ = e.accessToken(t, azsimacr, rt, "repository:hello:pull")
	_, err := e.store.Update(func(w *world.World) error {
		w.RoleAssignments = append(w.RoleAssignments, world.RoleAssignment{Principal: "aks1-agentpool", Role: "AcrPull", Scope: "registry/azsimacr"})
		return nil
	})
	require.NoError(t, err)
	ds := log.Recent(0)
	require.Len(t, ds, 2)
	tok := ds[1]
	require.NotNil(t, tok.Hint)
	assert.Equal(t, "missing-role", tok.Hint.Pitfall)
	assert.Contains(t, tok.Hint.Text, "aks1-agentpool has no role that grants pull on azsimacr/hello")
	assert.Empty(t, tok.Considered, "the world that refused had no assignment for the kubelet identity")
	// The world now grants pull: a new token request is allowed in full.
	at := e.accessToken(t, azsimacr, rt, "repository:hello:pull")
	r := e.get(t, "https://"+azsimacr+"/v2/hello/manifests/v1", "Authorization", "Bearer "+at)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, tok.Hint, log.Recent(0)[1].Hint, "the earlier decision's hint is unchanged")
}

// A token request for several repositories records the facts of the
// repository its hint explains, so the flow's later refusal finds it.
func TestTraceFactsFollowTheHint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	log := trace.NewLog(100)
	e.srv.Config.Handler = trace.Middleware(api.ServiceACR, e.clock, log)(e.acr)
	rt := e.refreshToken(t, "abacacr.azurecr.io", "abac-reader")
	_ = e.accessToken(t, "abacacr.azurecr.io", rt, "repository:hello:pull", "repository:secret/tool:pull")
	ds := log.Recent(0)
	require.Len(t, ds, 2)
	tok := ds[1]
	require.NotNil(t, tok.Hint)
	assert.Equal(t, "abac-registry", tok.Hint.Pitfall)
	assert.Contains(t, tok.Hint.Text, `repository "secret/tool"`)
	assert.Equal(t, "secret/tool", tok.Facts[api.FactRepository], "the facts of the denied repository, not of the first")
	assert.Equal(t, "", tok.Facts[api.FactGranted])
}
