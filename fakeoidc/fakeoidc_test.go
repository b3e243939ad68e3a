package fakeoidc

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/world"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func newIssuer(t *testing.T) (*Issuer, *IssuerKeys, *world.ClusterInfo) {
	t.Helper()
	store, err := world.NewStore(world.Default(), world.NewFixedClock(t0))
	require.NoError(t, err)
	dir, err := state.Open(t.TempDir())
	require.NoError(t, err)
	ring := state.NewKeyring(dir)
	iss, err := New(store, ring)
	require.NoError(t, err)
	c, _ := store.Snapshot().Cluster("aks1")
	return iss, NewIssuerKeys(ring), c
}

func serve(t *testing.T, h http.Handler, url string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, url, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestDiscoveryAndJWKS(t *testing.T) {
	t.Parallel()
	iss, keys, c := newIssuer(t)
	require.True(t, strings.HasSuffix(c.IssuerURL, "/"))
	w := serve(t, iss, c.IssuerURL+".well-known/openid-configuration")
	require.Equal(t, http.StatusOK, w.Code)
	want := `{"issuer":"` + c.IssuerURL + `","jwks_uri":"` + c.IssuerURL + `openid/v1/jwks","response_types_supported":["id_token"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`
	assert.Equal(t, want, w.Body.String(), "the AKS discovery document (protocols.md 5.2)")

	w = serve(t, iss, c.IssuerURL+"openid/v1/jwks")
	require.Equal(t, http.StatusOK, w.Code)
	var set jose.JSONWebKeySet
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &set))
	require.Len(t, set.Keys, 1)
	assert.Equal(t, "RS256", set.Keys[0].Algorithm)
	assert.Equal(t, "sig", set.Keys[0].Use)
	assert.Contains(t, w.Body.String(), `"e":"AQAB"`)

	_, err := keys.Rotate("aks1", false)
	require.NoError(t, err)
	w = serve(t, iss, c.IssuerURL+"openid/v1/jwks")
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &set))
	assert.Len(t, set.Keys, 2, "two keys during a rotation")
	_, err = keys.Rotate("aks1", true)
	require.NoError(t, err)
	w = serve(t, iss, c.IssuerURL+"openid/v1/jwks")
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &set))
	assert.Len(t, set.Keys, 1, "dropOld leaves only the new key")

	for _, u := range []string{
		strings.TrimSuffix(c.IssuerURL, "/") + "x/.well-known/openid-configuration",
		"https://westus.oic.prod-aks.azure.com/" + c.TenantID + "/" + c.OIDCIssuer.ID + "/openid/v1/jwks",
		c.IssuerURL + "openid/v1/other",
	} {
		assert.Equal(t, http.StatusNotFound, serve(t, iss, u).Code, u)
	}
	r := httptest.NewRequest(http.MethodPost, c.IssuerURL+"openid/v1/jwks", nil)
	rec := httptest.NewRecorder()
	iss.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

func decodeSegment(t *testing.T, s string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func TestMintServiceAccountToken(t *testing.T) {
	t.Parallel()
	iss, keys, c := newIssuer(t)
	tok, exp, err := iss.MintServiceAccountToken(TokenRequest{Cluster: "aks1", Namespace: "default", ServiceAccount: "app-puller", PodName: "p", NodeName: "n"})
	require.NoError(t, err)
	assert.Equal(t, t0.Add(time.Hour), exp)
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	ks, err := keys.IssuerKeys("aks1")
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"alg": "RS256", "kid": ks[0].KID}, decodeSegment(t, parts[0]), "kube-apiserver header: alg and kid only")
	claims := decodeSegment(t, parts[1])
	assert.Equal(t, []any{"api://AzureADTokenExchange"}, claims["aud"], "aud is always an array")
	assert.Equal(t, c.IssuerURL, claims["iss"])
	assert.Equal(t, "system:serviceaccount:default:app-puller", claims["sub"])
	assert.Equal(t, float64(t0.Unix()), claims["iat"])
	assert.Equal(t, float64(t0.Unix()), claims["nbf"])
	assert.Equal(t, float64(t0.Add(time.Hour).Unix()), claims["exp"])
	assert.NotEmpty(t, claims["jti"])
	k8s := claims["kubernetes.io"].(map[string]any)
	assert.Equal(t, "default", k8s["namespace"])
	assert.Equal(t, "app-puller", k8s["serviceaccount"].(map[string]any)["name"])
	assert.Equal(t, "p", k8s["pod"].(map[string]any)["name"])
	assert.Equal(t, "n", k8s["node"].(map[string]any)["name"])

	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	require.NoError(t, err)
	_, err = jws.Verify(&ks[0].Private.PublicKey)
	require.NoError(t, err)
}

func TestMintServiceAccountTokenRejectsBadInput(t *testing.T) {
	t.Parallel()
	iss, _, _ := newIssuer(t)
	for _, tc := range []struct {
		req  TokenRequest
		want string
	}{
		{TokenRequest{Cluster: "nope", Namespace: "default", ServiceAccount: "x"}, `unknown cluster "nope"`},
		{TokenRequest{Cluster: "aks1", Namespace: "Default", ServiceAccount: "x"}, `namespace "Default" is not a valid`},
		{TokenRequest{Cluster: "aks1", Namespace: "default", ServiceAccount: ""}, `service account "" is not a valid`},
		{TokenRequest{Cluster: "aks1", Namespace: "default", ServiceAccount: "x", Expiration: 25 * time.Hour}, "expiration 25h0m0s must be between"},
		{TokenRequest{Cluster: "aks1", Namespace: "default", ServiceAccount: "x", Expiration: time.Minute}, "expiration 1m0s must be between"},
		{TokenRequest{Cluster: "aks1", Namespace: "default", ServiceAccount: "x", Audiences: []string{""}}, "audiences must not be empty"},
	} {
		_, _, err := iss.MintServiceAccountToken(tc.req)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}
