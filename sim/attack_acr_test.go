package sim_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

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

// registryClient pushes to the default registry over HTTPS as its admin
// user, or with a bearer token when bearer is set.
type registryClient struct {
	t      *testing.T
	s      *sim.Sim
	bearer string
}

func (c registryClient) do(method, path, contentType string, body []byte) (int, http.Header, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, "https://azsimacr.azurecr.io"+path, bytes.NewReader(body))
	require.NoError(c.t, err)
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	} else {
		req.SetBasicAuth("azsimacr", storagePassword)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.s.Client().Do(req)
	require.NoError(c.t, err, "the server must answer")
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, resp.Header, string(b)
}

func (c registryClient) blob(repo string, b []byte) string {
	c.t.Helper()
	st, h, body := c.do(http.MethodPost, "/v2/"+repo+"/blobs/uploads/", "", nil)
	require.Equal(c.t, http.StatusAccepted, st, body)
	st, _, body = c.do(http.MethodPut, h.Get("Location")+"?digest="+sha256Digest(b), "", b)
	require.Equal(c.t, http.StatusCreated, st, body)
	return sha256Digest(b)
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func ociManifest(config, layer string) []byte {
	return fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":%q},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","size":5,"digest":%q}]}`, config, layer)
}

// TestAttackRegistryManifests: manifest pushes ACR refuses are refused by
// both registry stores with ACR's status and body (protocols.md 3.8), and
// nothing refused is served.
func TestAttackRegistryManifests(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"memory", "disk"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var opts []sim.Option
			if mode == "disk" {
				opts = append(opts, sim.WithRegistryStorage(t.TempDir()))
			}
			c := registryClient{t: t, s: simtest.Start(t, storageWorld(), opts...)}
			cfg, layer := c.blob("attack", []byte("{}")), c.blob("attack", []byte("layer"))
			good := ociManifest(cfg, layer)
			absent := sha256Digest([]byte("never uploaded"))
			oci := "application/vnd.oci.image.manifest.v1+json"
			invalid := `{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":{"Reason":{}}}]}` + "\n"
			for _, a := range []struct {
				name, ref, contentType string
				body                   []byte
				status                 int
				want                   string
			}{
				{"digest in the URL not the body's", sha256Digest([]byte("x")), oci, good, 400,
					`{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content","detail":"digest parsing failed"}]}` + "\n"},
				{"tag of 200 characters", strings.Repeat("a", 200), oci, good, 400,
					`{"errors":[{"code":"TAG_INVALID","message":"manifest tag did not match URI"}]}` + "\n"},
				{"tag with a colon", "v1:evil", oci, good, 400, `"code":"DIGEST_INVALID"`},
				{"body not JSON", "v1", oci, []byte("<html>"), 400, invalid},
				{"sent as text/plain", "v1", "text/plain", good, 400, invalid},
				{"layer never uploaded", "v1", oci, ociManifest(cfg, absent), 400,
					`{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry","detail":"` + absent + `"}]}` + "\n"},
				{"index naming an absent manifest", "v1", "application/vnd.oci.image.index.v1+json",
					fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":%q,"size":9,"digest":%q}]}`, oci, absent),
					400, `"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry","detail":"` + absent + `"`},
				{"5 MiB manifest", "v1", oci, bytes.Repeat([]byte(" "), 5<<20), 413, `"code":"MANIFEST_INVALID"`},
				{"48 MiB manifest", "v1", oci, bytes.Repeat([]byte(" "), 48<<20), 413, `"code":"MANIFEST_INVALID"`},
			} {
				t.Run(a.name, func(t *testing.T) {
					st, h, body := c.do(http.MethodPut, "/v2/attack/manifests/"+a.ref, a.contentType, a.body)
					assert.Equal(t, a.status, st, body)
					assert.Equal(t, "application/json; charset=utf-8", h.Get("Content-Type"))
					if strings.HasPrefix(a.want, "{") {
						assert.Equal(t, a.want, body)
					} else {
						assert.Contains(t, body, a.want)
					}
				})
			}
			st, _, _ := c.do(http.MethodGet, "/v2/attack/manifests/"+sha256Digest([]byte("x")), "", nil)
			assert.Equal(t, http.StatusNotFound, st, "nothing is served under a digest the body does not have")
			st, _, body := c.do(http.MethodPut, "/v2/attack/manifests/v1", oci, good)
			assert.Equal(t, http.StatusCreated, st, "control: %s", body)
		})
	}
}

// TestAttackRegistryUploadSessions: upload sessions one principal never
// finishes do not deny uploads to others, and expire when idle on the
// simulated clock.
func TestAttackRegistryUploadSessions(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, storageWorld(), sim.WithRegistryStorage(t.TempDir()))
	k := newAttackKit(t, s)
	admin := registryClient{t: t, s: s}
	other := registryClient{t: t, s: s, bearer: mintACR(t, k, k.loginServer, "access_token",
		"access", []map[string]any{{"type": "repository", "name": "hello", "actions": []string{"pull", "push"}}})}
	for i := range 64 {
		st, _, body := admin.do(http.MethodPost, "/v2/hello/blobs/uploads/", "", nil)
		require.Equal(t, http.StatusAccepted, st, "session %d: %s", i, body)
	}
	st, _, body := admin.do(http.MethodPost, "/v2/hello/blobs/uploads/", "", nil)
	assert.Equal(t, http.StatusTooManyRequests, st)
	assert.Equal(t, `{"errors":[{"code":"TOOMANYREQUESTS","message":"Too many requests. Please visit https://aka.ms/acr/skus#sku-feature-matrix to view limits of all service tiers."}]}`+"\n", body)
	st, _, body = other.do(http.MethodPost, "/v2/hello/blobs/uploads/", "", nil)
	assert.Equal(t, http.StatusAccepted, st, "another principal still uploads: %s", body)

	s.World().Clock().Advance(16 * time.Minute)
	st, _, body = admin.do(http.MethodPost, "/v2/hello/blobs/uploads/", "", nil)
	assert.Equal(t, http.StatusAccepted, st, "idle sessions expired: %s", body)
}
