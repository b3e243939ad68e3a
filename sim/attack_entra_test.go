package sim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim/simtest"
)

// TestAttackEntraFederatedAssertion: hostile client assertions against
// Entra's federated credential check.
func TestAttackEntraFederatedAssertion(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, attackWorld())
	k := newAttackKit(t, s)
	now := k.now.Unix()
	c := map[string]any{"iss": k.issuerURL, "sub": "system:serviceaccount:default:app-puller",
		"aud": []string{"api://AzureADTokenExchange"}, "iat": now, "nbf": now, "exp": now + 3600, "jti": "j1"}
	hdr := map[string]any{"alg": "RS256", "kid": k.issuerKID}
	post := func(tenant, tok string) (int, []byte) {
		st, _, b := k.postForm("https://login.microsoftonline.com/"+tenant+"/oauth2/v2.0/token", assertionForm(k.puller.ClientID, tok))
		return st, b
	}
	// Control: the untampered token is accepted.
	st, body := post(k.tenant, jws(hdr, mustJSONBytes(c), rs256(k.issuer)))
	require.Equal(t, http.StatusOK, st, string(body))

	malformed, badSig, noKey, window := "AADSTS50027", "AADSTS700027", "AADSTS7000272", "AADSTS700024"
	want := map[string]string{
		"alg none": malformed, "alg none, upper case": malformed, "HS256 with the RSA public key as secret": malformed,
		"RS384 header on an RS256 signature": malformed, "ES256": malformed, "PS256 signed with the real key": badSig,
		// The AKS issuer publishes one key, which a kid-less token is checked with.
		"missing kid, rogue key": badSig, "unknown kid, rogue key": noKey, "path-like kid": noKey, "kid not a string": malformed,
		"jku to a rogue JWKS is ignored": badSig, "x5u to a rogue certificate is ignored": badSig, "embedded jwk is ignored": badSig,
		"crit header": malformed, "truncated signature": badSig, "swapped signature": badSig, "empty signature": malformed,
		"signature not base64url": malformed, "1 MiB token": "AADSTS90014", "invalid UTF-8 in the claims": malformed,
		"invalid UTF-8 in the header": malformed, "deeply nested JSON payload": malformed, "deeply nested JSON header": malformed,
		"payload not JSON": malformed, "two dots only": malformed, "five parts (JWE shape)": malformed,
	}
	attacks := k.commonAttacks(c, hdr, k.issuer)
	sign := func(claims map[string]any) string { return jws(hdr, mustJSONBytes(claims), rs256(k.issuer)) }
	attacks = append(attacks,
		hostile{name: "expired", token: sign(with(c, "iat", now-7200, "nbf", now-7200, "exp", now-3600)), want: window},
		hostile{name: "no exp", token: sign(with(c, "exp", nil)), want: window},
		hostile{name: "nbf in the future beyond skew", token: sign(with(c, "nbf", now+3600)), want: window},
		hostile{name: "iat in the future beyond skew", token: sign(with(c, "iat", now+3600)), want: window},
		hostile{name: "issuer without its trailing slash", token: sign(with(c, "iss", strings.TrimSuffix(k.issuerURL, "/"))), want: "AADSTS700211"},
		hostile{name: "issuer with a double slash", token: sign(with(c, "iss", k.issuerURL+"/")), want: "AADSTS700211"},
		hostile{name: "issuer over http", token: sign(with(c, "iss", "http"+strings.TrimPrefix(k.issuerURL, "https"))), want: "AADSTS700211"},
		hostile{name: "wrong audience", token: sign(with(c, "aud", []string{"api://AzureADTokenExchange2"})), want: "AADSTS700212"},
		hostile{name: "missing audience", token: sign(with(c, "aud", nil)), want: malformed},
		hostile{name: "other subject", token: sign(with(c, "sub", "system:serviceaccount:kube-system:default")), want: "AADSTS700213"},
		hostile{name: "ACR token as assertion", token: jws(map[string]any{"alg": "RS256", "kid": k.acrID}, mustJSONBytes(with(c, "iss", "Azure Container Registry")), rs256(k.acr)), want: "AADSTS700211"},
	)
	require.GreaterOrEqual(t, len(attacks), 20)
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			w := a.want
			if w == "" {
				w = want[a.name]
			}
			require.NotEmpty(t, w, "no expectation for %s", a.name)
			st, body := post(k.tenant, a.token)
			assert.Contains(t, []int{400, 401}, st, string(body))
			var e aadErrorBody
			require.NoError(t, json.Unmarshal(body, &e), "Entra's error body: %s", body)
			assert.Contains(t, e.ErrorDescription, w)
			assert.True(t, strings.HasPrefix(e.ErrorDescription, "AADSTS"), e.ErrorDescription)
		})
	}
	t.Run("another tenant", func(t *testing.T) {
		st, body := post(k.other, jws(hdr, mustJSONBytes(c), rs256(k.issuer)))
		assert.Equal(t, http.StatusBadRequest, st)
		assert.Contains(t, string(body), "AADSTS700016")
	})
}
