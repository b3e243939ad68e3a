package fakeacr

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
)

const (
	azsimacr = "azsimacr.azurecr.io"
	exchURL  = "https://" + azsimacr + "/oauth2/exchange"
	tokenURL = "https://" + azsimacr + "/oauth2/token"
)

func TestExchangeGrants(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tid := e.store.Snapshot().Registries[0].TenantID
	tests := []struct {
		name string
		form func(tok string) url.Values
	}{
		{"access_token", func(tok string) url.Values {
			return url.Values{"grant_type": {"access_token"}, "service": {azsimacr}, "access_token": {tok}}
		}},
		{"access_token_refresh_token kubelet", func(tok string) url.Values {
			return url.Values{"grant_type": {"access_token_refresh_token"}, "service": {azsimacr}, "access_token": {tok},
				"refresh_token": {tok}, "tenant": {tid}}
		}},
		{"refresh_token", func(tok string) url.Values {
			return url.Values{"grant_type": {"refresh_token"}, "service": {azsimacr}, "refresh_token": {tok}}
		}},
		{"tenant by domain", func(tok string) url.Values {
			return url.Values{"grant_type": {"access_token"}, "service": {azsimacr}, "access_token": {tok}, "tenant": {"azsim.onmicrosoft.com"}}
		}},
	}
	for _, tt := range tests {
		for _, aud := range []string{audACR, audACR + "/", audARM, "https://management.core.windows.net/", "https://management.core.windows.net"} {
			t.Run(tt.name+" "+aud, func(t *testing.T) {
				t.Parallel()
				r := e.postForm(t, exchURL+"?api-version=2021-07-01", tt.form(e.entraToken(t, "aks1-agentpool", aud)))
				require.Equal(t, http.StatusOK, r.status, r.body)
				assert.Equal(t, "application/json; charset=utf-8", r.header.Get("Content-Type"))
				var out map[string]string
				require.NoError(t, json.Unmarshal([]byte(r.body), &out))
				require.Len(t, out, 1)
				assert.NotEmpty(t, out["refresh_token"])
			})
		}
	}
}

func TestRefreshTokenClaimsGolden(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	golden(t, "claims-refresh-token.json", e.maskedClaims(t, e.refreshToken(t, azsimacr, "aks1-agentpool")))
}

// TestExchangeErrors pins every error body of /oauth2/exchange.
func TestExchangeErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	good := func(name, aud string, change ...func(*api.EntraClaims)) url.Values {
		return url.Values{"grant_type": {"access_token"}, "service": {azsimacr}, "access_token": {e.entraToken(t, name, aud, change...)}}
	}
	with := func(v url.Values, k, val string) url.Values { v.Set(k, val); return v }
	tests := []struct {
		name   string
		url    string
		form   url.Values
		status int
		body   string
	}{
		{"arm disallowed", "https://noarmacr.azurecr.io/oauth2/exchange", with(good("aks1-agentpool", audARM), "service", "noarmacr.azurecr.io"), 401,
			`{"errors":[{"code":"UNAUTHORIZED","message":"arm aad token disallowed"}]}`},
		{"other audience", exchURL, good("aks1-agentpool", "https://vault.azure.net"), 401,
			`{"errors":[{"code":"UNAUTHORIZED","message":"invalid aad access token audience"}]}`},
		{"expired", exchURL, good("aks1-agentpool", audACR, func(c *api.EntraClaims) { c.Exp = c.Iat + 1 }), 401,
			`{"errors":[{"code":"UNAUTHORIZED","message":"invalid aad access token"}]}`},
		{"garbage token", exchURL, with(good("aks1-agentpool", audACR), "access_token", "garbage"), 401,
			`{"errors":[{"code":"UNAUTHORIZED","message":"invalid aad access token"}]}`},
		{"wrong tid", exchURL, good("aks1-agentpool", audACR, func(c *api.EntraClaims) {
			c.TID = "11111111-1111-1111-1111-111111111111"
			c.Iss = "https://sts.windows.net/" + c.TID + "/"
		}), 401, `{"errors":[{"code":"UNAUTHORIZED","message":"aad access token tenant does not match the registry tenant"}]}`},
		{"wrong tenant field", exchURL, with(good("aks1-agentpool", audACR), "tenant", "11111111-1111-1111-1111-111111111111"), 401,
			`{"errors":[{"code":"UNAUTHORIZED","message":"tenant does not match the registry tenant"}]}`},
		{"unknown principal", exchURL, good("aks1-agentpool", audACR, func(c *api.EntraClaims) { c.OID = "22222222-2222-2222-2222-222222222222" }), 401,
			`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information."}]}`},
		{"wrong service", exchURL, with(good("aks1-agentpool", audACR), "service", "otheracr.azurecr.io"), 401,
			`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information."}]}`},
		{"no service", exchURL, url.Values{"grant_type": {"access_token"}, "access_token": {"x"}}, 400,
			`{"errors":[{"code":"BAD_REQUEST","message":"service is required"}]}`},
		{"no grant", exchURL, url.Values{"service": {azsimacr}}, 400,
			`{"errors":[{"code":"BAD_REQUEST","message":"grant_type is required"}]}`},
		{"bad grant", exchURL, url.Values{"service": {azsimacr}, "grant_type": {"password"}}, 400,
			`{"errors":[{"code":"BAD_REQUEST","message":"grant_type \"password\" is not supported"}]}`},
		{"no access_token", exchURL, url.Values{"service": {azsimacr}, "grant_type": {"access_token"}}, 400,
			`{"errors":[{"code":"BAD_REQUEST","message":"access_token is required for grant_type access_token"}]}`},
		{"atrt without refresh_token", exchURL, url.Values{"service": {azsimacr}, "grant_type": {"access_token_refresh_token"}, "access_token": {"x"}}, 400,
			`{"errors":[{"code":"BAD_REQUEST","message":"access_token and refresh_token are required for grant_type access_token_refresh_token"}]}`},
		{"refresh_token grant without token", exchURL, url.Values{"service": {azsimacr}, "grant_type": {"refresh_token"}}, 400,
			`{"errors":[{"code":"BAD_REQUEST","message":"refresh_token is required for grant_type refresh_token"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := e.postForm(t, tt.url, tt.form)
			assert.Equal(t, tt.status, r.status)
			assert.Equal(t, tt.body+"\n", r.body)
			assert.Empty(t, r.header.Get("Www-Authenticate"))
		})
	}
	t.Run("GET is 404", func(t *testing.T) {
		t.Parallel()
		r := e.get(t, exchURL)
		assert.Equal(t, http.StatusNotFound, r.status)
		assert.Equal(t, `{"errors":[{"code":"NOT_FOUND","message":"GET /oauth2/exchange is not supported; use POST"}]}`+"\n", r.body)
	})
}

// A refresh token stops working when it expires on the simulated clock.
func TestRefreshTokenExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	rt := e.refreshToken(t, azsimacr, "aks1-agentpool")
	e.clock.Advance(DefaultRefreshTokenLifetime + time.Second)
	r := e.postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "service": {azsimacr}, "refresh_token": {rt}, "scope": {"repository:hello:pull"}})
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required, visit https://aka.ms/acr/authorization for more information."}]}`+"\n", r.body)
}
