package client_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
)

// start runs a simulator and returns it with a client of its admin API.
func start(t *testing.T, opts ...sim.Option) (*sim.Sim, *client.Client) {
	t.Helper()
	s := simtest.Start(t, nil, opts...)
	return s, client.New(s.AdminAddr())
}

// testContext ends with the test, or after a minute.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// decide makes the simulator trace one decision: an IMDS request for a
// token of resource without the Metadata header, which IMDS refuses.
func decide(t *testing.T, s *sim.Sim, resource string) {
	t.Helper()
	resp, err := http.Get("http://" + s.DefaultIMDSAddr() + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + url.QueryEscape(resource))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}
