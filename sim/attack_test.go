package sim_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/fakeacr"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

// The token attack suite: hostile tokens against each of the simulator's
// three validators (Entra's federated client-assertion check, ACR's
// /oauth2/exchange of Entra tokens, the registry's bearer check), over real
// HTTPS. Every one must be refused with the validator's own error, in its
// wire format, and nothing may panic (a panic would drop the connection and
// fail the request).

// attackWorld is the default world plus a second tenant and a second
// registry, for the cross-tenant and cross-registry cases.
func attackWorld() *world.World {
	w := world.Default()
	w.Tenants = append(w.Tenants, world.Tenant{Name: "contoso"})
	w.Registries = append(w.Registries, world.Registry{Name: "otheracr", ResourceGroup: "rg-azsim"})
	return w
}

// attackKit holds the simulator's real keys (a test may read the state
// directory) and a rogue key, and crafts tokens by hand.
type attackKit struct {
	t                          *testing.T
	s                          *sim.Sim
	now                        time.Time
	entra, issuer, acr, rogue  *rsa.PrivateKey
	entraKID, issuerKID, acrID string
	tenant, other              string
	issuerURL, loginServer     string
	puller                     *world.Principal
}

func newAttackKit(t *testing.T, s *sim.Sim) *attackKit {
	t.Helper()
	last := func(ring string) *rsa.PrivateKey {
		keys, err := s.State.Ring(ring)
		require.NoError(t, err)
		return keys[len(keys)-1]
	}
	ik, err := s.IssuerKeys.IssuerKeys("aks1")
	require.NoError(t, err)
	ix := s.Store.Snapshot()
	c, _ := ix.Cluster("aks1")
	reg, _ := ix.Registry("azsimacr")
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	k := &attackKit{t: t, s: s, now: s.Store.Clock().Now(), entra: last("entra"), acr: last("acr"), rogue: rogue,
		issuer: ik[len(ik)-1].Private, issuerKID: ik[len(ik)-1].KID, acrID: s.ACR.(*fakeacr.ACR).SigningKey().KID,
		tenant: ix.Tenants[0].ID, other: ix.Tenants[len(ix.Tenants)-1].ID, issuerURL: c.IssuerURL, loginServer: reg.LoginServer,
		puller: principal(t, s, "app-puller")}
	k.entraKID = s.Entra.SigningKID()
	return k
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jws assembles a compact JWS from a header, a payload and a signer.
func jws(header map[string]any, payload []byte, sign func(input []byte) []byte) string {
	h, _ := json.Marshal(header)
	input := b64url(h) + "." + b64url(payload)
	return input + "." + b64url(sign([]byte(input)))
}

func rs256(key *rsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte {
		sum := sha256.Sum256(in)
		sig, _ := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		return sig
	}
}

func ps256(key *rsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte {
		sum := sha256.Sum256(in)
		sig, _ := rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], nil)
		return sig
	}
}

func hs256(secret []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(in)
		return m.Sum(nil)
	}
}

func es256(t *testing.T) func([]byte) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return func(in []byte) []byte {
		sum := sha256.Sum256(in)
		sig, _ := ecdsa.SignASN1(rand.Reader, key, sum[:])
		return sig
	}
}

func none([]byte) []byte { return nil }

// publicPEM is the PEM of a public key: the HS256 "secret" of the classic
// algorithm-confusion attack.
func publicPEM(t *testing.T, k *rsa.PrivateKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func mustJSONBytes(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// truncateSig cuts the signature in half (on a base64 quantum).
func truncateSig(tok string) string {
	i := strings.LastIndex(tok, ".")
	sig := tok[i+1:]
	return tok[:i+1] + sig[:len(sig)/2/4*4]
}

// swapSig puts the signature of other on tok.
func swapSig(tok, other string) string {
	return tok[:strings.LastIndex(tok, ".")+1] + other[strings.LastIndex(other, ".")+1:]
}

// nested is a JSON value nested depth levels deep.
func nested(depth int) []byte {
	return []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
}

// invalidUTF8 is a claim set whose subject is not UTF-8.
func invalidUTF8(claims map[string]any) []byte {
	b := mustJSONBytes(with(claims, "sub", "PLACEHOLDER"))
	return []byte(strings.Replace(string(b), "PLACEHOLDER", "\xff\xfe\xc3", 1))
}

// hostile is one hostile token and the error it must get.
type hostile struct {
	name  string
	token string
	// status and want: the HTTP status and a substring of the error (the
	// AADSTS number for Entra, the message or challenge for ACR).
	status int
	want   string
}

// commonAttacks are the hostile variants of good, a token the validator
// accepts, whose claims are c, signed with key under kid.
func (k *attackKit) commonAttacks(c map[string]any, hdr map[string]any, key *rsa.PrivateKey) []hostile {
	t := k.t
	kid := hdr["kid"].(string)
	p := mustJSONBytes(c)
	good := jws(hdr, p, rs256(key))
	other := jws(hdr, mustJSONBytes(with(c, "jti", "x", "uti", "y")), rs256(key))
	rogueHdr := with(hdr, "kid", kid)
	return []hostile{
		{name: "alg none", token: jws(with(hdr, "alg", "none"), p, none)},
		{name: "alg none, upper case", token: jws(with(hdr, "alg", "NONE"), p, none)},
		{name: "HS256 with the RSA public key as secret", token: jws(with(hdr, "alg", "HS256"), p, hs256(publicPEM(t, key)))},
		{name: "RS384 header on an RS256 signature", token: jws(with(hdr, "alg", "RS384"), p, rs256(key))},
		{name: "ES256", token: jws(with(hdr, "alg", "ES256"), p, es256(t))},
		{name: "PS256 signed with the real key", token: jws(with(hdr, "alg", "PS256"), p, ps256(key))},
		{name: "missing kid, rogue key", token: jws(with(hdr, "kid", nil), p, rs256(k.rogue))},
		{name: "unknown kid, rogue key", token: jws(with(hdr, "kid", "rogue-kid"), p, rs256(k.rogue))},
		{name: "path-like kid", token: jws(with(hdr, "kid", "../../keys/entra.json"), p, rs256(k.rogue))},
		{name: "kid not a string", token: jws(with(hdr, "kid", 7), p, rs256(key))},
		{name: "jku to a rogue JWKS is ignored", token: jws(with(rogueHdr, "jku", "https://127.0.0.1:1/jwks"), p, rs256(k.rogue))},
		{name: "x5u to a rogue certificate is ignored", token: jws(with(rogueHdr, "x5u", "https://127.0.0.1:1/cert.pem"), p, rs256(k.rogue))},
		{name: "embedded jwk is ignored", token: jws(with(rogueHdr, "jwk", map[string]any{"kty": "RSA", "kid": kid,
			"n": b64url(k.rogue.N.Bytes()), "e": "AQAB"}), p, rs256(k.rogue))},
		{name: "crit header", token: jws(with(hdr, "crit", []string{"exp"}), p, rs256(key))},
		{name: "truncated signature", token: truncateSig(good)},
		{name: "swapped signature", token: swapSig(good, other)},
		{name: "empty signature", token: good[:strings.LastIndex(good, ".")+1]},
		{name: "signature not base64url", token: good[:strings.LastIndex(good, ".")+1] + "***"},
		{name: "1 MiB token", token: jws(hdr, mustJSONBytes(with(c, "pad", strings.Repeat("A", 1<<20))), rs256(key))},
		{name: "invalid UTF-8 in the claims", token: jws(hdr, invalidUTF8(c), rs256(key))},
		{name: "invalid UTF-8 in the header", token: b64url([]byte(`{"alg":"RS256","kid":"`+kid+"\xff\"}")) + "." + b64url(p) + "." + b64url(rs256(key)(nil))},
		{name: "deeply nested JSON payload", token: jws(hdr, nested(5000), rs256(key))},
		{name: "deeply nested JSON header", token: b64url(nested(5000)) + "." + b64url(p) + "." + b64url(rs256(key)(nil))},
		{name: "payload not JSON", token: jws(hdr, []byte("not json"), rs256(key))},
		{name: "two dots only", token: ".."},
		{name: "five parts (JWE shape)", token: "a.b.c.d.e"},
	}
}

func (k *attackKit) do(req *http.Request) (int, http.Header, []byte) {
	k.t.Helper()
	resp, err := k.s.Client().Do(req)
	require.NoError(k.t, err, "the server must answer (a panic drops the connection)")
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(k.t, err)
	return resp.StatusCode, resp.Header, body
}

func (k *attackKit) postForm(u string, form url.Values) (int, http.Header, []byte) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	require.NoError(k.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return k.do(req)
}

// TestAttackEntraFederatedAssertion: hostile client assertions against
// Entra's federated credential check.
func TestAttackEntraFederatedAssertion(t *testing.T) {
	t.Parallel()
	s := sim.Start(t, attackWorld())
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

// TestAttackACRExchange: hostile Entra access tokens against ACR's
// /oauth2/exchange.
func TestAttackACRExchange(t *testing.T) {
	t.Parallel()
	s := sim.Start(t, attackWorld())
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
	s := sim.Start(t, attackWorld())
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
	entraTok, err := s.Entra.IssueManagedIdentityToken(principal(t, s, "aks1-agentpool"), "https://containerregistry.azure.net")
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
