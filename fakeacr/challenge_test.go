package fakeacr

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// render is a response as a golden file holds it: status, the headers that
// matter on the wire, and the exact body.
func render(r response) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%d\n", r.status)
	for _, h := range []string{"Www-Authenticate", "Content-Type", "Docker-Distribution-Api-Version"} {
		for _, v := range r.header.Values(h) {
			fmt.Fprintf(&b, "%s: %s\n", h, v)
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\n\n%s", len(r.body), r.body)
	return []byte(b.String())
}

// TestChallengeGolden pins the challenges of protocols.md 3.1.
func TestChallengeGolden(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const reg = "https://azsimacr.azurecr.io"
	pullOnly := e.accessToken(t, "azsimacr.azurecr.io", e.refreshToken(t, "azsimacr.azurecr.io", "aks1-agentpool"), "repository:hello:pull")
	other := e.accessToken(t, "otheracr.azurecr.io", e.refreshToken(t, "otheracr.azurecr.io", "other-puller"), "repository:hello:pull")
	tests := []struct {
		name, method, url, auth string
	}{
		{"v2-anonymous", http.MethodGet, reg + "/v2/", ""},
		{"v2-port", http.MethodGet, "https://azsimacr.azurecr.io:5443/v2/", ""},
		{"v2-invalid-token", http.MethodGet, reg + "/v2/", "Bearer not-a-token"},
		{"v2-wrong-basic", http.MethodGet, reg + "/v2/", basicAuth("azsimacr", "wrong")},
		{"manifest-anonymous", http.MethodGet, reg + "/v2/hello/manifests/v1", ""},
		{"manifest-other-registry-token", http.MethodGet, reg + "/v2/hello/manifests/v1", "Bearer " + other},
		{"tags-anonymous", http.MethodGet, reg + "/v2/library/hello-world/tags/list", ""},
		{"catalog-anonymous", http.MethodGet, reg + "/v2/_catalog", ""},
		{"acr-tags-anonymous", http.MethodGet, reg + "/acr/v1/hello/_tags", ""},
		{"push-insufficient", http.MethodPost, reg + "/v2/hello/blobs/uploads/", "Bearer " + pullOnly},
		{"delete-insufficient", http.MethodDelete, reg + "/v2/hello/manifests/v1", "Bearer " + pullOnly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, tt.url, nil)
			require.NoError(t, err)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			r := e.do(t, req)
			require.Equal(t, http.StatusUnauthorized, r.status)
			require.Len(t, r.header.Values("Www-Authenticate"), 1, "exactly one challenge (clients.md 3.4)")
			golden(t, "challenge-"+tt.name+".txt", render(r))
		})
	}
}

// The /v2/ body matches the captured 149-byte answer (protocols.md 3.1).
func TestChallengeBodyLength(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := e.get(t, "https://azsimacr.azurecr.io/v2/")
	assert.Len(t, r.body, 149)
	assert.Equal(t, "registry/2.0", r.header.Get("Docker-Distribution-Api-Version"))
	assert.Equal(t, `Bearer realm="https://azsimacr.azurecr.io/oauth2/token",service="azsimacr.azurecr.io"`, r.header.Get("Www-Authenticate"))
	assert.NotEmpty(t, r.header.Get("X-Ms-Correlation-Request-Id"))
}

func TestUnknownHostAndPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := e.get(t, "https://nosuchacr.azurecr.io/v2/")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, `{"errors":[{"code":"NOT_FOUND","message":"registry \"nosuchacr.azurecr.io\" not found"}]}`+"\n", r.body)
	r = e.get(t, "https://azsimacr.azurecr.io/other")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Contains(t, r.body, "is not an ACR endpoint")
}
