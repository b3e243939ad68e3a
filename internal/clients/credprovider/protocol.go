package credprovider

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// APIVersion is the exec plugin API version azsim speaks.
const APIVersion = "credentialprovider.kubelet.k8s.io/v1"

// Request is the kubelet's CredentialProviderRequest.
type Request struct {
	Kind                      string            `json:"kind"`
	APIVersion                string            `json:"apiVersion"`
	Image                     string            `json:"image"`
	ServiceAccountToken       string            `json:"serviceAccountToken,omitempty"`
	ServiceAccountAnnotations map[string]string `json:"serviceAccountAnnotations,omitempty"`
}

// AuthConfig is one registry's credentials.
type AuthConfig struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Response is the CredentialProviderResponse.
type Response struct {
	Kind          string                `json:"kind"`
	APIVersion    string                `json:"apiVersion"`
	CacheKeyType  string                `json:"cacheKeyType"`
	CacheDuration string                `json:"cacheDuration,omitempty"`
	Auth          map[string]AuthConfig `json:"auth"`
}

// ReadRequest decodes and checks a request (other API versions are refused,
// as the kubelet's own plugins do).
func ReadRequest(r io.Reader) (*Request, error) {
	var req Request
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("reading CredentialProviderRequest: %w", err)
	}
	switch {
	case req.APIVersion != APIVersion:
		return nil, fmt.Errorf("apiVersion %q is not supported, want %s", req.APIVersion, APIVersion)
	case req.Kind != "CredentialProviderRequest":
		return nil, fmt.Errorf("kind %q, want CredentialProviderRequest", req.Kind)
	case req.Image == "":
		return nil, fmt.Errorf("image is required")
	}
	return &req, nil
}

func newResponse(ttl time.Duration) *Response {
	return &Response{Kind: "CredentialProviderResponse", APIVersion: APIVersion, CacheKeyType: "Registry",
		CacheDuration: ttl.String(), Auth: map[string]AuthConfig{}}
}

// acrImage matches the login servers the provider serves (clients.md 3.4).
var acrImage = regexp.MustCompile(`^([a-zA-Z0-9]+\.azurecr\.(?:io|cn|de|us))(?:/|$)`)

// LoginServer returns the ACR login server of image, or "".
func LoginServer(image string) string {
	m := acrImage.FindStringSubmatch(strings.ToLower(image))
	if m == nil {
		return ""
	}
	return m[1]
}
