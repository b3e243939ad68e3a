package fakeacr

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequiredAccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, path string
		want         string // challenge scope; "" for the ping
		wantErr      string
	}{
		{"GET", "/v2/", "", ""},
		{"GET", "/v2", "", ""},
		{"GET", "/v2/_catalog", "registry:catalog:*", ""},
		{"GET", "/acr/v1/_catalog", "registry:catalog:*", ""},
		{"GET", "/acr/v1/team/app/_tags", "repository:team/app:metadata_read", ""},
		{"GET", "/v2/hello/manifests/v1", "repository:hello:pull", ""},
		{"HEAD", "/v2/a/b/c/blobs/sha256:00", "repository:a/b/c:pull", ""},
		{"GET", "/v2/hello/tags/list", "repository:hello:metadata_read", ""},
		{"GET", "/v2/tags/list/tags/list", "repository:tags/list:metadata_read", ""},
		{"POST", "/v2/hello/blobs/uploads/", "repository:hello:pull,push", ""},
		{"PATCH", "/v2/hello/blobs/uploads/abc", "repository:hello:pull,push", ""},
		{"PUT", "/v2/blobs/manifests/v1", "repository:blobs:pull,push", ""},
		{"DELETE", "/v2/hello/manifests/sha256:00", "repository:hello:delete", ""},
		{"GET", "/v2/hello/referrers/sha256:00", "repository:hello:pull", ""},
		{"GET", "/v2/hello", "", "unknown registry API"},
		{"GET", "/v2/Hello/manifests/v1", "", "invalid repository name"},
		{"GET", "/acr/v1/hello/_manifests", "", "is not simulated"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, "https://x"+tt.path, nil)
			require.NoError(t, err)
			nd, err := requiredAccess(req)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			if tt.want == "" {
				assert.Nil(t, nd)
				return
			}
			assert.Equal(t, tt.want, nd.challengeScope())
		})
	}
}

// TestDataPlane covers the authorization middleware with hand-made
// requests: every way in, and the errors (protocols.md 3.1).
func TestDataPlane(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	rt := e.refreshToken(t, azsimacr, "aks1-agentpool")
	pull := e.accessToken(t, azsimacr, rt, "repository:hello:pull")
	meta := e.accessToken(t, azsimacr, rt, "repository:hello:metadata_read")
	lister := e.accessToken(t, azsimacr, e.refreshToken(t, azsimacr, "lister"), "registry:catalog:*")
	ciApp := mustClientID(t, e, "ci-app")
	const reg = "https://" + azsimacr
	tests := []struct {
		name, method, url, auth string
		status                  int
		bodyHas                 string
	}{
		{"ping with bearer", "GET", reg + "/v2/", "Bearer " + pull, 200, ""},
		{"ping with null user basic", "GET", reg + "/v2/", basicAuth(nullUser, rt), 200, ""},
		{"pull manifest", "GET", reg + "/v2/hello/manifests/v1", "Bearer " + pull, 200, "schemaVersion"},
		{"head manifest", "HEAD", reg + "/v2/hello/manifests/v1", "Bearer " + pull, 200, ""},
		{"manifest with metadata token", "GET", reg + "/v2/hello/manifests/v1", "Bearer " + meta, 401, `"Action":"pull"`},
		{"tags with metadata token", "GET", reg + "/v2/hello/tags/list", "Bearer " + meta, 200, `"tags":["v1"]`},
		{"tags with pull token", "GET", reg + "/v2/hello/tags/list", "Bearer " + pull, 401, "metadata_read"},
		{"catalog", "GET", reg + "/v2/_catalog", "Bearer " + lister, 200, `"repositories":["hello"]`},
		{"acr catalog", "GET", reg + "/acr/v1/_catalog", "Bearer " + lister, 200, `"repositories":["hello"]`},
		{"catalog without rights", "GET", reg + "/v2/_catalog", "Bearer " + pull, 401, "catalog"},
		{"basic refresh token pulls", "GET", reg + "/v2/hello/manifests/v1", basicAuth(nullUser, rt), 200, "schemaVersion"},
		{"basic access token pulls", "GET", reg + "/v2/hello/manifests/v1", basicAuth(nullUser, pull), 200, "schemaVersion"},
		{"basic app secret pulls", "GET", reg + "/v2/hello/manifests/v1", basicAuth(ciApp, "ci-secret"), 200, "schemaVersion"},
		{"basic app cannot push", "POST", reg + "/v2/hello/blobs/uploads/", basicAuth(ciApp, "ci-secret"), 401, `"Action":"push"`},
		{"basic admin pulls", "GET", "https://publicacr.azurecr.io/v2/big/manifests/v1", basicAuth("publicacr", "admin-pass"), 200, "schemaVersion"},
		{"basic admin disabled", "GET", reg + "/v2/", basicAuth("azsimacr", "x"), 401, "UNAUTHORIZED"},
		{"refresh token as bearer", "GET", reg + "/v2/hello/manifests/v1", "Bearer " + rt, 401, "UNAUTHORIZED"},
		{"unknown scheme", "GET", reg + "/v2/", "Digest abc", 401, "UNAUTHORIZED"},
		{"unknown manifest", "GET", reg + "/v2/hello/manifests/v2", "Bearer " + pull, 404, "MANIFEST_UNKNOWN"},
		{"unknown API path", "GET", reg + "/v2/hello", "Bearer " + pull, 404, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, tt.url, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", tt.auth)
			r := e.do(t, req)
			assert.Equal(t, tt.status, r.status, r.body)
			assert.Contains(t, r.body, tt.bodyHas)
			if tt.status == 401 {
				assert.Len(t, r.header.Values("Www-Authenticate"), 1)
			}
		})
	}
}

func TestDataPlaneTokenExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	pull := e.accessToken(t, azsimacr, e.refreshToken(t, azsimacr, "aks1-agentpool"), "repository:hello:pull")
	e.clock.Advance(DefaultAccessTokenLifetime + time.Second)
	r := e.get(t, "https://"+azsimacr+"/v2/hello/manifests/v1", "Authorization", "Bearer "+pull)
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.True(t, strings.HasSuffix(r.header.Get("Www-Authenticate"), `,scope="repository:hello:pull",error="invalid_token"`))
}

// The SDK's /acr/v1/<name>/_tags answer (protocols.md 3.5).
func TestACRTags(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	meta := e.accessToken(t, azsimacr, e.refreshToken(t, azsimacr, "aks1-agentpool"), "repository:hello:metadata_read", "repository:nope:metadata_read")
	r := e.get(t, "https://"+azsimacr+"/acr/v1/hello/_tags?api-version=2021-07-01", "Authorization", "Bearer "+meta)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, `"registry":"azsimacr.azurecr.io","imageName":"hello","tags":[{"name":"v1","digest":"sha256:`)
	r = e.get(t, "https://"+azsimacr+"/acr/v1/nope/_tags", "Authorization", "Bearer "+meta)
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, `{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`+"\n", r.body)
}
