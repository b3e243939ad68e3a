package sim_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
)

// TestWithEntraTokenLifetime: the Entra settings reach the fake Entra ID.
func TestWithEntraTokenLifetime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		settings sim.EntraSettings
		want     time.Duration
	}{
		{"default", sim.EntraSettings{}, 75 * time.Minute},
		{"set", sim.EntraSettings{TokenLifetime: 10 * time.Minute}, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, certPEM := newCert(t)
			s := simtest.Start(t, testWorld(t, certPEM), sim.WithEntra(tc.settings))
			app := principal(t, s, "ci-app")
			resp, body := postToken(t, s, tenantID(s), url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID},
				"client_secret": {"s3cr3t-value"}, "scope": {"https://management.azure.com/.default"}})
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			var out struct {
				ExpiresIn   int    `json:"expires_in"`
				AccessToken string `json:"access_token"`
			}
			require.NoError(t, json.Unmarshal(body, &out))
			assert.InDelta(t, tc.want.Seconds(), out.ExpiresIn, 2)
			exp := claims(t, out.AccessToken)["exp"].(float64)
			assert.InDelta(t, tc.want.Seconds(), exp-float64(s.World().Clock().Now().Unix()), 2)
		})
	}
}

func TestWithEntraRejectsNegativeDurations(t *testing.T) {
	t.Parallel()
	_, err := sim.New(sim.WithStateDir(t.TempDir()),
		sim.WithEntra(sim.EntraSettings{TokenLifetime: -time.Minute, AssertionSkew: -time.Second}))
	require.Error(t, err)
	assert.ErrorContains(t, err, "token lifetime must be positive")
	assert.ErrorContains(t, err, "assertion skew must not be negative")
}
