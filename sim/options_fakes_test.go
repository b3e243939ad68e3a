package sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/fakeimds"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
)

// The IMDS settings reach every node pool's IMDS.
func TestWithIMDS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name               string
		settings           sim.IMDSSettings
		server, missingRes string
		versions           int
	}{
		{"defaults", sim.IMDSSettings{}, fakeimds.ServerHeader, "", len(fakeimds.DefaultAPIVersions())},
		{"set", sim.IMDSSettings{ServerHeader: "IMDS/1.2.3", APIVersions: []string{"2018-02-01", "2019-08-01"},
			Messages: fakeimds.Messages{MissingResource: "no resource, said the test"}}, "IMDS/1.2.3", "no resource, said the test", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := simtest.Start(t, nil, sim.WithIMDS(tc.settings))
			c := s.Client()
			resp, body := imdsGet(t, c, "/metadata/versions")
			assert.Equal(t, tc.server, resp.Header.Get("Server"))
			var v struct {
				APIVersions []string `json:"apiVersions"`
			}
			require.NoError(t, json.Unmarshal(body, &v), string(body))
			assert.Len(t, v.APIVersions, tc.versions)
			resp, body = imdsGet(t, c, "/metadata/identity/oauth2/token?api-version=2018-02-01")
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			if tc.missingRes != "" {
				assert.Contains(t, string(body), tc.missingRes)
			}
		})
	}
}

func imdsGet(t *testing.T, c *http.Client, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://169.254.169.254"+path, nil)
	require.NoError(t, err)
	req.Header.Set("Metadata", "true")
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// The ACR setting reaches the fake ACR: GET /oauth2/token answers an Entra
// principal with a refresh token only when asked to.
func TestWithACRRefreshTokenInTokenResponse(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{false, true} {
		s := simtest.Start(t, nil, sim.WithACR(sim.ACRSettings{RefreshTokenInTokenResponse: on}))
		rt := acrRefreshToken(t, s)
		req, err := http.NewRequest(http.MethodGet, "https://azsimacr.azurecr.io/oauth2/token?"+url.Values{
			"service": {"azsimacr.azurecr.io"}, "scope": {"repository:hello:pull"}}.Encode(), nil)
		require.NoError(t, err)
		req.SetBasicAuth("00000000-0000-0000-0000-000000000000", rt)
		resp, err := s.Client().Do(req)
		require.NoError(t, err)
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		_, has := out["refresh_token"]
		assert.Equal(t, on, has, "refresh_token in the answer with the setting %v", on)
	}
}

// acrRefreshToken is the kubelet identity's ACR refresh token for azsimacr:
// IMDS, then the ACR exchange.
func acrRefreshToken(t *testing.T, s *sim.Sim) string {
	t.Helper()
	c := s.Client()
	req, err := http.NewRequest(http.MethodGet, "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://containerregistry.azure.net", nil)
	require.NoError(t, err)
	req.Header.Set("Metadata", "true")
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	decodeOK(t, c, req, &tok)
	form := url.Values{"grant_type": {"access_token"}, "service": {"azsimacr.azurecr.io"}, "access_token": {tok.AccessToken}}
	decodeOK(t, c, postFormRequest(t, "https://azsimacr.azurecr.io/oauth2/exchange", form), &tok)
	return tok.RefreshToken
}

// The upload-session limits reach every registry: the next session of a
// principal over its bound is refused, and idle sessions expire on the
// simulated clock.
func TestWithACRUploadSessionLimits(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, storageWorld(), sim.WithACR(sim.ACRSettings{MaxUploadsPerPrincipal: 2, UploadIdleTimeout: time.Minute}))
	admin := registryClient{t: t, s: s}
	for i := range 2 {
		st, _, body := admin.do(http.MethodPost, "/v2/hello/blobs/uploads/", "", nil)
		require.Equal(t, http.StatusAccepted, st, "session %d: %s", i, body)
	}
	st, _, body := admin.do(http.MethodPost, "/v2/hello/blobs/uploads/", "", nil)
	assert.Equal(t, http.StatusTooManyRequests, st)
	assert.Contains(t, body, `"code":"TOOMANYREQUESTS"`)

	s.World().Clock().Advance(2 * time.Minute)
	st, _, body = admin.do(http.MethodPost, "/v2/hello/blobs/uploads/", "", nil)
	assert.Equal(t, http.StatusAccepted, st, "idle sessions expired after the configured timeout: %s", body)
}

// Negative ACR settings make New fail, naming every field at fault.
func TestACRSettingsAreValidated(t *testing.T) {
	t.Parallel()
	_, err := sim.New(sim.WithStateDir(t.TempDir()),
		sim.WithACR(sim.ACRSettings{UploadIdleTimeout: -time.Second, MaxUploadsPerPrincipal: -1}))
	require.Error(t, err)
	assert.ErrorContains(t, err, "UploadIdleTimeout")
	assert.ErrorContains(t, err, "MaxUploadsPerPrincipal")
}
