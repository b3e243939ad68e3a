package flow

import (
	"context"
	"net"
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

const image = "azsimacr.azurecr.io/hello:v1"

func hopNames(r *Result) []string {
	out := []string{}
	for _, h := range r.Hops {
		out = append(out, h.Name)
	}
	return out
}

// client reaches the simulator s by the real names, with IMDS of pool.
func client(t *testing.T, s *sim.Sim, pool string) *Client {
	t.Helper()
	tr, err := s.TransportForPool(pool)
	require.NoError(t, err)
	t.Cleanup(tr.CloseIdleConnections)
	return &Client{HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func principal(t *testing.T, s *sim.Sim, name string) *world.Principal {
	t.Helper()
	p, ok := s.World().Snapshot().PrincipalByName(name)
	require.True(t, ok, name)
	return p
}

func tenant(s *sim.Sim) string { return s.World().Snapshot().Tenants[0].ID }

func saToken(t *testing.T, s *sim.Sim, ns, name string, aud ...string) string {
	t.Helper()
	tok, _, err := s.MintServiceAccountToken(api.ServiceAccountTokenRequest{Namespace: ns, ServiceAccount: name, Audiences: aud})
	require.NoError(t, err)
	return tok
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// redirect sends connections to hosts in to to their address, and every
// other connection through base.
func redirect(base *http.Transport, to map[string]string) *http.Transport {
	tr := base.Clone()
	var d net.Dialer
	inner := base.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(addr)
		if a, ok := to[host]; ok {
			return d.DialContext(ctx, network, a)
		}
		return inner(ctx, network, addr)
	}
	return tr
}

func assertSuccess(t *testing.T, r *Result, hops []string) {
	t.Helper()
	failed, isFailed := r.Failed()
	require.True(t, r.OK(), "failed hop: %+v (%v)", failed, isFailed)
	assert.Equal(t, hops, hopNames(r))
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, r.Digest)
	assert.Positive(t, r.Layers)
	assert.Positive(t, r.Bytes)
	for _, h := range r.Hops {
		assert.Equal(t, http.StatusOK, h.Status, h.Name)
		assert.NotEmpty(t, h.Detail, h.Name)
	}
	last := r.Hops[len(r.Hops)-1]
	assert.Contains(t, last.Detail, r.Digest)
}

func TestVMSSAndFederatedSuccess(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	kubelet := principal(t, s, "aks1-agentpool")
	puller := principal(t, s, "app-puller")
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func(c *Client) *Result
		hops []string
	}{
		{"VMSS with client_id", func(c *Client) *Result {
			return c.VMSS(ctx, tenant(s), kubelet.ClientID, image)
		}, []string{"imds", "challenge", "exchange", "token", "pull"}},
		{"VMSS with the only identity", func(c *Client) *Result {
			return c.VMSS(ctx, tenant(s), "", image)
		}, []string{"imds", "challenge", "exchange", "token", "pull"}},
		{"VMSS with the ACR resource and a slash", func(c *Client) *Result {
			return c.VMSS(ctx, tenant(s), kubelet.ClientID, image, Options{Resource: ACRResource + "/"})
		}, []string{"imds", "challenge", "exchange", "token", "pull"}},
		{"VMSS with an ARM token", func(c *Client) *Result {
			return c.VMSS(ctx, tenant(s), kubelet.ClientID, image, Options{Resource: "https://management.azure.com/"})
		}, []string{"imds", "challenge", "exchange", "token", "pull"}},
		{"Federated", func(c *Client) *Result {
			return c.Federated(ctx, tenant(s), puller.ClientID, saToken(t, s, "default", "app-puller"), image)
		}, []string{"entra", "challenge", "exchange", "token", "pull"}},
		{"Federated with an ARM token", func(c *Client) *Result {
			return c.Federated(ctx, tenant(s), puller.ClientID, saToken(t, s, "default", "app-puller"), image,
				Options{Resource: "https://management.azure.com/"})
		}, []string{"entra", "challenge", "exchange", "token", "pull"}},
		{"Federated with the scope repository named", func(c *Client) *Result {
			return c.Federated(ctx, tenant(s), puller.ClientID, saToken(t, s, "default", "app-puller"), image,
				Options{ScopeRepository: "hello"})
		}, []string{"entra", "challenge", "exchange", "token", "pull"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.run(client(t, s, ""))
			assertSuccess(t, r, tc.hops)
			assert.NotEmpty(t, r.RefreshToken)
			assert.Contains(t, r.Hops[3].Detail, "access token for repository:hello:pull grants [")
			assert.Contains(t, r.Hops[3].Detail, "pull")
		})
	}
}

func TestWithRefreshToken(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	c := client(t, s, "")
	ctx := context.Background()
	first := c.VMSS(ctx, tenant(s), principal(t, s, "aks1-agentpool").ClientID, image)
	require.True(t, first.OK(), "%+v", first.Hops)
	for _, tc := range []struct {
		name    string
		refresh string
		image   string
		opts    []Options
		hops    []string
		failed  string
		status  int
		detail  string
	}{
		{"reuses the refresh token", first.RefreshToken, image, nil, []string{"challenge", "token", "pull"}, "", 0, ""},
		{"bad refresh token", "not-a-token", image, nil, []string{"challenge", "token"}, "token", http.StatusUnauthorized, ""},
		{"bad image reference", first.RefreshToken, "Not A Reference!", nil, []string{"pull"}, "pull", 0, "bad image reference"},
		{"token for another repository", first.RefreshToken, image, []Options{{ScopeRepository: "other"}},
			[]string{"challenge", "token", "pull"}, "pull", http.StatusUnauthorized, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.WithRefreshToken(ctx, tc.refresh, tc.image, tc.opts...)
			assert.Equal(t, tc.refresh, r.RefreshToken, "the refresh token is kept")
			if tc.failed == "" {
				assertSuccess(t, r, tc.hops)
				assert.Equal(t, first.Digest, r.Digest)
				return
			}
			assert.Equal(t, tc.hops, hopNames(r))
			h, failed := r.Failed()
			require.True(t, failed)
			assert.False(t, r.OK())
			assert.Equal(t, tc.failed, h.Name)
			assert.Equal(t, tc.status, h.Status)
			assert.Contains(t, h.Detail, tc.detail)
		})
	}
}

func TestEntraOnly(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	c := client(t, s, "")
	puller := principal(t, s, "app-puller")
	for _, tc := range []struct {
		name      string
		clientID  string
		assertion string
		ok        bool
		status    int
		detail    string
	}{
		{"federated token", puller.ClientID, saToken(t, s, "default", "app-puller"), true, http.StatusOK, "access token for " + ACRResource},
		{"audience mismatch", puller.ClientID, saToken(t, s, "default", "app-puller", "api://Wrong"), false, http.StatusUnauthorized, "AADSTS700212"},
		{"subject mismatch", puller.ClientID, saToken(t, s, "kube-system", "app-puller"), false, http.StatusUnauthorized, "AADSTS700213"},
		{"not a JWT", puller.ClientID, "not-a-jwt", false, 0, "AADSTS"},
		{"unknown client", "00000000-0000-0000-0000-00000000beef", saToken(t, s, "default", "app-puller"), false, 0, "AADSTS700016"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.EntraOnly(context.Background(), tenant(s), tc.clientID, tc.assertion)
			require.Len(t, r.Hops, 1)
			h := r.Hops[0]
			assert.Equal(t, "entra", h.Name)
			assert.Equal(t, tc.ok, h.OK)
			assert.Equal(t, tc.ok, r.OK())
			if tc.status != 0 {
				assert.Equal(t, tc.status, h.Status)
			} else {
				assert.GreaterOrEqual(t, h.Status, 400)
			}
			assert.Contains(t, h.Detail, tc.detail)
			assert.Empty(t, r.Digest)
		})
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	armOff := world.Default()
	f := false
	armOff.Registries[0].AuthenticationAsArm = &f
	sArmOff := simtest.Start(t, armOff)
	ctx := context.Background()
	kubelet := principal(t, s, "aks1-agentpool").ClientID
	puller := principal(t, s, "app-puller").ClientID
	stranger := "00000000-0000-0000-0000-00000000beef"
	closed := closedAddr(t)
	base, err := s.TransportForPool("")
	require.NoError(t, err)
	httpVia := func(tr *http.Transport) *Client {
		t.Cleanup(tr.CloseIdleConnections)
		return &Client{HTTP: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	}
	for _, tc := range []struct {
		name   string
		run    func() *Result
		hops   []string
		status int
		detail []string
	}{
		{"IMDS unreachable", func() *Result {
			c := httpVia(redirect(base, map[string]string{sim.IMDSHost: closed}))
			return c.VMSS(ctx, tenant(s), kubelet, image)
		}, []string{"imds"}, 0, []string{"IMDS unreachable", "connection refused"}},
		{"IMDS refuses an identity not on the VMSS", func() *Result {
			return client(t, s, "").VMSS(ctx, tenant(s), stranger, image)
		}, []string{"imds"}, http.StatusBadRequest, []string{"Identity not found"}},
		{"Entra unreachable", func() *Result {
			c := httpVia(redirect(base, map[string]string{"login.microsoftonline.com": closed}))
			return c.Federated(ctx, tenant(s), puller, saToken(t, s, "default", "app-puller"), image)
		}, []string{"entra"}, 0, []string{"Entra ID unreachable"}},
		{"Entra error", func() *Result {
			return client(t, s, "").Federated(ctx, tenant(s), puller, saToken(t, s, "default", "app-puller", "api://Wrong"), image)
		}, []string{"entra"}, http.StatusUnauthorized, []string{"AADSTS700212", "invalid_client"}},
		{"registry unreachable", func() *Result {
			c := httpVia(redirect(base, map[string]string{"azsimacr.azurecr.io": closed}))
			return c.VMSS(ctx, tenant(s), kubelet, image)
		}, []string{"imds", "challenge"}, 0, []string{"registry unreachable"}},
		{"unknown registry", func() *Result {
			return client(t, s, "").VMSS(ctx, tenant(s), kubelet, "nosuchacr.azurecr.io/hello:v1")
		}, []string{"imds", "challenge"}, http.StatusMisdirectedRequest, []string{"want 401 with one Bearer challenge, got 421"}},
		{"exchange refuses an ARM token (VMSS)", func() *Result {
			return client(t, sArmOff, "").VMSS(ctx, tenant(sArmOff), kubelet, image, Options{Resource: "https://management.azure.com/"})
		}, []string{"imds", "challenge", "exchange"}, http.StatusUnauthorized, []string{"arm aad token disallowed"}},
		{"exchange refuses an ARM token (federated)", func() *Result {
			return client(t, sArmOff, "").Federated(ctx, tenant(sArmOff), puller, saToken(t, sArmOff, "default", "app-puller"), image,
				Options{Resource: "https://management.azure.com/"})
		}, []string{"entra", "challenge", "exchange"}, http.StatusUnauthorized, []string{"arm aad token disallowed"}},
		{"token for another repository", func() *Result {
			return client(t, s, "").VMSS(ctx, tenant(s), kubelet, image, Options{ScopeRepository: "other"})
		}, []string{"imds", "challenge", "exchange", "token", "pull"}, http.StatusUnauthorized, []string{"UNAUTHORIZED"}},
		{"missing image", func() *Result {
			return client(t, s, "").VMSS(ctx, tenant(s), kubelet, "azsimacr.azurecr.io/hello:nope")
		}, []string{"imds", "challenge", "exchange", "token", "pull"}, http.StatusNotFound, []string{"MANIFEST_UNKNOWN"}},
		{"bad image reference", func() *Result {
			return client(t, s, "").VMSS(ctx, tenant(s), kubelet, "Not A Reference!")
		}, []string{"imds", "pull"}, 0, []string{"bad image reference"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.run()
			assert.Equal(t, tc.hops, hopNames(r))
			assert.False(t, r.OK())
			h, failed := r.Failed()
			require.True(t, failed)
			assert.Equal(t, tc.hops[len(tc.hops)-1], h.Name, "the last hop is the one that failed")
			assert.Equal(t, tc.status, h.Status)
			for _, d := range tc.detail {
				assert.Contains(t, h.Detail, d)
			}
			for _, ok := range r.Hops[:len(r.Hops)-1] {
				assert.True(t, ok.OK, ok.Name)
			}
			assert.Empty(t, r.Digest)
		})
	}
}
