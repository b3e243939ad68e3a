package fakeacr

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/certs"
	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./fakeacr -run %s -update", t.Name())
	require.Equal(t, string(want), string(got), "golden file %s (update with -update)", path)
}

// Shared test fixtures, created once: RSA keys and the TLS certificate are
// slow to generate.
var (
	fixturesOnce sync.Once
	entraKey     *jwtx.Key
	acrKey       *jwtx.Key
	serverCert   tls.Certificate
	testCA       *certs.CA
)

func fixtures(t *testing.T) {
	t.Helper()
	fixturesOnce.Do(func() {
		mk := func() *jwtx.Key {
			priv, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			k, err := jwtx.NewThumbprintKey(priv)
			if err != nil {
				panic(err)
			}
			return k
		}
		entraKey, acrKey = mk(), mk()
		var err error
		if testCA, _, err = certs.NewCA(time.Now()); err != nil {
			panic(err)
		}
		if serverCert, err = testCA.Issue([]string{"*.azurecr.io"}, nil, time.Now()); err != nil {
			panic(err)
		}
	})
}

// testVerifier checks Entra tokens signed by entraKey, as the fake Entra ID
// does: signature, v1 issuer of the token's tenant, nbf/exp on the clock.
type testVerifier struct{ clock world.Clock }

func (v testVerifier) VerifyAccessToken(raw string) (*api.EntraClaims, error) {
	tok, err := jwtx.Parse(raw)
	if err != nil {
		return nil, err
	}
	if err := tok.Verify(&entraKey.Private.PublicKey); err != nil {
		return nil, err
	}
	var c api.EntraClaims
	if err := tok.Claims(&c); err != nil {
		return nil, err
	}
	now := v.clock.Now().Unix()
	switch {
	case c.Iss != "https://sts.windows.net/"+c.TID+"/":
		return nil, fmt.Errorf("issuer %q", c.Iss)
	case now >= c.Exp:
		return nil, errors.New("access token has expired")
	case now < c.Nbf:
		return nil, errors.New("not yet valid")
	}
	return &c, nil
}

// env is one fake ACR served over TLS, reachable by real host names.
type env struct {
	store  *world.Store
	clock  *world.SimClock
	acr    *ACR
	srv    *httptest.Server
	client *http.Client
	tr     *http.Transport
}

// newEnv serves the default world, changed by mutate, plus testWorld.
func newEnv(t *testing.T, mutate func(w *world.World), opts ...Option) *env {
	t.Helper()
	fixtures(t)
	w := testWorld()
	if mutate != nil {
		mutate(w)
	}
	clock := world.NewFixedClock(time.Now().UTC().Truncate(time.Second))
	store, err := world.NewStore(w, clock)
	require.NoError(t, err)
	acr, err := New(store, jwtx.StaticKeyring{acrKey}, testVerifier{clock}, opts...)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(acr)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: testCA.Pool()},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{store: store, clock: clock, acr: acr, srv: srv, tr: tr,
		client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// testWorld is the default world plus the registries and principals the
// negative twins need.
func testWorld() *world.World {
	w := world.Default()
	w.Registries = append(w.Registries,
		world.Registry{Name: "abacacr", ResourceGroup: "rg-azsim", RoleAssignmentMode: world.ModeABAC,
			Images: []world.Image{{Repository: "hello", Tag: "v1"}, {Repository: "team1/app", Tag: "v1"}}},
		world.Registry{Name: "otheracr", ResourceGroup: "rg-azsim", Images: []world.Image{{Repository: "hello", Tag: "v1"}}},
		world.Registry{Name: "noarmacr", ResourceGroup: "rg-azsim", AuthenticationAsArm: new(bool)},
		world.Registry{Name: "publicacr", ResourceGroup: "rg-azsim", AnonymousPull: true,
			AdminUser: &world.AdminUser{Enabled: true, Password: "admin-pass"},
			Images:    []world.Image{{Repository: "hello", Tag: "v1"}, {Repository: "big", Tag: "v1", Source: "random", Layers: 2, LayerSize: 4096}}},
	)
	w.Identities = append(w.Identities,
		world.Identity{Name: "pusher", ResourceGroup: "rg-azsim"},
		world.Identity{Name: "other-puller", ResourceGroup: "rg-azsim"},
		world.Identity{Name: "abac-reader", ResourceGroup: "rg-azsim"},
		world.Identity{Name: "lister", ResourceGroup: "rg-azsim"},
	)
	w.Applications = append(w.Applications, world.Application{Name: "ci-app",
		Secrets: []world.Secret{{Name: "ci", Value: "ci-secret"}}})
	w.RoleAssignments = append(w.RoleAssignments,
		world.RoleAssignment{Principal: "pusher", Role: "AcrPush", Scope: "registry/azsimacr"},
		world.RoleAssignment{Principal: "other-puller", Role: "AcrPull", Scope: "registry/otheracr"},
		world.RoleAssignment{Principal: "aks1-agentpool", Role: "AcrPull", Scope: "registry/abacacr"},
		world.RoleAssignment{Principal: "abac-reader", Role: "Container Registry Repository Reader", Scope: "registry/abacacr",
			Condition: "((!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/content/read'}) AND " +
				"!(ActionMatches{'Microsoft.ContainerRegistry/registries/repositories/metadata/read'})) OR " +
				"(@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringEqualsIgnoreCase 'hello'))"},
		world.RoleAssignment{Principal: "lister", Role: "Owner", Scope: "registry/azsimacr"},
		world.RoleAssignment{Principal: "ci-app", Role: "AcrPull", Scope: "registry/azsimacr"},
	)
	return w
}

// Audiences of Entra tokens.
const (
	audACR = "https://containerregistry.azure.net"
	audARM = "https://management.azure.com/"
)

// entraToken mints an Entra v1 access token for the principal named name,
// valid for an hour from the simulated now.
func (e *env) entraToken(t *testing.T, name, aud string, change ...func(c *api.EntraClaims)) string {
	t.Helper()
	p, ok := e.store.Snapshot().PrincipalByName(name)
	require.True(t, ok, "principal %s", name)
	now := e.clock.Now().Unix()
	c := api.EntraClaims{Aud: aud, Iss: "https://sts.windows.net/" + p.TenantID + "/", Iat: now - 300, Nbf: now - 300,
		Exp: now + 3600, AppID: p.ClientID, AppIDACR: "2", IDTyp: "app", OID: p.ObjectID, Sub: p.ObjectID,
		TID: p.TenantID, UTI: "uti-" + name, Ver: "1.0", XMSMirid: p.ResourceID}
	for _, f := range change {
		f(&c)
	}
	raw, err := entraKey.Sign(c, true)
	require.NoError(t, err)
	return raw
}

// response is a captured HTTP answer.
type response struct {
	status int
	header http.Header
	body   string
}

func (e *env) do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := e.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (e *env) postForm(t *testing.T, rawURL string, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(t, req)
}

func (e *env) get(t *testing.T, rawURL string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(t, req)
}

// refreshToken exchanges an Entra token of name for an ACR refresh token.
func (e *env) refreshToken(t *testing.T, host, name string) string {
	t.Helper()
	r := e.postForm(t, "https://"+host+"/oauth2/exchange", url.Values{"grant_type": {"access_token"},
		"service": {host}, "access_token": {e.entraToken(t, name, audACR)}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &out))
	return out.RefreshToken
}

// accessToken gets an ACR access token for scope with a refresh token.
func (e *env) accessToken(t *testing.T, host, refresh string, scopes ...string) string {
	t.Helper()
	r := e.postForm(t, "https://"+host+"/oauth2/token", url.Values{"grant_type": {"refresh_token"},
		"service": {host}, "refresh_token": {refresh}, "scope": scopes})
	require.Equal(t, http.StatusOK, r.status, r.body)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &out))
	return out.AccessToken
}

// claimsOf decodes a JWT payload with standard base64, as the ACR SDK does.
func claimsOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	p := parts[1]
	if m := len(p) % 4; m != 0 {
		p += strings.Repeat("=", 4-m)
	}
	b, err := base64.StdEncoding.DecodeString(p)
	require.NoError(t, err, "payload must decode with standard base64")
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// maskedClaims renders claims for a golden file: jti masked, times
// relative to the simulated now.
func (e *env) maskedClaims(t *testing.T, raw string) []byte {
	t.Helper()
	m := claimsOf(t, raw)
	now := float64(e.clock.Now().Unix())
	m["jti"] = "<jti>"
	for _, k := range []string{"nbf", "iat", "exp"} {
		m[k] = fmt.Sprintf("now%+ds", int64(m[k].(float64)-now))
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(m))
	return []byte(b.String())
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}
