package sim_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
		keys, err := sim.SigningKeys(s, ring)
		require.NoError(t, err)
		return keys[len(keys)-1]
	}
	ik, err := sim.IssuerKeysOf(s, "aks1")
	require.NoError(t, err)
	ix := s.World().Snapshot()
	c, _ := ix.Cluster("aks1")
	reg, _ := ix.Registry("azsimacr")
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	k := &attackKit{t: t, s: s, now: s.World().Clock().Now(), entra: last("entra"), acr: last("acr"), rogue: rogue,
		issuer: ik[len(ik)-1].Private, issuerKID: ik[len(ik)-1].KID, acrID: sim.ACRSigningKID(s),
		tenant: ix.Tenants[0].ID, other: ix.Tenants[len(ix.Tenants)-1].ID, issuerURL: c.IssuerURL, loginServer: reg.LoginServer,
		puller: principal(t, s, "app-puller")}
	k.entraKID = sim.EntraOf(s).SigningKID()
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
