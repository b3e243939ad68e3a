package sim_test

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
)

// TestAttackACRExchange: hostile Entra access tokens against ACR's
// /oauth2/exchange.
func TestAttackACRExchange(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, attackWorld())
	k := newAttackKit(t, s)
	now := k.now.Unix()
	iss := "https://sts.windows.net/" + k.tenant + "/"
	c := map[string]any{"aud": "https://containerregistry.azure.net", "iss": iss, "iat": now - 300, "nbf": now - 300,
		"exp": now + 3600, "appid": k.puller.ClientID, "appidacr": "2", "idtyp": "app", "oid": k.puller.ObjectID,
		"sub": k.puller.ObjectID, "tid": k.tenant, "uti": "u1", "ver": "1.0"}
	hdr := map[string]any{"alg": "RS256", "kid": k.entraKID, "typ": "JWT", "x5t": k.entraKID}
	exchange := func(tok string) (int, []byte) {
		st, _, b := k.postForm("https://"+k.loginServer+"/oauth2/exchange", url.Values{"grant_type": {"access_token"},
			"service": {k.loginServer}, "tenant": {k.tenant}, "access_token": {tok}})
		return st, b
	}
	st, body := exchange(jws(hdr, mustJSONBytes(c), rs256(k.entra)))
	require.Equal(t, http.StatusOK, st, "control: %s", body)

	invalid := "invalid aad access token"
	sign := func(claims map[string]any) string { return jws(hdr, mustJSONBytes(claims), rs256(k.entra)) }
	attacks := k.commonAttacks(c, hdr, k.entra)
	for i := range attacks {
		attacks[i].status, attacks[i].want = http.StatusUnauthorized, invalid
		if attacks[i].name == "1 MiB token" {
			attacks[i].status, attacks[i].want = http.StatusBadRequest, "the request body is not a valid form"
		}
	}
	refresh := mintACR(t, k, k.loginServer, "refresh_token")
	attacks = append(attacks,
		hostile{name: "expired", token: sign(with(c, "iat", now-7200, "nbf", now-7200, "exp", now-3600)), status: 401, want: invalid},
		hostile{name: "nbf in the future", token: sign(with(c, "nbf", now+3600)), status: 401, want: invalid},
		hostile{name: "iat in the future beyond skew", token: sign(with(c, "iat", now+3600)), status: 401, want: invalid},
		hostile{name: "issuer without trailing slash", token: sign(with(c, "iss", strings.TrimSuffix(iss, "/"))), status: 401, want: invalid},
		hostile{name: "issuer with two trailing slashes", token: sign(with(c, "iss", iss+"/")), status: 401, want: invalid},
		hostile{name: "v2 issuer", token: sign(with(c, "iss", "https://login.microsoftonline.com/"+k.tenant+"/v2.0")), status: 401, want: invalid},
		hostile{name: "issuer of another tenant than tid", token: sign(with(c, "iss", "https://sts.windows.net/"+k.other+"/")), status: 401, want: invalid},
		hostile{name: "wrong audience", token: sign(with(c, "aud", "https://vault.azure.net")), status: 401, want: "invalid aad access token audience"},
		hostile{name: "missing audience", token: sign(with(c, "aud", nil)), status: 401, want: "invalid aad access token audience"},
		hostile{name: "another tenant", token: sign(with(c, "iss", "https://sts.windows.net/"+k.other+"/", "tid", k.other)), status: 401, want: "aad access token tenant does not match the registry tenant"},
		hostile{name: "unknown principal", token: sign(with(c, "oid", "6a3c9f0e-0000-4000-8000-000000000000")), status: 401, want: "authentication required"},
		hostile{name: "ACR refresh token as Entra token", token: refresh, status: 401, want: invalid},
		hostile{name: "service-account token as Entra token", token: saToken(t, s, "default", "app-puller"), status: 401, want: invalid},
	)
	require.GreaterOrEqual(t, len(attacks), 20)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			st, body := exchange(a.token)
			assertACRError(t, st, body, a.status, a.want)
		})
	}
}

func assertACRError(t *testing.T, st int, body []byte, status int, want string) {
	t.Helper()
	assert.Equal(t, status, st, string(body))
	var e struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(body, &e), "ACR's error envelope: %s", body)
	require.Len(t, e.Errors, 1)
	assert.Equal(t, map[int]string{400: "BAD_REQUEST", 401: "UNAUTHORIZED"}[status], e.Errors[0].Code)
	assert.Contains(t, e.Errors[0].Message, want)
}

// mintACR signs ACR claims with the simulator's ACR key: a genuine token of
// kind for registry loginServer.
func mintACR(t *testing.T, k *attackKit, loginServer, kind string, mod ...any) string {
	t.Helper()
	return jws(map[string]any{"alg": "RS256", "kid": k.acrID, "typ": "JWT"}, mustJSONBytes(with(acrClaims(k, loginServer, kind), mod...)), rs256(k.acr))
}

func acrClaims(k *attackKit, loginServer, kind string) map[string]any {
	now := k.now.Unix()
	c := map[string]any{"jti": "j-" + strconv.FormatInt(now, 10), "sub": k.puller.ObjectID, "nbf": now, "iat": now, "exp": now + 3600,
		"iss": "Azure Container Registry", "aud": loginServer, "version": "1.0", "grant_type": kind, "tenant": k.tenant, "roles": []string{}}
	if kind == "refresh_token" {
		c["permissions"] = map[string]any{"actions": []string{"*"}, "notActions": []string{}}
	} else {
		c["access"] = []map[string]any{{"type": "repository", "name": "hello", "actions": []string{"pull"}}}
	}
	return c
}

// TestAttackRegistryBearer: hostile bearer tokens against the registry's
// data plane.
func TestAttackRegistryBearer(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, attackWorld())
	k := newAttackKit(t, s)
	now := k.now.Unix()
	c := acrClaims(k, k.loginServer, "access_token")
	hdr := map[string]any{"alg": "RS256", "kid": k.acrID, "typ": "JWT"}
	get := func(tok string) (int, http.Header, []byte) {
		req, err := http.NewRequest(http.MethodGet, "https://"+k.loginServer+"/v2/hello/manifests/v1", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
		return k.do(req)
	}
	st, _, body := get(jws(hdr, mustJSONBytes(c), rs256(k.acr)))
	require.Equal(t, http.StatusOK, st, "control: %s", body)

	sign := func(claims map[string]any) string { return jws(hdr, mustJSONBytes(claims), rs256(k.acr)) }
	entraTok, err := sim.EntraOf(s).IssueManagedIdentityToken(principal(t, s, "aks1-agentpool"), "https://containerregistry.azure.net")
	require.NoError(t, err)
	attacks := k.commonAttacks(c, hdr, k.acr)
	attacks = append(attacks,
		hostile{name: "expired", token: sign(with(c, "iat", now-7200, "nbf", now-7200, "exp", now-3600))},
		hostile{name: "nbf in the future", token: sign(with(c, "nbf", now+3600))},
		hostile{name: "iat in the future beyond skew", token: sign(with(c, "iat", now+3600))},
		hostile{name: "issuer with a trailing slash", token: sign(with(c, "iss", "Azure Container Registry/"))},
		hostile{name: "issuer of another service", token: sign(with(c, "iss", "https://sts.windows.net/"+k.tenant+"/"))},
		hostile{name: "missing audience", token: sign(with(c, "aud", nil))},
		hostile{name: "audience with a port", token: sign(with(c, "aud", k.loginServer+":443"))},
		hostile{name: "token from another registry", token: mintACR(t, k, "otheracr.azurecr.io", "access_token")},
		hostile{name: "another tenant", token: sign(with(c, "tenant", k.other))},
		hostile{name: "ACR refresh token as access token", token: mintACR(t, k, k.loginServer, "refresh_token")},
		hostile{name: "access token without access claim", token: sign(with(c, "access", nil))},
		hostile{name: "Entra token as registry bearer", token: entraTok.AccessToken},
		hostile{name: "service-account token as registry bearer", token: saToken(t, s, "default", "app-puller")},
		hostile{name: "access for another repository", token: sign(with(c, "access", []map[string]any{{"type": "repository", "name": "other", "actions": []string{"pull"}}})), want: `error="insufficient_scope"`},
		hostile{name: "access for push only", token: sign(with(c, "access", []map[string]any{{"type": "repository", "name": "hello", "actions": []string{"push"}}})), want: `error="insufficient_scope"`},
	)
	require.GreaterOrEqual(t, len(attacks), 20)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			if a.name == "1 MiB token" {
				// Larger than the server's header limit: refused before any
				// handler, as ACR's front end does (HTTP/2 answers with a
				// connection error instead, so this one goes over HTTP/1.1).
				tr := s.Transport()
				tr.ForceAttemptHTTP2 = false
				tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
				req, err := http.NewRequest(http.MethodGet, "https://"+k.loginServer+"/v2/hello/manifests/v1", nil)
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer "+a.token)
				resp, err := (&http.Client{Transport: tr}).Do(req)
				require.NoError(t, err)
				resp.Body.Close()
				assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
				return
			}
			st, h, body := get(a.token)
			w := a.want
			if w == "" {
				w = `error="invalid_token"`
			}
			assertACRError(t, st, body, http.StatusUnauthorized, "authentication required")
			assert.Contains(t, h.Get("Www-Authenticate"), `Bearer realm="https://`+k.loginServer)
			assert.Contains(t, h.Get("Www-Authenticate"), `scope="repository:hello:pull"`)
			assert.Contains(t, h.Get("Www-Authenticate"), w)
		})
	}
}
