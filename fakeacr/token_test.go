package fakeacr

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/internal/platform/jwtx"
)

// accessOf decodes the access claim of an ACR access token.
func accessOf(t *testing.T, raw string) []Access {
	t.Helper()
	b, err := json.Marshal(claimsOf(t, raw)["access"])
	require.NoError(t, err)
	var a []Access
	require.NoError(t, json.Unmarshal(b, &a))
	return a
}

func tokenFrom(t *testing.T, r response) string {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, r.body)
	var out map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.body), &out))
	require.Len(t, out, 1, "only access_token: %s", r.body)
	require.NotEmpty(t, out["access_token"])
	return out["access_token"]
}

func TestAccessTokenClaimsGolden(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	rt := e.refreshToken(t, azsimacr, "aks1-agentpool")
	// Space-separated and repeated scopes; denied and unknown actions dropped.
	tok := e.accessToken(t, azsimacr, rt, "repository:hello:pull,push,frobnicate registry:catalog:*", "repository:team/app:metadata_read")
	golden(t, "claims-access-token.json", e.maskedClaims(t, tok))
}

// TestTokenGrants covers every way to obtain an access token and the access
// it carries (protocols.md 3.3, 3.6).
func TestTokenGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	rt := e.refreshToken(t, azsimacr, "aks1-agentpool")
	at := e.accessToken(t, azsimacr, rt, "repository:hello:pull")
	ciApp, _ := e.store.Snapshot().PrincipalByName("ci-app")
	pub := "publicacr.azurecr.io"
	q := func(host string, scopes ...string) string {
		return "https://" + host + "/oauth2/token?" + url.Values{"service": {host}, "scope": scopes}.Encode()
	}
	tests := []struct {
		name string
		do   func() response
		want []Access
	}{
		{"POST refresh_token", func() response {
			return e.postForm(t, tokenURL+"?api-version=2021-07-01", url.Values{"grant_type": {"refresh_token"}, "service": {azsimacr},
				"refresh_token": {rt}, "scope": {"repository:hello:pull,push"}, "client_id": {"go-containerregistry"}})
		}, []Access{{"repository", "hello", []string{"pull"}}}},
		{"GET basic null user + refresh token", func() response {
			return e.get(t, q(azsimacr, "repository:hello:pull", "repository:hello:metadata_read"), "Authorization", basicAuth(nullUser, rt))
		}, []Access{{"repository", "hello", []string{"pull"}}, {"repository", "hello", []string{"metadata_read"}}}},
		{"GET basic null user + access token is capped", func() response {
			return e.get(t, q(azsimacr, "repository:hello:pull,metadata_read"), "Authorization", basicAuth(nullUser, at))
		}, []Access{{"repository", "hello", []string{"pull"}}}},
		{"GET basic app secret", func() response {
			return e.get(t, q(azsimacr, "repository:hello:pull,push"), "Authorization", basicAuth(ciApp.ClientID, "ci-secret"))
		}, []Access{{"repository", "hello", []string{"pull"}}}},
		{"GET basic admin", func() response {
			return e.get(t, q(pub, "repository:hello:*", "registry:catalog:*"), "Authorization", basicAuth("publicacr", "admin-pass"))
		}, []Access{{"repository", "hello", []string{"pull", "metadata_read", "push", "metadata_write", "delete"}}, {"registry", "catalog", []string{"*"}}}},
		{"GET anonymous on anonymous-pull registry", func() response {
			return e.get(t, q(pub, "repository:hello:pull,push", "registry:catalog:*"))
		}, []Access{{"repository", "hello", []string{"pull"}}, {"registry", "catalog", []string{}}}},
		{"POST anonymous password grant (SDK)", func() response {
			return e.postForm(t, "https://"+pub+"/oauth2/token", url.Values{"grant_type": {"password"}, "service": {pub},
				"scope": {"repository:hello:pull"}, "refresh_token": {""}})
		}, []Access{{"repository", "hello", []string{"pull"}}}},
		{"no scope", func() response {
			return e.get(t, q(azsimacr), "Authorization", basicAuth(nullUser, rt))
		}, []Access{}},
		{"other resource types get nothing", func() response {
			return e.get(t, q(azsimacr, "artifact-repository:repo:pull"), "Authorization", basicAuth(nullUser, rt))
		}, []Access{{"artifact-repository", "repo", []string{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok := tokenFrom(t, tt.do())
			assert.Equal(t, tt.want, accessOf(t, tok))
			c := claimsOf(t, tok)
			assert.Equal(t, "access_token", c["grant_type"])
		})
	}
}

// TestTokenErrors pins every error body of /oauth2/token.
func TestTokenErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	rt := e.refreshToken(t, azsimacr, "aks1-agentpool")
	otherRT := e.refreshToken(t, "otheracr.azurecr.io", "other-puller")
	at := e.accessToken(t, azsimacr, rt, "repository:hello:pull")
	const authRequired = `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information."}]}`
	form := func(kv ...string) url.Values {
		v := url.Values{"service": {azsimacr}, "scope": {"repository:hello:pull"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	get := func(auth string, query string) func() response {
		return func() response { return e.get(t, tokenURL+"?"+query, "Authorization", auth) }
	}
	post := func(v url.Values) func() response { return func() response { return e.postForm(t, tokenURL, v) } }
	const svc = "service=azsimacr.azurecr.io&scope=repository:hello:pull"
	tests := []struct {
		name   string
		do     func() response
		status int
		body   string
	}{
		{"password grant with credentials (containerd) is 400", post(form("grant_type", "password", "username", nullUser, "password", rt)), 400,
			`{"errors":[{"code":"BAD_REQUEST","message":"grant_type password is not supported on POST; use GET with basic authentication"}]}`},
		{"anonymous password grant on private registry", post(form("grant_type", "password", "refresh_token", "")), 401, authRequired},
		{"anonymous GET on private registry", get("", svc), 401, authRequired},
		{"refresh token of another registry", post(form("grant_type", "refresh_token", "refresh_token", otherRT)), 401, authRequired},
		{"access token as refresh token", post(form("grant_type", "refresh_token", "refresh_token", at)), 401, authRequired},
		{"garbage refresh token", post(form("grant_type", "refresh_token", "refresh_token", "x.y.z")), 401, authRequired},
		{"missing refresh token", post(form("grant_type", "refresh_token")), 400,
			`{"errors":[{"code":"BAD_REQUEST","message":"refresh_token is required for grant_type refresh_token"}]}`},
		{"missing grant", post(form()), 400, `{"errors":[{"code":"BAD_REQUEST","message":"grant_type is required"}]}`},
		{"unknown grant", post(form("grant_type", "client_credentials")), 400,
			`{"errors":[{"code":"BAD_REQUEST","message":"grant_type client_credentials is not supported"}]}`},
		{"missing service", post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}), 400,
			`{"errors":[{"code":"BAD_REQUEST","message":"service is required"}]}`},
		{"garbage scope", post(form("grant_type", "refresh_token", "refresh_token", rt, "scope", "repository:hello")), 400,
			`{"errors":[{"code":"BAD_REQUEST","message":"invalid scope \"repository:hello\": want type:name:actions"}]}`},
		{"wrong admin password", get(basicAuth("azsimacr", "nope"), svc), 401, authRequired},
		{"wrong app secret", get(basicAuth(mustClientID(t, e, "ci-app"), "nope"), svc), 401, authRequired},
		{"unknown user", get(basicAuth("someone", "x"), svc), 401, authRequired},
		{"null user with garbage", get(basicAuth(nullUser, "garbage"), svc), 401, authRequired},
		{"bearer instead of basic", get("Bearer "+at, svc), 401, authRequired},
		{"PUT", func() response {
			req, _ := http.NewRequest(http.MethodPut, tokenURL, nil)
			return e.do(t, req)
		}, 404, `{"errors":[{"code":"NOT_FOUND","message":"PUT /oauth2/token is not supported; use GET or POST"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.do()
			assert.Equal(t, tt.status, r.status)
			assert.Equal(t, tt.body+"\n", r.body)
		})
	}
}

func mustClientID(t *testing.T, e *env, name string) string {
	t.Helper()
	p, ok := e.store.Snapshot().PrincipalByName(name)
	require.True(t, ok)
	return p.ClientID
}

// WithRefreshTokenInTokenResponse adds refresh_token to GET answers for
// Entra principals (clients.md 5.3).
func TestRefreshTokenInGET(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	acr, err := New(e.store, jwtx.StaticKeyring{acrKey}, testVerifier{e.clock}, WithRefreshTokenInTokenResponse(true))
	require.NoError(t, err)
	e.srv.Config.Handler = acr
	rt := e.refreshToken(t, azsimacr, "aks1-agentpool")
	r := e.get(t, tokenURL+"?service=azsimacr.azurecr.io&scope=repository:hello:pull", "Authorization", basicAuth(nullUser, rt))
	require.Equal(t, http.StatusOK, r.status, r.body)
	var out map[string]string
	require.NoError(t, json.Unmarshal([]byte(r.body), &out))
	assert.NotEmpty(t, out["access_token"])
	assert.Equal(t, "refresh_token", claimsOf(t, out["refresh_token"])["grant_type"])
}
