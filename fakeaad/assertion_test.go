package fakeaad

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/internal/platform/ids"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// certFixture is a fake Entra whose world has an application with a
// certificate credential, and the key that signs its assertions.
type certFixture struct {
	e               *Entra
	key             *rsa.PrivateKey
	x5t, x5tS256    string
	tenant, domain  string
	clientID, other string
}

func newCertFixture(t testing.TB, opts ...Option) *certFixture {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cert-app"},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	w := world.Default()
	w.Applications = append(w.Applications,
		world.Application{Name: "cert-app", Certificates: []world.Certificate{{Name: "c", PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}}},
		world.Application{Name: "other-app", Secrets: []world.Secret{{Name: "s", Value: "v"}}})
	store, err := world.NewStore(w, world.NewFixedClock(t0))
	require.NoError(t, err)
	// One key signs both the assertions and Entra's tokens: key generation
	// is what makes a fuzz worker slow to start.
	signing, err := jwtx.NewThumbprintKey(key)
	require.NoError(t, err)
	e, err := New(store, jwtx.StaticKeyring{signing}, opts...)
	require.NoError(t, err)
	ix := store.Snapshot()
	app, _ := ix.PrincipalByName("cert-app")
	other, _ := ix.PrincipalByName("other-app")
	s1, s256 := sha1.Sum(der), sha256.Sum256(der)
	return &certFixture{e: e, key: key, x5t: base64.RawURLEncoding.EncodeToString(s1[:]), x5tS256: base64.RawURLEncoding.EncodeToString(s256[:]),
		tenant: ix.Tenants[0].ID, domain: ix.Tenants[0].Domain, clientID: app.ClientID, other: other.ClientID}
}

// claims are the claims MSAL puts in a certificate assertion for f's
// application at the v2 token endpoint of login.microsoftonline.com.
func (f *certFixture) claims() map[string]any {
	return map[string]any{"aud": "https://login.microsoftonline.com/" + f.tenant + "/oauth2/v2.0/token",
		"iss": f.clientID, "sub": f.clientID, "jti": ids.New(), "nbf": t0.Unix(), "exp": t0.Add(10 * time.Minute).Unix()}
}

func (f *certFixture) header() map[string]any {
	return map[string]any{"alg": "PS256", "typ": "JWT", "x5t#S256": f.x5tS256}
}

func (f *certFixture) sign(t testing.TB, hdr, claims map[string]any) string {
	t.Helper()
	h, err := json.Marshal(hdr)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	var sig []byte
	switch hdr["alg"] {
	case "PS256":
		sum := sha256.Sum256([]byte(in))
		sig, err = rsa.SignPSS(rand.Reader, f.key, crypto.SHA256, sum[:], nil)
	case "RS256":
		sum := sha256.Sum256([]byte(in))
		sig, err = rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA256, sum[:])
	case "HS256":
		m := hmac.New(sha256.New, []byte("secret"))
		m.Write([]byte(in))
		sig = m.Sum(nil)
	default:
		sig = []byte("sig")
	}
	require.NoError(t, err)
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// post sends a client-credentials request with an assertion to path on
// host and returns the status and the error body.
func (f *certFixture) post(t testing.TB, host, path, clientID, assertion string) (int, errorBody) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID},
		"client_assertion_type": {jwtBearer}, "client_assertion": {assertion}, "scope": {"https://management.azure.com/.default"}}
	if strings.HasSuffix(path, "/oauth2/token") {
		form.Del("scope")
		form.Set("resource", "https://management.azure.com/")
	}
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Host = host
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	f.e.ServeHTTP(w, r)
	var body errorBody
	if w.Code != http.StatusOK {
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), w.Body.String())
	}
	return w.Code, body
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

const (
	docsCert   = "Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials ."
	text700021 = "Client assertion application identifier doesn't match 'client_id' parameter. " + docsCert
	text700023 = "Client assertion audience claim does not match Realm issuer. " + docsCert
)

// TestCertificateAssertionAudience: a certificate assertion is accepted
// only with one of Entra's own endpoints for the tenant, on the host the
// request came to, as aud (protocols.md 1.3).
func TestCertificateAssertionAudience(t *testing.T) {
	t.Parallel()
	f := newCertFixture(t)
	login := "https://login.microsoftonline.com/"
	v2 := "/" + f.tenant + "/oauth2/v2.0/token"
	for _, tc := range []struct {
		name, host, path string
		aud              any
		code             int
	}{
		{"v2 token endpoint", "", v2, login + f.tenant + "/oauth2/v2.0/token", 0},
		{"v2 token endpoint by domain", "", v2, login + f.domain + "/oauth2/v2.0/token", 0},
		{"v1 token endpoint", "", v2, login + f.tenant + "/oauth2/token", 0},
		{"v1 token endpoint at the v1 endpoint", "", "/" + f.tenant + "/oauth2/token", login + f.tenant + "/oauth2/token", 0},
		{"v2 issuer", "", v2, login + f.tenant + "/v2.0", 0},
		{"upper-case host and tenant", "", v2, "https://LOGIN.microsoftonline.com/" + strings.ToUpper(f.tenant) + "/oauth2/v2.0/token", 0},
		{"upper-case path", "", v2, login + f.tenant + "/OAUTH2/V2.0/TOKEN", 700023},
		{"upper-case issuer suffix", "", v2, login + f.tenant + "/V2.0", 700023},
		{"the request's own host and port", "127.0.0.1:8443", v2, "https://127.0.0.1:8443/" + f.tenant + "/oauth2/v2.0/token", 0},
		{"attacker host", "", v2, "https://evil.example.com/" + f.tenant + "/oauth2/token", 700023},
		{"attacker host, v2 path", "", v2, "https://evil.example.com/" + f.tenant + "/oauth2/v2.0/token", 700023},
		{"attacker URL with the endpoint in its query", "", v2, "https://evil.example.com/x?u=" + login + f.tenant + "/oauth2/token", 700023},
		{"attacker URL with the path in its query", "", v2, "https://evil.example.com/?/" + f.tenant + "/oauth2/token", 700023},
		{"endpoint with a query", "", v2, login + f.tenant + "/oauth2/v2.0/token?x=1", 700023},
		{"endpoint with a fragment", "", v2, login + f.tenant + "/oauth2/v2.0/token#x", 700023},
		{"endpoint with a trailing slash", "", v2, login + f.tenant + "/oauth2/v2.0/token/", 700023},
		{"host with a userinfo prefix", "", v2, "https://login.microsoftonline.com@evil.example.com/" + f.tenant + "/oauth2/v2.0/token", 700023},
		{"suffix host", "", v2, "https://login.microsoftonline.com.evil.example.com/" + f.tenant + "/oauth2/v2.0/token", 700023},
		{"over http", "", v2, "http://login.microsoftonline.com/" + f.tenant + "/oauth2/v2.0/token", 700023},
		{"another host than the request's", "127.0.0.1:8443", v2, login + f.tenant + "/oauth2/v2.0/token", 700023},
		{"an Entra alias host", "", v2, "https://login.windows.net/" + f.tenant + "/oauth2/v2.0/token", 700023},
		{"the v1 issuer", "", v2, "https://sts.windows.net/" + f.tenant + "/", 700023},
		{"another tenant", "", v2, login + "72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token", 700023},
		{"common", "", v2, login + "common/oauth2/v2.0/token", 700023},
		{"the v2 issuer without .0", "", v2, login + f.tenant + "/v2", 700023},
		{"array holding the endpoint", "", v2, []string{login + f.tenant + "/oauth2/v2.0/token"}, 50027},
		{"empty", "", v2, "", 700023},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host := tc.host
			if host == "" {
				host = "login.microsoftonline.com"
			}
			st, body := f.post(t, host, tc.path, f.clientID, f.sign(t, f.header(), with(f.claims(), "aud", tc.aud)))
			if tc.code == 0 {
				assert.Equal(t, http.StatusOK, st, body.ErrorDescription)
				return
			}
			assert.Equal(t, []int{tc.code}, body.ErrorCodes, body.ErrorDescription)
			if tc.code == 700023 {
				assert.Equal(t, http.StatusUnauthorized, st)
				assert.Equal(t, "invalid_client", body.Error)
				assert.True(t, strings.HasPrefix(body.ErrorDescription, "AADSTS700023: "+text700023+" Trace ID: "), body.ErrorDescription)
			}
		})
	}
	t.Run("v2 issuer refused when so configured", func(t *testing.T) {
		g := newCertFixture(t, WithUnconfirmed(Unconfirmed{RefuseIssuerAudience: true}))
		_, body := g.post(t, "login.microsoftonline.com", "/"+g.tenant+"/oauth2/v2.0/token", g.clientID,
			g.sign(t, g.header(), with(g.claims(), "aud", login+g.tenant+"/v2.0")))
		assert.Equal(t, []int{700023}, body.ErrorCodes)
	})
}

// TestCertificateAssertionErrors: each malformed or mismatched certificate
// assertion gets its own code and text (protocols.md 1.7).
func TestCertificateAssertionErrors(t *testing.T) {
	t.Parallel()
	f := newCertFixture(t)
	c, hdr := f.claims(), f.header()
	for _, tc := range []struct {
		name     string
		clientID string
		token    string
		status   int
		code     string
		number   int
		text     string
	}{
		{"iss and sub another application", f.clientID, f.sign(t, hdr, with(c, "iss", f.other, "sub", f.other)), 401, "invalid_client", 700021, text700021},
		{"sub another application", f.clientID, f.sign(t, hdr, with(c, "sub", f.other)), 401, "invalid_client", 700021, text700021},
		{"iss another application", f.clientID, f.sign(t, hdr, with(c, "iss", f.other)), 401, "invalid_client", 700021, text700021},
		{"sub missing", f.clientID, f.sign(t, hdr, with(c, "sub", nil)), 401, "invalid_client", 700021, text700021},
		{"another application's client_id", f.other, f.sign(t, hdr, c), 401, "invalid_client", 700021, text700021},
		{"iss missing", f.clientID, f.sign(t, hdr, with(c, "iss", nil)), 400, "invalid_request", 90014,
			"The required field 'iss' is missing from the credential. Ensure that you have all the necessary parameters for the login request."},
		{"aud missing", f.clientID, f.sign(t, hdr, with(c, "aud", nil)), 400, "invalid_request", 90014,
			"The required field 'aud' is missing from the credential. Ensure that you have all the necessary parameters for the login request."},
		{"HS256", f.clientID, f.sign(t, with(hdr, "alg", "HS256"), c), 401, "invalid_client", 5002738,
			"Invalid JWT token. 'HS256' is not a supported signature algorithm. Supported signing algorithms are: 'RS256,RS384,RS512'"},
		{"ES384", f.clientID, f.sign(t, with(hdr, "alg", "ES384"), c), 401, "invalid_client", 5002738,
			"Invalid JWT token. 'ES384' is not a supported signature algorithm. Supported signing algorithms are: 'RS256,RS384,RS512'"},
		{"not a JWT", f.clientID, "not.a.jwt", 400, "invalid_request", 50027, "JWT token is invalid or malformed."},
		{"expired", f.clientID, f.sign(t, hdr, with(c, "exp", t0.Add(-time.Hour).Unix())), 401, "invalid_client", 700024, "Client assertion is not within its valid time range."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := f.post(t, "login.microsoftonline.com", "/"+f.tenant+"/oauth2/v2.0/token", tc.clientID, tc.token)
			assert.Equal(t, tc.status, st, body.ErrorDescription)
			assert.Equal(t, tc.code, body.Error)
			assert.Equal(t, []int{tc.number}, body.ErrorCodes)
			assert.Contains(t, body.ErrorDescription, "AADSTS"+strconv.Itoa(tc.number)+": "+tc.text)
		})
	}
	t.Run("RS256 with SHA-1 x5t is accepted", func(t *testing.T) {
		st, body := f.post(t, "login.microsoftonline.com", "/"+f.tenant+"/oauth2/v2.0/token", f.clientID,
			f.sign(t, map[string]any{"alg": "RS256", "typ": "JWT", "x5t": f.x5t}, c))
		assert.Equal(t, http.StatusOK, st, body.ErrorDescription)
	})
	t.Run("5002738 as invalid_request when so configured", func(t *testing.T) {
		g := newCertFixture(t, WithUnconfirmed(Unconfirmed{AlgorithmErrorInvalidRequest: true}))
		st, body := g.post(t, "login.microsoftonline.com", "/"+g.tenant+"/oauth2/v2.0/token", g.clientID, g.sign(t, with(g.header(), "alg", "HS256"), g.claims()))
		assert.Equal(t, http.StatusBadRequest, st)
		assert.Equal(t, "invalid_request", body.Error)
		assert.Equal(t, []int{5002738}, body.ErrorCodes)
	})
}

// TestNilClientID: the nil GUID as client_id is AADSTS700038, not 700016
// (protocols.md 1.7); its status and error are configurable.
func TestNilClientID(t *testing.T) {
	t.Parallel()
	f := newCertFixture(t)
	st, body := f.post(t, "login.microsoftonline.com", "/"+f.tenant+"/oauth2/v2.0/token", nilGUID, f.sign(t, f.header(), f.claims()))
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Equal(t, "unauthorized_client", body.Error)
	assert.Equal(t, []int{700038}, body.ErrorCodes)
	assert.True(t, strings.HasPrefix(body.ErrorDescription, "AADSTS700038: 00000000-0000-0000-0000-000000000000 is not a valid application identifier. Trace ID: "), body.ErrorDescription)

	g := newCertFixture(t, WithUnconfirmed(Unconfirmed{NilClientIDStatus: 401, NilClientIDError: "invalid_client"}))
	st, body = g.post(t, "login.microsoftonline.com", "/"+g.tenant+"/oauth2/v2.0/token", nilGUID, "x")
	assert.Equal(t, http.StatusUnauthorized, st)
	assert.Equal(t, "invalid_client", body.Error)

	st, body = f.post(t, "login.microsoftonline.com", "/"+f.tenant+"/oauth2/v2.0/token", "11111111-1111-1111-1111-111111111111", "x")
	assert.Equal(t, http.StatusBadRequest, st)
	assert.Equal(t, []int{700016}, body.ErrorCodes, "another unknown GUID stays 700016")
}

func TestUnconfirmedValidation(t *testing.T) {
	t.Parallel()
	store, err := world.NewStore(world.Default(), world.NewFixedClock(t0))
	require.NoError(t, err)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	key, err := jwtx.NewThumbprintKey(k)
	require.NoError(t, err)
	_, err = New(store, jwtx.StaticKeyring{key}, WithUnconfirmed(Unconfirmed{NilClientIDStatus: 200, NilClientIDError: "Bad Error"}))
	require.Error(t, err)
	assert.ErrorContains(t, err, "AADSTS700038 status must be a 4xx status, got 200")
	assert.ErrorContains(t, err, `AADSTS700038 error "Bad Error" is not an OAuth error code`)
}

// FuzzClientAssertion sends certificate assertions with arbitrary claims
// and algorithms, signed with the application's key: the endpoint answers
// an Entra status, never panics, and issues a token only for iss = sub =
// client_id and an aud that is one of the tenant's own endpoints.
func FuzzClientAssertion(f *testing.F) {
	fx := newCertFixture(f)
	good := with(fx.claims(), "jti", "j1")
	for _, seed := range []struct {
		alg    string
		claims map[string]any
	}{
		{"PS256", good},
		{"RS256", with(good, "aud", "https://login.microsoftonline.com/"+fx.tenant+"/oauth2/token")},
		{"HS256", good},
		{"PS256", with(good, "aud", "https://evil.example.com/"+fx.tenant+"/oauth2/token")},
		{"PS256", with(good, "aud", []string{"https://login.microsoftonline.com/" + fx.tenant + "/v2.0"})},
		{"PS256", with(good, "iss", nil)},
		{"none", map[string]any{}},
	} {
		b, err := json.Marshal(seed.claims)
		require.NoError(f, err)
		f.Add(seed.alg, b)
	}
	want := fx.e.assertionAudiences(httptest.NewRequest(http.MethodPost, "/", nil), &world.TenantInfo{ID: fx.tenant, Domain: fx.domain})
	f.Fuzz(func(t *testing.T, alg string, claims []byte) {
		hdr, _ := json.Marshal(with(fx.header(), "alg", alg))
		in := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(claims)
		sum := sha256.Sum256([]byte(in))
		sig, err := rsa.SignPSS(rand.Reader, fx.key, crypto.SHA256, sum[:], nil)
		if alg == "RS256" {
			sig, err = rsa.SignPKCS1v15(rand.Reader, fx.key, crypto.SHA256, sum[:])
		}
		require.NoError(t, err)
		st, body := fx.post(t, "example.com", "/"+fx.tenant+"/oauth2/v2.0/token", fx.clientID, in+"."+base64.RawURLEncoding.EncodeToString(sig))
		if st != http.StatusOK && st != http.StatusBadRequest && st != http.StatusUnauthorized {
			t.Fatalf("status %d: %+v", st, body)
		}
		if st != http.StatusOK {
			return
		}
		var c struct {
			Iss, Sub string
			Aud      any
		}
		require.NoError(t, json.Unmarshal(claims, &c))
		aud, _ := c.Aud.(string)
		if c.Iss != fx.clientID || c.Sub != fx.clientID || !audienceIn(jwtx.Audience{aud}, want) {
			t.Fatalf("a token for claims %s", claims)
		}
	})
}
