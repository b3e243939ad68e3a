package sim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
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
	// simulation (later than the few seconds of skew that are tolerated).
	wall := time.Now().Add(10 * time.Second)
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

// kubeletPull runs the VMSS flow by hand: IMDS, the ACR exchange, an access
// token for repository hello, the manifest.
func kubeletPull(t *testing.T, s *sim.Sim) int {
	t.Helper()
	c := s.Client()
	const reg = "https://azsimacr.azurecr.io"
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	form := url.Values{"grant_type": {"refresh_token"}, "service": {"azsimacr.azurecr.io"}, "scope": {"repository:hello:pull"}, "refresh_token": {acrRefreshToken(t, s)}}
	decodeOK(t, c, postFormRequest(t, reg+"/oauth2/token", form), &tok)
	req, err := http.NewRequest(http.MethodGet, reg+"/v2/hello/manifests/v1", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := c.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}

func postFormRequest(t *testing.T, target string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func decodeOK(t *testing.T, c *http.Client, req *http.Request, out any) {
	t.Helper()
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, req.URL.String())
	require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
}

// A world written through the admin API between a refused pull and reading
// the trace does not change what the trace says about the refusal: the
// hint was derived, when the registry refused, from the world that refused.
func TestHintDescribesTheWorldThatRefused(t *testing.T) {
	t.Parallel()
	w := world.Default()
	for i := range w.RoleAssignments {
		if w.RoleAssignments[i].Principal == "aks1-agentpool" {
			w.RoleAssignments[i].Principal = "aks1" // AcrPull on the cluster identity
		}
	}
	s := simtest.Start(t, w)
	require.Equal(t, http.StatusUnauthorized, kubeletPull(t, s))

	fixed := world.Default() // AcrPull back on the kubelet identity
	body, err := json.Marshal(fixed)
	require.NoError(t, err)
	code, m := admin(t, s, http.MethodPut, "/api/world", string(body), "")
	require.Equal(t, http.StatusOK, code, m)
	require.Equal(t, http.StatusOK, kubeletPull(t, s), "the new world grants the pull")

	resp, err := http.Get("http://" + s.AdminAddr() + "/api/trace")
	require.NoError(t, err)
	defer resp.Body.Close()
	var ds []api.Decision
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ds))
	var refused *api.Decision
	for i := range ds {
		if ds[i].Service == api.ServiceRegistry && ds[i].Status == http.StatusUnauthorized && ds[i].Principal != "" {
			refused = &ds[i]
		}
	}
	require.NotNil(t, refused, "the refused manifest read is in the trace")
	require.NotNil(t, refused.Hint)
	assert.Equal(t, "acrpull-on-cluster-identity", refused.Hint.Pitfall)
	assert.Contains(t, refused.Hint.Text, "cluster's system-assigned identity 'aks1' but the pull used the kubelet identity 'aks1-agentpool'")
	assert.NotEmpty(t, refused.Facts[api.FactExplainedBy], "explained by the token request of its flow")
}

// A clock set back (as the kind target does before each scenario) makes the
// times it once jumped over current again: a token minted there by azsim's
// issuer and then outlived is expired, not from another clock.
func TestExpiredAfterClockReset(t *testing.T) {
	t.Parallel()
	t0 := time.Now().Truncate(time.Second)
	clock := world.NewFixedClock(t0)
	s := simtest.Start(t, nil, sim.WithClock(clock))
	clock.Advance(3 * time.Hour)
	clock.Set(t0.Add(time.Second))
	tok := saToken(t, s, "default", "app-puller")
	clock.Advance(2 * time.Hour)
	resp, body := postToken(t, s, tenantID(s), assertionForm(principal(t, s, "app-puller").ClientID, tok))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, string(body))
	d := lastEntra(t, s)
	require.NotNil(t, d.Hint)
	assert.Equal(t, "expired-sa-token", d.Hint.Pitfall)
}

// An issuer whose clock is a second ahead of the simulated one (a reset
// truncated to the second, as the kind target makes it) mints a token just
// before the clock is moved on: the token expired, it is not from another
// clock.
func TestExpiredWithinClockTolerance(t *testing.T) {
	t.Parallel()
	t0 := time.Now().Truncate(time.Second)
	clock := world.NewFixedClock(t0)
	s := simtest.Start(t, nil, sim.WithClock(clock))
	c := claims(t, saToken(t, s, "default", "app-puller"))
	c["iat"], c["nbf"], c["exp"] = t0.Unix()+1, t0.Unix()+1, t0.Add(time.Hour).Unix()
	keys, err := sim.IssuerKeysOf(s, "aks1")
	require.NoError(t, err)
	tok, err := keys[len(keys)-1].SignBare(c)
	require.NoError(t, err)
	clock.Advance(2 * time.Hour)
	resp, body := postToken(t, s, tenantID(s), assertionForm(principal(t, s, "app-puller").ClientID, tok))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, string(body))
	d := lastEntra(t, s)
	require.NotNil(t, d.Hint)
	assert.Equal(t, "expired-sa-token", d.Hint.Pitfall)
}
