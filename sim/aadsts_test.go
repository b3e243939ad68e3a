package sim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
	"github.com/azsim/azsim/world"
)

type aadErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

func postToken(t *testing.T, s *sim.Sim, tenant string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://login.microsoftonline.com/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("client-request-id", "0c8c6f5e-1d7a-4b3e-9a49-3f1f3b1b6a10")
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func assertionForm(clientID, assertion string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_info": {"1"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion}, "scope": {"https://containerregistry.azure.net/.default openid offline_access profile"}}
}

var suffixRE = regexp.MustCompile(` Trace ID: [0-9a-f-]{36} Correlation ID: 0c8c6f5e-1d7a-4b3e-9a49-3f1f3b1b6a10 Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)

// TestAADSTSErrors checks every Entra error case: status, error, code,
// description text and the trace suffix (protocols.md 1.7, 1.8).
func TestAADSTSErrors(t *testing.T) {
	t.Parallel()
	_, _, certPEM := newCert(t)
	clock := world.NewSimClock()
	s := simtest.Start(t, testWorld(t, certPEM), sim.WithClock(clock))
	tid := tenantID(s)
	app := principal(t, s, "ci-app")
	puller := principal(t, s, "app-puller")
	c, _ := s.World().Snapshot().Cluster("aks1")
	good := saToken(t, s, "default", "app-puller")
	// A token from an issuer nobody serves.
	rogueKey := roguekey(t)
	unreachable, err := rogueKey.SignBare(map[string]any{"iss": "https://127.0.0.1:1/", "sub": "system:serviceaccount:default:app-puller",
		"aud": []string{"api://AzureADTokenExchange"}, "exp": time.Now().Add(time.Hour).Unix()})
	require.NoError(t, err)
	// A token signed by a key the issuer does not publish, with the issuer's kid.
	forged := forge(t, s, good)

	secret := func(id, value, scope string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {value}, "scope": {scope}}
	}
	arm := "https://management.azure.com/.default"
	cases := []struct {
		name, tenant string
		form         url.Values
		status       int
		code         string
		number       int
		text         string
	}{
		{"unknown tenant", "contoso.onmicrosoft.com", secret(app.ClientID, "x", arm), 400, "invalid_request", 90002, "Tenant 'contoso.onmicrosoft.com' not found."},
		{"malformed tenant", "bad_tenant!", secret(app.ClientID, "x", arm), 400, "invalid_request", 900023, "Specified tenant identifier 'bad_tenant!' is neither"},
		{"unknown client", tid, secret("00000000-1111-2222-3333-444444444444", "x", arm), 400, "unauthorized_client", 700016, "Application with identifier '00000000-1111-2222-3333-444444444444' was not found in the directory 'azsim'."},
		{"wrong secret", tid, secret(app.ClientID, "nope", arm), 401, "invalid_client", 7000215, "Invalid client secret provided."},
		{"no credential", tid, url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "scope": {arm}}, 401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."},
		{"scope without .default", tid, secret(app.ClientID, "s3cr3t-value", "https://management.azure.com/user_impersonation"), 400, "invalid_scope", 1002012, "The provided value for scope https://management.azure.com/user_impersonation is not valid."},
		{"two resources", tid, secret(app.ClientID, "s3cr3t-value", arm+" https://vault.azure.net/.default"), 400, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid."},
		{"unknown resource", tid, secret(app.ClientID, "s3cr3t-value", "https://nothing.example/.default"), 400, "invalid_resource", 500011, "The resource principal named https://nothing.example was not found in the tenant named azsim."},
		{"missing grant", tid, url.Values{"client_id": {app.ClientID}}, 400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."},
		{"bad grant", tid, url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type 'password'."},
		{"malformed assertion", tid, assertionForm(puller.ClientID, "not.a.jwt"), 400, "invalid_request", 50027, "JWT token is invalid or malformed."},
		{"audience mismatch", tid, assertionForm(puller.ClientID, saToken(t, s, "default", "app-puller", "api://AzureCRTokenExchange")), 401, "invalid_client", 700212, "No matching federated identity record found for presented assertion audience 'api://AzureCRTokenExchange'."},
		{"subject mismatch", tid, assertionForm(puller.ClientID, saToken(t, s, "other", "app-puller")), 401, "invalid_client", 700213, "No matching federated identity record found for presented assertion subject 'system:serviceaccount:other:app-puller'."},
		{"subject case", tid, assertionForm(principal(t, s, "case-id").ClientID, saToken(t, s, "default", "case-test")), 401, "invalid_client", 7002138, "The subject matches with case-insensitive comparison, but not with case-sensitive comparison."},
		{"issuer slash", tid, assertionForm(principal(t, s, "noslash-id").ClientID, saToken(t, s, "default", "noslash")), 401, "invalid_client", 700211, "No matching federated identity record found for presented assertion issuer '" + c.IssuerURL + "'."},
		{"issuer unreachable", tid, assertionForm(principal(t, s, "unreachable-id").ClientID, unreachable), 400, "invalid_request", 90061, "Request to External OIDC endpoint failed."},
		{"untrusted issuer is not contacted", tid, assertionForm(puller.ClientID, unreachable), 401, "invalid_client", 700211, "No matching federated identity record found for presented assertion issuer 'https://127.0.0.1:1/'."},
		{"bad signature", tid, assertionForm(puller.ClientID, forged), 401, "invalid_client", 700027, "Client assertion contains an invalid signature."},
		{"unknown client assertion", tid, assertionForm("00000000-1111-2222-3333-444444444444", good), 400, "unauthorized_client", 700016, "was not found in the directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := postToken(t, s, tc.tenant, tc.form)
			assertAADError(t, resp, body, tc.status, tc.code, tc.number, tc.text)
		})
	}
}

func assertAADError(t *testing.T, resp *http.Response, body []byte, status int, code string, number int, text string) {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, string(body))
	assert.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	var e aadErrorBody
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	assert.Equal(t, code, e.Error)
	assert.Equal(t, []int{number}, e.ErrorCodes)
	assert.True(t, strings.HasPrefix(e.ErrorDescription, "AADSTS"+strconv.Itoa(number)+": "), e.ErrorDescription)
	assert.Contains(t, e.ErrorDescription, text)
	assert.Regexp(t, suffixRE, e.ErrorDescription)
	assert.Equal(t, "0c8c6f5e-1d7a-4b3e-9a49-3f1f3b1b6a10", e.CorrelationID)
	assert.Equal(t, e.TraceID, resp.Header.Get("x-ms-request-id"))
	assert.Equal(t, "https://login.microsoftonline.com/error?code="+strconv.Itoa(number), e.ErrorURI)
	assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`, e.Timestamp)
}

func roguekey(t *testing.T) *jwtx.Key {
	t.Helper()
	d, err := state.Open(t.TempDir())
	require.NoError(t, err)
	ring, err := d.Ring("rogue")
	require.NoError(t, err)
	k, err := jwtx.NewKey(ring[0])
	require.NoError(t, err)
	return k
}

// forge re-signs good's claims with a rogue key under the issuer's kid.
func forge(t *testing.T, s *sim.Sim, good string) string {
	t.Helper()
	k := roguekey(t)
	keys, err := sim.IssuerKeysOf(s, "aks1")
	require.NoError(t, err)
	k.KID = keys[0].KID
	tok, err := k.SignBare(claims(t, good))
	require.NoError(t, err)
	return tok
}

// TestAADSTSTimeAndKeys covers expiry (700024), unknown kid after a key
// rotation (7000272) and propagation delay / legacy codes (70021).
func TestAADSTSTimeAndKeys(t *testing.T) {
	t.Parallel()
	clock := world.NewSimClock()
	w := world.Default()
	future := time.Now().Add(time.Hour)
	w.Identities = append(w.Identities, world.Identity{Name: "late-id", ResourceGroup: "rg-azsim",
		FederatedCredentials: []world.FederatedCredential{{Name: "late", Cluster: "aks1", Subject: "system:serviceaccount:default:late",
			Audiences: []string{"api://AzureADTokenExchange"}, EffectiveAfter: &future}}})
	s := simtest.Start(t, w, sim.WithClock(clock))
	tid := tenantID(s)
	puller := principal(t, s, "app-puller")

	resp, body := postToken(t, s, tid, assertionForm(principal(t, s, "late-id").ClientID, saToken(t, s, "default", "late")))
	assertAADError(t, resp, body, 401, "invalid_client", 70021, "No matching federated identity record found for presented assertion. Assertion Issuer: '")

	tok, _, err := s.MintServiceAccountToken(api.ServiceAccountTokenRequest{Namespace: "default", ServiceAccount: "app-puller", Expiration: "10m"})
	require.NoError(t, err)
	clock.Advance(16 * time.Minute) // past exp + 5 min skew
	resp, body = postToken(t, s, tid, assertionForm(puller.ClientID, tok))
	assertAADError(t, resp, body, 401, "invalid_client", 700024, "Client assertion is not within its valid time range. Current time: ")
	assert.Regexp(t, `assertion valid from \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.0000000Z, expiry time of assertion \d{4}-`, string(body))

	old := saToken(t, s, "default", "app-puller")
	_, err = s.RotateIssuerKeys("aks1", true)
	require.NoError(t, err)
	clock.Advance(10 * time.Minute) // past the JWKS cache lifetime
	resp, body = postToken(t, s, tid, assertionForm(puller.ClientID, old))
	assertAADError(t, resp, body, 401, "invalid_client", 7000272, "could not be found in the metadata of identity provider")

	// The new key works at once, without waiting for the cache to expire.
	resp, body = postToken(t, s, tid, assertionForm(puller.ClientID, saToken(t, s, "default", "app-puller")))
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))

	// A JWKS fetched before the clock was set back is not trusted for the
	// cache lifetime on the new timeline: a rotation right after is seen.
	clock.Set(clock.Now().Add(-2 * time.Hour))
	older := saToken(t, s, "default", "app-puller")
	_, err = s.RotateIssuerKeys("aks1", true)
	require.NoError(t, err)
	resp, body = postToken(t, s, tid, assertionForm(puller.ClientID, older))
	assertAADError(t, resp, body, 401, "invalid_client", 7000272, "could not be found in the metadata of identity provider")

	// azidentity surfaces the code for a mismatch.
	cred, err := azidentity.NewClientAssertionCredential(tid, puller.ClientID,
		func(context.Context) (string, error) { return saToken(t, s, "other", "app-puller"), nil },
		&azidentity.ClientAssertionCredentialOptions{ClientOptions: clientOptions(s), DisableInstanceDiscovery: true})
	require.NoError(t, err)
	_, err = getToken(t, cred, "https://containerregistry.azure.net/.default")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AADSTS700213")
	var afe *azidentity.AuthenticationFailedError
	require.ErrorAs(t, err, &afe)
	assert.Equal(t, http.StatusUnauthorized, afe.RawResponse.StatusCode)
}

// TestV1TokenEndpoint checks the v1 response shape: strings and resource
// (protocols.md 1.5).
func TestV1TokenEndpoint(t *testing.T) {
	t.Parallel()
	_, _, certPEM := newCert(t)
	s := simtest.Start(t, testWorld(t, certPEM))
	app := principal(t, s, "ci-app")
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "client_secret": {"s3cr3t-value"},
		"resource": {"https://management.core.windows.net/"}}
	resp, err := s.Client().PostForm("https://login.microsoftonline.com/"+tenantID(s)+"/oauth2/token", form)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	for _, k := range []string{"expires_in", "ext_expires_in", "expires_on", "not_before"} {
		assert.IsType(t, "", body[k], k)
	}
	assert.Equal(t, "https://management.core.windows.net/", body["resource"])
	assert.Equal(t, "Bearer", body["token_type"])
	assert.Equal(t, "4499", body["expires_in"])
	assert.Equal(t, "https://management.core.windows.net/", claims(t, body["access_token"].(string))["aud"])
}
