package fakeimds

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/ids"
	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// testWorld has one cluster whose node pools cover the rows of the
// selection table (protocols.md 2.3); "stranger" is assigned to no pool.
const testWorld = `
apiVersion: azsim.dev/v1alpha1
kind: World
tenants:
  - name: contoso
subscriptions:
  - name: sub1
resourceGroups:
  - name: rg1
    location: westeurope
  - name: MC_rg1_aks1_westeurope
    location: westeurope
identities:
  - name: kubelet
    resourceGroup: MC_rg1_aks1_westeurope
  - name: addon
    resourceGroup: MC_rg1_aks1_westeurope
  - name: stranger
    resourceGroup: rg1
clusters:
  - name: aks1
    resourceGroup: rg1
    kubeletIdentity: kubelet
    nodePools:
      - name: none
      - name: smi
        systemAssigned: true
      - name: smiuami
        systemAssigned: true
        identities: [kubelet, addon]
      - name: one
        identities: [kubelet]
      - name: two
        identities: [kubelet, addon]
`

// t0 is the fixed simulated time of deterministic tests.
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newTestStore(t testing.TB, clock *world.SimClock) *world.Store {
	t.Helper()
	w, err := world.Parse([]byte(testWorld))
	require.NoError(t, err)
	s, err := world.NewStore(w, clock)
	require.NoError(t, err)
	return s
}

func fixedStore(t testing.TB) *world.Store { return newTestStore(t, world.NewFixedClock(t0)) }

var testKey = sync.OnceValues(func() (*jwtx.Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return jwtx.NewThumbprintKey(priv)
})

// testIssuer mints real RS256 Entra v1 managed-identity tokens
// (protocols.md 1.6) and refuses resources containing "unknown" as Entra
// does (AADSTS500011), so clients see real JWTs and real relayed errors.
type testIssuer struct {
	t     testing.TB
	clock world.Clock
	fail  error // returned instead of a token when set
}

func (i *testIssuer) IssueManagedIdentityToken(p *world.Principal, resource string) (api.IssuedToken, error) {
	if i.fail != nil {
		return api.IssuedToken{}, i.fail
	}
	if strings.Contains(resource, "unknown") {
		return api.IssuedToken{}, &api.ProtocolError{Status: http.StatusBadRequest, Code: "invalid_resource",
			Description: fmt.Sprintf("AADSTS500011: The resource principal named %s was not found in the tenant named %s.", resource, p.TenantID)}
	}
	key, err := testKey()
	if err != nil {
		return api.IssuedToken{}, err
	}
	now := i.clock.Now()
	nbf, exp := now.Add(-world.Backdate), now.Add(world.ManagedIdentityLifetime)
	iss := "https://sts.windows.net/" + p.TenantID + "/"
	claims := api.EntraClaims{
		Aud: resource, Iss: iss, Iat: nbf.Unix(), Nbf: nbf.Unix(), Exp: exp.Unix(),
		AppID: p.ClientID, AppIDACR: "2", IDP: iss, IDTyp: "app", OID: p.ObjectID, Sub: p.ObjectID,
		TID: p.TenantID, UTI: ids.New(), Ver: "1.0", XMSMirid: p.ResourceID,
	}
	tok, err := key.Sign(claims, true)
	if err != nil {
		return api.IssuedToken{}, err
	}
	return api.IssuedToken{AccessToken: tok, Resource: resource, ClientID: p.ClientID,
		IssuedAt: nbf, NotBefore: nbf, ExpiresOn: exp}, nil
}

// decodeClaims verifies a token minted by testIssuer and returns its claims.
func decodeClaims(t testing.TB, raw string) api.EntraClaims {
	t.Helper()
	tok, err := jwtx.Parse(raw)
	require.NoError(t, err)
	key, err := testKey()
	require.NoError(t, err)
	require.NoError(t, tok.Verify(&key.Private.PublicKey))
	var c api.EntraClaims
	require.NoError(t, tok.Claims(&c))
	return c
}

// principal finds a principal of the test world by name.
func principal(t testing.TB, s *world.Store, name string) *world.Principal {
	t.Helper()
	p, ok := s.Snapshot().PrincipalByName(name)
	require.True(t, ok, "principal %q", name)
	return p
}

// serve starts the IMDS of pool over httptest.
func serve(t testing.TB, s *world.Store, pool string, opts ...Option) *httptest.Server {
	t.Helper()
	return newServer(t, newIMDS(t, s, pool, &testIssuer{t: t, clock: s.Clock()}, opts...))
}

// response is a received response with its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with the given headers ("Metadata: true" unless
// headers is non-nil) to srv.
func do(t testing.TB, srv *httptest.Server, method, pathAndQuery string, headers map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+pathAndQuery, nil)
	require.NoError(t, err)
	if headers == nil {
		headers = map[string]string{"Metadata": "true"}
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func get(t testing.TB, srv *httptest.Server, pathAndQuery string) response {
	t.Helper()
	return do(t, srv, http.MethodGet, pathAndQuery, nil)
}

// tokenPath builds a token request path from name/value pairs, in order.
func tokenPath(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, url.QueryEscape(pairs[i])+"="+url.QueryEscape(pairs[i+1]))
	}
	return "/metadata/identity/oauth2/token?" + strings.Join(parts, "&")
}

// decodeToken decodes a success body.
func decodeToken(t testing.TB, body []byte) tokenResponse {
	t.Helper()
	var tr tokenResponse
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&tr), string(body))
	return tr
}

// redirectTransport sends requests for IMDS (169.254.169.254) to target and
// refuses every other host, so a client under test never reaches a network.
type redirectTransport struct {
	target *url.URL
}

func (rt redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != "169.254.169.254" {
		return nil, errors.New("test transport: unexpected host " + req.URL.Host)
	}
	r2 := req.Clone(req.Context())
	r2.URL.Scheme, r2.URL.Host, r2.Host = rt.target.Scheme, rt.target.Host, ""
	return http.DefaultTransport.RoundTrip(r2)
}

func imdsClient(t testing.TB, srv *httptest.Server) *http.Client {
	t.Helper()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	return &http.Client{Transport: redirectTransport{target: u}}
}

// newServer serves h over httptest.
func newServer(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// newIMDS is New, failing the test on error.
func newIMDS(t testing.TB, s *world.Store, pool string, issuer TokenIssuer, opts ...Option) http.Handler {
	t.Helper()
	h, err := New(s, pool, issuer, opts...)
	require.NoError(t, err)
	return h
}
