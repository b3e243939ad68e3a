package sim_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
	"github.com/azsim/azsim/world"
)

// lastEntra returns the newest Entra decision of s.
func lastEntra(t *testing.T, s *sim.Sim) api.Decision {
	t.Helper()
	ds := s.Decisions(0)
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Service == api.ServiceEntra {
			return ds[i]
		}
	}
	t.Fatal("no Entra decision")
	return api.Decision{}
}

// An expired assertion is explained by what the assertion says: a token
// azsim's issuer minted before the clock moved has expired (re-read the
// token file), but a token issued at a simulated time the clock jumped over
// came from an issuer on another clock (a real kube-apiserver) and is fresh
// for it.
func TestExpiredAssertionHintTellsTheClocksApart(t *testing.T) {
	t.Parallel()
	clock := world.NewSimClock()
	s := simtest.Start(t, nil, sim.WithClock(clock))
	tid, puller := tenantID(s), principal(t, s, "app-puller")
	early := saToken(t, s, "default", "app-puller")

	clock.Advance(3 * time.Hour)
	resp, body := postToken(t, s, tid, assertionForm(puller.ClientID, early))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, string(body))
	d := lastEntra(t, s)
	assert.Equal(t, "AADSTS700024", d.Error)
	require.NotNil(t, d.Hint)
	assert.Equal(t, "expired-sa-token", d.Hint.Pitfall)
	assert.Contains(t, d.Hint.Text, "re-read AZURE_FEDERATED_TOKEN_FILE")

	// A kube-apiserver signing with the cluster's key on the wall clock
	// mints a token a little later: an hour of life, three hours behind the
	// simulation (iat has whole seconds, hence a later second).
	wall := time.Now().Add(2 * time.Second)
	c := claims(t, saToken(t, s, "default", "app-puller"))
	c["iat"], c["nbf"], c["exp"] = wall.Unix(), wall.Unix(), wall.Add(time.Hour).Unix()
	keys, err := sim.IssuerKeysOf(s, "aks1")
	require.NoError(t, err)
	fresh, err := keys[len(keys)-1].SignBare(c)
	require.NoError(t, err)
	resp, body = postToken(t, s, tid, assertionForm(puller.ClientID, fresh))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, string(body))
	d = lastEntra(t, s)
	assert.Equal(t, "AADSTS700024", d.Error)
	require.NotNil(t, d.Hint)
	assert.Equal(t, "simulated-clock-ahead", d.Hint.Pitfall)
	assert.NotContains(t, d.Hint.Text, "AZURE_FEDERATED_TOKEN_FILE")
	assert.Equal(t, time.Unix(wall.Unix(), 0).UTC().Format(time.RFC3339), d.Facts[api.FactAssertionIssued])
}

// The federated credentials weighed are recorded field by field.
func TestFederatedCredentialsConsidered(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	resp, body := postToken(t, s, tenantID(s), assertionForm(principal(t, s, "app-puller").ClientID, saToken(t, s, "payments", "app-puller")))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, string(body))
	d := lastEntra(t, s)
	assert.Equal(t, "AADSTS700213", d.Error)
	require.Len(t, d.Considered, 1)
	assert.Equal(t, api.ConsideredFederatedCredential, d.Considered[0].Kind)
	assert.False(t, d.Considered[0].Applies)
	assert.Contains(t, d.Considered[0].Why, `subject "system:serviceaccount:default:app-puller" ≠ token's "system:serviceaccount:payments:app-puller"`)
	assert.NotContains(t, d.Considered[0].Why, "issuer", "the issuer matched")
	b, err := json.Marshal(d)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"pitfall":"fic-subject-mismatch"`)
}
