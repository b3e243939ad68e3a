package fakeimds

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/world"
)

const (
	bodyMetadata = `{"error":"invalid_request","error_description":"Required metadata header not specified"}`
	bodyNotFound = `{"error":"invalid_request","error_description":"Identity not found"}`
	bodyMultiple = `{"error":"invalid_request","error_description":"Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"}`
	arm          = "https://management.azure.com/"
)

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	s := fixedStore(t)
	kubelet := principal(t, s, "kubelet")
	ok := tokenPath("api-version", "2018-02-01", "resource", arm)
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		status  int
		body    string
		length  int // expected Content-Length when protocols.md gives it
	}{
		{name: "DAC probe: no query, no header", path: "/metadata/identity/oauth2/token", headers: map[string]string{}, status: 400, body: bodyMetadata, length: 88},
		{name: "no header", path: ok, headers: map[string]string{}, status: 400, body: bodyMetadata, length: 88},
		{name: "Metadata false", path: ok, headers: map[string]string{"Metadata": "false"}, status: 400, body: bodyMetadata, length: 88},
		{name: "Metadata not lower case", path: ok, headers: map[string]string{"Metadata": "True"}, status: 400, body: bodyMetadata, length: 88},
		{name: "X-Forwarded-For", path: ok, headers: map[string]string{"Metadata": "true", "X-Forwarded-For": "10.0.0.1"}, status: 400,
			body: `{"error":"invalid_request","error_description":"Requests with the X-Forwarded-For header are not allowed"}`},
		{name: "missing api-version", path: tokenPath("resource", arm), status: 400,
			body: `{"error":"invalid_request","error_description":"Required api-version parameter not specified"}`},
		{name: "api-version before identity category", path: tokenPath("api-version", "2017-12-01", "resource", arm), status: 400,
			body: `{"error":"invalid_request","error_description":"api-version '2017-12-01' is not supported for managed identity; use 2018-02-01 or greater"}`},
		{name: "unknown api-version", path: tokenPath("api-version", "2030-01-01", "resource", arm), status: 400,
			body: `{"error":"invalid_request","error_description":"api-version '2030-01-01' is not supported for managed identity; use 2018-02-01 or greater"}`},
		{name: "missing resource", path: tokenPath("api-version", "2018-02-01"), status: 400,
			body: `{"error":"invalid_request","error_description":"Required audience variable not specified"}`},
		{name: "resource only /.default", path: tokenPath("api-version", "2018-02-01", "resource", "/.default"), status: 400,
			body: `{"error":"invalid_request","error_description":"Required audience variable not specified"}`},
		{name: "duplicate resource", path: tokenPath("api-version", "2018-02-01", "resource", arm, "resource", arm), status: 400,
			body: `{"error":"invalid_request","error_description":"Query parameter 'resource' is specified more than once"}`},
		{name: "duplicate client_id", path: tokenPath("api-version", "2018-02-01", "resource", arm, "client_id", kubelet.ClientID, "client_id", kubelet.ClientID), status: 400,
			body: `{"error":"invalid_request","error_description":"Query parameter 'client_id' is specified more than once"}`},
		{name: "two selectors", path: tokenPath("api-version", "2018-02-01", "resource", arm, "client_id", kubelet.ClientID, "msi_res_id", kubelet.ResourceID), status: 400,
			body: `{"error":"invalid_request","error_description":"Only one of client_id, object_id, principal_id, msi_res_id or mi_res_id may be specified; got client_id, msi_res_id"}`},
		{name: "malformed escape", path: "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=%zz", status: 400,
			body: `{"error":"invalid_request","error_description":"The request query string is malformed"}`},
		{name: "unknown resource relayed from Entra", path: tokenPath("api-version", "2018-02-01", "resource", "https://unknown.example"), status: 400,
			body: `{"error":"invalid_resource","error_description":"AADSTS500011: The resource principal named https://unknown.example was not found in the tenant named ` + kubelet.TenantID + `."}`},
		{name: "POST", method: http.MethodPost, path: ok, status: 405,
			body: `{"error":"invalid_request","error_description":"The HTTP method POST is not supported"}`},
		{name: "HEAD", method: http.MethodHead, path: ok, status: 405},
	}
	srv := serve(t, s, "aks1/one")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			resp := do(t, srv, method, tc.path, tc.headers)
			assert.Equal(t, tc.status, resp.status)
			if method != http.MethodHead {
				assert.Equal(t, tc.body, string(resp.body))
				assert.Equal(t, strconv.Itoa(len(tc.body)), resp.header.Get("Content-Length"))
			}
			if tc.length != 0 {
				assert.Equal(t, strconv.Itoa(tc.length), resp.header.Get("Content-Length"))
			}
			if tc.status == 405 {
				assert.Equal(t, "GET", resp.header.Get("Allow"))
			}
			assert.Equal(t, "application/json; charset=utf-8", resp.header.Get("Content-Type"))
			assert.Equal(t, ServerHeader, resp.header.Get("Server"))
		})
	}
}

func TestTokenIssuerAndPoolFailures(t *testing.T) {
	t.Parallel()
	s := fixedStore(t)
	path := tokenPath("api-version", "2018-02-01", "resource", arm)
	tests := []struct {
		name   string
		pool   string
		fail   error
		status int
		body   string
	}{
		{name: "issuer failure is a 500 unknown", pool: "one", fail: errors.New("boom"), status: 500,
			body: `{"error":"unknown","error_description":"Failed to retrieve token from the Active directory. For details see logs in the node's IMDS trace"}`},
		{name: "protocol error without status is a 400", pool: "one", fail: &api.ProtocolError{Code: "invalid_scope", Description: "bad"}, status: 400,
			body: `{"error":"invalid_scope","error_description":"bad"}`},
		{name: "protocol error status kept", pool: "one", fail: &api.ProtocolError{Status: 503, Code: "temporarily_unavailable", Description: "later"}, status: 503,
			body: `{"error":"temporarily_unavailable","error_description":"later"}`},
		{name: "pool not in world", pool: "aks1/gone", status: 500,
			body: `{"error":"unknown","error_description":"node pool \"aks1/gone\" is not in the simulated world"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, newIMDS(t, s, tc.pool, &testIssuer{t: t, clock: s.Clock(), fail: tc.fail}))
			resp := get(t, srv, path)
			assert.Equal(t, tc.status, resp.status)
			assert.Equal(t, tc.body, string(resp.body))
		})
	}
}

func TestSelectionTable(t *testing.T) {
	t.Parallel()
	s := fixedStore(t)
	kubelet, addon, stranger := principal(t, s, "kubelet"), principal(t, s, "addon"), principal(t, s, "stranger")
	smi := principal(t, s, "aks1/smi")
	smiuami := principal(t, s, "aks1/smiuami")
	tests := []struct {
		pool, selector, value string
		want                  *world.Principal // nil: error body
		body                  string
	}{
		// protocols.md 2.3, row by row.
		{pool: "none", body: bodyNotFound},
		{pool: "none", selector: "client_id", value: kubelet.ClientID, body: bodyNotFound},
		{pool: "smi", want: smi},
		{pool: "smi", selector: "client_id", value: smi.ClientID, want: smi},
		{pool: "smi", selector: "object_id", value: kubelet.ObjectID, body: bodyNotFound},
		{pool: "smiuami", want: smiuami},
		{pool: "smiuami", selector: "client_id", value: kubelet.ClientID, want: kubelet},
		{pool: "smiuami", selector: "msi_res_id", value: strings.ToUpper(addon.ResourceID), want: addon},
		{pool: "smiuami", selector: "msi_res_id", value: smiuami.ResourceID, body: bodyNotFound},
		{pool: "one", want: kubelet},
		{pool: "one", selector: "object_id", value: kubelet.ObjectID, want: kubelet},
		{pool: "one", selector: "principal_id", value: strings.ToUpper(kubelet.ObjectID), want: kubelet},
		{pool: "one", selector: "mi_res_id", value: kubelet.ResourceID, want: kubelet},
		{pool: "one", selector: "client_id", value: addon.ClientID, body: bodyNotFound},
		{pool: "two", body: bodyMultiple},
		{pool: "two", selector: "client_id", value: addon.ClientID, want: addon},
		{pool: "two", selector: "msi_res_id", value: strings.ToLower(kubelet.ResourceID), want: kubelet},
		{pool: "two", selector: "client_id", value: "", body: bodyNotFound},
		{pool: "two", selector: "client_id", value: stranger.ClientID, body: bodyNotFound},
		{pool: "two", selector: "msi_res_id", value: stranger.ResourceID, body: bodyNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.pool+"/"+tc.selector+"="+tc.value, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, s, "aks1/"+tc.pool)
			pairs := []string{"api-version", "2018-02-01", "resource", arm}
			if tc.selector != "" {
				pairs = append(pairs, tc.selector, tc.value)
			}
			resp := get(t, srv, tokenPath(pairs...))
			if tc.want == nil {
				assert.Equal(t, http.StatusBadRequest, resp.status)
				assert.Equal(t, tc.body, string(resp.body))
				assert.Equal(t, strconv.Itoa(len(tc.body)), resp.header.Get("Content-Length"))
				return
			}
			require.Equal(t, http.StatusOK, resp.status, string(resp.body))
			tr := decodeToken(t, resp.body)
			assert.Equal(t, tc.want.ClientID, tr.ClientID)
			c := decodeClaims(t, tr.AccessToken)
			assert.Equal(t, tc.want.ObjectID, c.OID)
			assert.Equal(t, tc.want.ResourceID, c.XMSMirid)
		})
	}
}

func TestMultipleUAMIsContentLength(t *testing.T) {
	t.Parallel()
	resp := get(t, serve(t, fixedStore(t), "two"), tokenPath("api-version", "2018-02-01", "resource", arm))
	assert.Equal(t, "168", resp.header.Get("Content-Length"))
}

func TestTokenSuccess(t *testing.T) {
	t.Parallel()
	s := fixedStore(t)
	kubelet := principal(t, s, "kubelet")
	tests := []struct {
		name, resource, aud string
	}{
		{name: "trailing slash echoed", resource: arm, aud: arm},
		{name: "no trailing slash echoed", resource: "https://containerregistry.azure.net", aud: "https://containerregistry.azure.net"},
		{name: "/.default trimmed for minting, echoed as sent", resource: "https://management.azure.com/.default", aud: "https://management.azure.com"},
		{name: "//.default keeps one slash", resource: "https://management.core.windows.net//.default", aud: "https://management.core.windows.net/"},
	}
	srv := serve(t, s, "aks1/one")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := get(t, srv, tokenPath("api-version", "2019-08-01", "resource", tc.resource))
			require.Equal(t, http.StatusOK, resp.status, string(resp.body))
			assert.Equal(t, "application/json; charset=utf-8", resp.header.Get("Content-Type"))
			assert.Equal(t, ServerHeader, resp.header.Get("Server"))
			assertAllStringsSorted(t, resp.body)
			tr := decodeToken(t, resp.body)
			assert.Equal(t, tc.resource, tr.Resource)
			assert.Equal(t, "Bearer", tr.TokenType)
			assert.Equal(t, kubelet.ClientID, tr.ClientID)
			assert.Equal(t, "86400", tr.ExpiresIn)
			assert.Equal(t, "86400", tr.ExtExpiresIn)
			assert.Equal(t, strconv.FormatInt(t0.Add(24*time.Hour).Unix(), 10), tr.ExpiresOn)
			assert.Equal(t, strconv.FormatInt(t0.Add(-5*time.Minute).Unix(), 10), tr.NotBefore)
			c := decodeClaims(t, tr.AccessToken)
			assert.Equal(t, tc.aud, c.Aud)
			assert.Equal(t, kubelet.TenantID, c.TID)
			assert.Equal(t, kubelet.ClientID, c.AppID)
		})
	}
}

// assertAllStringsSorted checks protocols.md 2.2: every value a string and
// the keys in alphabetical order.
func assertAllStringsSorted(t *testing.T, body []byte) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		v, err := dec.Token()
		require.NoError(t, err)
		assert.IsType(t, "", v, "value of %v", k)
	}
	assert.Equal(t, []string{"access_token", "client_id", "expires_in", "expires_on", "ext_expires_in", "not_before", "resource", "token_type"}, keys)
}

// fixedIssuer returns one token that expires at a fixed time.
type fixedIssuer struct{ tok api.IssuedToken }

func (f fixedIssuer) IssueManagedIdentityToken(*world.Principal, string) (api.IssuedToken, error) {
	return f.tok, nil
}

func TestExpiresInFollowsSimulatedClock(t *testing.T) {
	t.Parallel()
	clock := world.NewFixedClock(t0)
	s := newTestStore(t, clock)
	iss := fixedIssuer{api.IssuedToken{AccessToken: "x.y.z", NotBefore: t0.Add(-5 * time.Minute), ExpiresOn: t0.Add(24 * time.Hour)}}
	srv := newServer(t, newIMDS(t, s, "one", iss))
	path := tokenPath("api-version", "2018-02-01", "resource", arm)
	assert.Equal(t, "86400", decodeToken(t, get(t, srv, path).body).ExpiresIn)
	clock.Advance(3 * time.Hour)
	assert.Equal(t, "75600", decodeToken(t, get(t, srv, path).body).ExpiresIn)
	clock.Advance(30 * time.Hour)
	assert.Equal(t, "0", decodeToken(t, get(t, srv, path).body).ExpiresIn)
}

func TestWorldChangesApplyPerRequest(t *testing.T) {
	t.Parallel()
	s := fixedStore(t)
	srv := serve(t, s, "aks1/one")
	path := tokenPath("api-version", "2018-02-01", "resource", arm)
	require.Equal(t, http.StatusOK, get(t, srv, path).status)
	_, err := s.Update(func(w *world.World) error {
		w.Clusters[0].NodePools[3].Identities = append(w.Clusters[0].NodePools[3].Identities, "addon")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, bodyMultiple, string(get(t, srv, path).body))
}

func TestMessagesConfigurable(t *testing.T) {
	t.Parallel()
	srv := serve(t, fixedStore(t), "one", WithMessages(Messages{MissingAPIVersion: "custom"}), WithServerHeader("IMDS/1.2.3"))
	resp := get(t, srv, tokenPath("resource", arm))
	assert.Equal(t, `{"error":"invalid_request","error_description":"custom"}`, string(resp.body))
	assert.Equal(t, "IMDS/1.2.3", resp.header.Get("Server"))
	resp = get(t, srv, tokenPath("api-version", "2018-02-01"))
	assert.Equal(t, `{"error":"invalid_request","error_description":"Required audience variable not specified"}`, string(resp.body))
}
