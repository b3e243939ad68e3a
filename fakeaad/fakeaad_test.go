package fakeaad

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func newEntra(t testing.TB, opts ...Option) (*Entra, *world.Store) {
	t.Helper()
	store, err := world.NewStore(world.Default(), world.NewFixedClock(t0))
	require.NoError(t, err)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	key, err := jwtx.NewThumbprintKey(k)
	require.NoError(t, err)
	e, err := New(store, jwtx.StaticKeyring{key}, opts...)
	require.NoError(t, err)
	return e, store
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Host = "login.microsoftonline.com"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(got, &v))
	pretty, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, append(pretty, '\n'), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create %s", path)
	assert.Equal(t, string(want), string(pretty)+"\n")
}

func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	e, store := newEntra(t)
	tid := store.Snapshot().Tenants[0].ID
	for _, tc := range []struct{ path, golden string }{
		{"/" + tid + "/v2.0/.well-known/openid-configuration", "openid-configuration-v2.json"},
		{"/AZSIM.onmicrosoft.com/v2.0/.well-known/openid-configuration", "openid-configuration-v2-domain.json"},
		{"/" + tid + "/.well-known/openid-configuration", "openid-configuration-v1.json"},
		{"/common/v2.0/.well-known/openid-configuration", "openid-configuration-common.json"},
	} {
		w := get(t, e, tc.path)
		require.Equal(t, http.StatusOK, w.Code, tc.path)
		assert.Equal(t, "max-age=86400, private", w.Header().Get("Cache-Control"))
		golden(t, tc.golden, w.Body.Bytes())
	}
	w := get(t, e, "/nope.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	require.Equal(t, http.StatusBadRequest, w.Code)
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	assert.Equal(t, "invalid_tenant", body["error"], "the configuration GET says invalid_tenant (protocols.md 1.7)")
	assert.Equal(t, []any{float64(90002)}, body["error_codes"])
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	e, store := newEntra(t)
	tid := store.Snapshot().Tenants[0].ID
	w := get(t, e, "/"+tid+"/discovery/v2.0/keys")
	require.Equal(t, http.StatusOK, w.Code)
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &set))
	require.Len(t, set.Keys, 1)
	k := set.Keys[0]
	assert.Equal(t, "RSA", k["kty"])
	assert.Equal(t, "sig", k["use"])
	assert.Equal(t, e.active().KID, k["kid"])
	assert.Equal(t, k["kid"], k["x5t"])
	assert.Equal(t, "AQAB", k["e"])
	assert.Equal(t, "https://login.microsoftonline.com/"+tid+"/v2.0", k["issuer"])
	w = get(t, e, "/"+tid+"/discovery/keys")
	assert.NotContains(t, w.Body.String(), `"issuer"`, "v1 keys carry no issuer")
}

func TestInstanceDiscovery(t *testing.T) {
	t.Parallel()
	e, _ := newEntra(t)
	w := get(t, e, "/common/discovery/instance?api-version=1.1&authorization_endpoint="+url.QueryEscape("https://login.microsoftonline.com/tid/oauth2/v2.0/authorize"))
	require.Equal(t, http.StatusOK, w.Code)
	golden(t, "instance-discovery.json", w.Body.Bytes())

	w = get(t, e, "/common/discovery/instance?api-version=1.1&authorization_endpoint="+url.QueryEscape("https://login.microsoftonline.com:8443/tid/oauth2/v2.0/authorize"))
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `"tenant_discovery_endpoint":"https://login.microsoftonline.com:8443/tid/v2.0/.well-known/openid-configuration"`)

	w = get(t, e, "/common/discovery/instance?api-version=1.1&authorization_endpoint="+url.QueryEscape("https://fake.example/tid/oauth2/v2.0/authorize"))
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), `"error":"invalid_instance"`)
	assert.Contains(t, w.Body.String(), "AADSTS50049: Unknown or invalid instance.")
}

func TestResourceFromScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		scope, resource string
		code            int
	}{
		{"https://management.azure.com/.default", "https://management.azure.com", 0},
		{"https://management.core.windows.net//.default openid offline_access profile", "https://management.core.windows.net/", 0},
		{"openid https://containerregistry.azure.net/.default", "https://containerregistry.azure.net", 0},
		{"api://my-app/.default", "api://my-app", 0},
		{"https://graph.microsoft.com/User.Read", "", 1002012},
		{"/.default", "", 1002012},
		{"openid profile", "", 900144},
		{"a/.default b/.default", "", 70011},
	} {
		got, aerr := resourceFromScope(tc.scope)
		if tc.code == 0 {
			require.Nil(t, aerr, tc.scope)
			assert.Equal(t, tc.resource, got, tc.scope)
			continue
		}
		require.NotNil(t, aerr, tc.scope)
		assert.Equal(t, tc.code, aerr.number, tc.scope)
	}
}

func TestTokenEndpointMethod(t *testing.T) {
	t.Parallel()
	e, store := newEntra(t)
	w := get(t, e, "/"+store.Snapshot().Tenants[0].ID+"/oauth2/v2.0/token")
	require.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), "AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a GET request.")
}

func TestVerifyAccessToken(t *testing.T) {
	t.Parallel()
	e, store := newEntra(t)
	ix := store.Snapshot()
	p, _ := ix.PrincipalByName("aks1-agentpool")
	tok, err := e.IssueManagedIdentityToken(p, "https://containerregistry.azure.net")
	require.NoError(t, err)
	assert.Equal(t, t0.Add(24*time.Hour), tok.ExpiresOn)
	c, err := e.VerifyAccessToken(tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, p.ObjectID, c.OID)
	assert.Equal(t, p.ResourceID, c.XMSMirid)
	assert.Equal(t, "2", c.AppIDACR)

	other, _ := newEntra(t)
	_, err = other.VerifyAccessToken(tok.AccessToken)
	assert.ErrorIs(t, err, ErrTokenInvalid)
	store.Clock().Advance(25 * time.Hour)
	_, err = e.VerifyAccessToken(tok.AccessToken)
	assert.ErrorIs(t, err, ErrTokenExpired)
	_, err = e.VerifyAccessToken("garbage")
	assert.ErrorIs(t, err, ErrTokenInvalid)

	_, err = e.IssueManagedIdentityToken(p, "https://unknown.example")
	var pe *api.ProtocolError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "invalid_resource", pe.Code)
	assert.True(t, strings.HasPrefix(pe.Description, "AADSTS500011: "))
}

// FuzzTokenEndpoint sends arbitrary form bodies: the endpoint answers with
// an Entra status and JSON, and never panics.
func FuzzTokenEndpoint(f *testing.F) {
	e, store := newEntra(f)
	tid := store.Snapshot().Tenants[0].ID
	f.Add("grant_type=client_credentials&client_id=x&client_secret=y&scope=https%3A%2F%2Fmanagement.azure.com%2F.default")
	f.Add("grant_type=client_credentials&client_id=15f4f538-bc0f-5199-9aa0-b1c199457bcc&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c&scope=x%2F.default")
	f.Add("%%%&&&==")
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/"+tid+"/oauth2/v2.0/token", strings.NewReader(body))
		r.Host = "login.microsoftonline.com"
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		if w.Code != 200 && w.Code != 400 && w.Code != 401 {
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("not JSON: %q", w.Body.String())
		}
	})
}
