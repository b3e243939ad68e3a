package fakeacr

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/diagnose"
	"github.com/azsim/azsim/internal/middleware/trace"
	"github.com/azsim/azsim/world"
)

// The decisions fakeacr annotates carry the facts internal/diagnose needs
// to name the pitfall, and never whole tokens.
func TestTraceDecisions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(w *world.World) {
		for i := range w.RoleAssignments {
			if w.RoleAssignments[i].Principal == "aks1-agentpool" && w.RoleAssignments[i].Scope == "registry/azsimacr" {
				w.RoleAssignments[i].Principal = "aks1"
			}
		}
	})
	log := trace.NewLog(100, diagnose.Hinter(e.store))
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

	assert.Contains(t, arm.Hint.String(), "authentication-as-ARM disabled")
	for _, d := range ds {
		for _, v := range []string{d.Reason, d.TokenIn, d.TokenOut, d.Resource} {
			assert.NotContains(t, v, "eyJ", "no whole token in the trace")
		}
	}
}
