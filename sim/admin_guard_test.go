package sim_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
	"github.com/azsim/azsim/world"
)

// raw sends one admin request with the given headers (Host among them).
func raw(t *testing.T, s *sim.Sim, method, path, body string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.AdminAddr()+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, strings.ReplaceAll(string(b), `\"`, `"`) // JSON-escaped quotes, for reading
}

// A page in the user's browser cannot use the admin API: not by a
// cross-site request, not through DNS rebinding, not with a form's or
// text/plain's content type.
func TestAdminRefusesBrowserAttacks(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	_, port, _ := strings.Cut(s.AdminAddr(), ":")
	ra := `{"principal":"app-puller","role":"AcrPush","scope":"registry/azsimacr"}`
	for _, tc := range []struct {
		name, method, path, body string
		headers                  map[string]string
		want                     int
		says                     string
	}{
		{"rebinding host reads the world", http.MethodGet, "/api/world", "", map[string]string{"Host": "evil.example:" + port}, 403, `host "evil.example:` + port + `"`},
		{"rebinding host on healthz", http.MethodGet, "/healthz", "", map[string]string{"Host": "evil.example"}, 403, "is not the admin API's address"},
		{"cross-site text/plain write", http.MethodPost, "/api/world/roleAssignments", ra,
			map[string]string{"Origin": "https://evil.example", "Content-Type": "text/plain;charset=UTF-8"}, 403, `cross-origin request from "https://evil.example" refused`},
		{"another local origin", http.MethodPost, "/api/clock", `{"advance":"1h"}`,
			map[string]string{"Origin": "http://localhost:3000", "Content-Type": "application/json"}, 403, "cross-origin"},
		{"a sandboxed page", http.MethodGet, "/api/world", "", map[string]string{"Origin": "null"}, 403, "cross-origin"},
		{"text/plain without an origin", http.MethodPost, "/api/clock", `{"advance":"1h"}`,
			map[string]string{"Content-Type": "text/plain"}, 415, `Content-Type "text/plain"`},
		{"a form post", http.MethodPost, "/api/world/roleAssignments", "principal=x",
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "must be application/json or application/yaml"},
		{"a body without a type", http.MethodPost, "/api/clock", `{"advance":"1h"}`, nil, 415, `Content-Type ""`},
		{"its own origin, JSON", http.MethodGet, "/api/clock", "", map[string]string{"Origin": "http://127.0.0.1:" + port}, 200, `"now"`},
		{"localhost by name", http.MethodGet, "/api/clock", "", map[string]string{"Host": "localhost:" + port}, 200, `"now"`},
		{"a write without a body needs no type", http.MethodPost, "/api/clusters/aks1/rotate-keys", "", nil, 200, `"kids"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := raw(t, s, tc.method, tc.path, tc.body, tc.headers)
			assert.Equal(t, tc.want, code, body)
			assert.Contains(t, body, tc.says)
		})
	}
	ix := s.World().Snapshot()
	for _, a := range ix.Assignments {
		assert.NotEqual(t, "AcrPush", a.Role.Name, "no refused write reached the world")
	}
	assert.WithinDuration(t, time.Now(), s.World().Clock().Now(), time.Minute, "no refused clock move")
}

// Bound to every interface, the admin API needs its token, which then
// protects it: any Host is answered, a foreign Origin still is not.
func TestAdminOnWildcardAddress(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil, sim.WithAdminAddr("0.0.0.0:0"), sim.WithAdminToken("tok"))
	_, port, _ := strings.Cut(s.AdminAddr(), "]:")
	if port == "" {
		_, port, _ = strings.Cut(s.AdminAddr(), ":")
	}
	code, body := raw(t, s, http.MethodGet, "/api/clock", "", map[string]string{"Host": "build-host.internal:" + port, "Authorization": "Bearer tok"})
	assert.Equal(t, http.StatusOK, code, body)
	code, body = raw(t, s, http.MethodGet, "/api/clock", "", map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer tok"})
	assert.Equal(t, http.StatusForbidden, code, body)
}

// World reads leave out secrets unless asked; asked, they round-trip.
func TestWorldReadsRedactSecrets(t *testing.T) {
	t.Parallel()
	w := world.Default()
	w.Applications = append(w.Applications, world.Application{Name: "ci-app", Secrets: []world.Secret{{Name: "ci", Value: "s3cr3t-value"}}})
	w.Registries[0].AdminUser = &world.AdminUser{Enabled: true, Password: "admin-pass-123"}
	s := simtest.Start(t, w)
	for _, path := range []string{"/api/world", "/api/world/applications", "/api/world/registries"} {
		code, body := raw(t, s, http.MethodGet, path, "", nil)
		require.Equal(t, http.StatusOK, code, body)
		assert.NotContains(t, body, "s3cr3t-value", path)
		assert.NotContains(t, body, "admin-pass-123", path)
	}
	code, body := raw(t, s, http.MethodGet, "/api/world?secrets=include", "", nil)
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, "s3cr3t-value")
	assert.Contains(t, body, "admin-pass-123")
	code, body = raw(t, s, http.MethodPut, "/api/world", `{"apiVersion":"azsim.dev/v1alpha1","kind":"World","tenants":[{"name":"azsim"}],"subscriptions":[{"name":"s"}]}`,
		map[string]string{"Content-Type": "application/json"})
	require.Equal(t, http.StatusOK, code, body)
	assert.NotContains(t, body, "s3cr3t-value", "the answer of a write is redacted too")
}

// An object posted as YAML is read as YAML, as in a world file.
func TestPostObjectAsYAML(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	code, body := raw(t, s, http.MethodPost, "/api/world/identities", "name: from-yaml\nresourceGroup: rg-azsim\n",
		map[string]string{"Content-Type": "application/yaml"})
	require.Equal(t, http.StatusOK, code, body)
	_, ok := s.World().Snapshot().PrincipalByName("from-yaml")
	assert.True(t, ok)
	code, body = raw(t, s, http.MethodPost, "/api/world/identities", "name: [unclosed\n", map[string]string{"Content-Type": "application/yaml"})
	assert.Equal(t, http.StatusBadRequest, code, body)
	assert.Contains(t, body, "identities: ")
}
