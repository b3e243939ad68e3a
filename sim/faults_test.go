package sim_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim/simtest"
)

// A login server's registry API is the registry service and its token
// endpoints are ACR: a fault rule for one never answers the other.
func TestFaultServicesSplitTheLoginServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, rule string
		ping       int // GET /v2/ without credentials
		token      int // GET /oauth2/token, anonymous
	}{
		{"registry", `{"service":"registry","path":"/v2/*","status":503}`, 503, 401},
		{"acr", `{"service":"acr","path":"/oauth2/*","status":503}`, 401, 503},
		{"acr does not reach /v2/", `{"service":"acr","path":"/v2/*","status":503}`, 401, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := simtest.Start(t, nil)
			code, body := admin(t, s, http.MethodPost, "/api/faults", tc.rule, "")
			require.Equal(t, http.StatusOK, code, body)
			c := s.Client()
			assert.Equal(t, tc.ping, status(t, c, "https://azsimacr.azurecr.io/v2/"))
			assert.Equal(t, tc.token, status(t, c, "https://azsimacr.azurecr.io/oauth2/token?service=azsimacr.azurecr.io&scope=repository:hello:pull"))
		})
	}
}

func status(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	return resp.StatusCode
}
