// Package flow performs the two identity flows of an AKS cluster as real
// clients do, hop by hop, over any HTTP client that reaches the Azure host
// names and 169.254.169.254:
//
//   - VMSS (kubelet): IMDS → Entra access token for ACR → /v2/ challenge →
//     /oauth2/exchange (grant access_token_refresh_token, as the kubelet
//     credential provider sends) → /oauth2/token → pull;
//   - federated (workload identity): service-account token → Entra
//     client_assertion → /v2/ challenge → /oauth2/exchange (grant
//     access_token) → /oauth2/token → pull.
//
// Each hop is reported with its outcome and, on failure, the exact status
// and body the service answered, so a caller can say which hop failed.
package flow

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ACRResource is the Entra resource of ACR (protocols.md 1.4).
const ACRResource = "https://containerregistry.azure.net"

// Hop is the outcome of one step of a flow.
type Hop struct {
	Name   string // imds, entra, challenge, exchange, token, pull
	OK     bool
	Status int    // HTTP status, when the hop got an answer
	Detail string // what happened, or the error body
}

// Result is the outcome of a whole flow.
type Result struct {
	Hops []Hop
	// Digest of the pulled image, when the pull succeeded.
	Digest string
	// Layers pulled and their total size.
	Layers int
	Bytes  int64
	// RefreshToken is the ACR refresh token the exchange returned, so a
	// later step can reuse it.
	RefreshToken string `json:"-"`
}

// OK reports whether every hop succeeded.
func (r *Result) OK() bool {
	for _, h := range r.Hops {
		if !h.OK {
			return false
		}
	}
	return len(r.Hops) > 0
}

// Failed returns the first failed hop, if any.
func (r *Result) Failed() (Hop, bool) {
	for _, h := range r.Hops {
		if !h.OK {
			return h, true
		}
	}
	return Hop{}, false
}

func (r *Result) ok(name, format string, args ...any) {
	r.Hops = append(r.Hops, Hop{Name: name, OK: true, Status: http.StatusOK, Detail: fmt.Sprintf(format, args...)})
}

func (r *Result) fail(name string, status int, format string, args ...any) {
	r.Hops = append(r.Hops, Hop{Name: name, Status: status, Detail: fmt.Sprintf(format, args...)})
}

// Client is what a flow needs.
type Client struct {
	// HTTP reaches the Azure host names on 443 and IMDS on 169.254.169.254:80.
	HTTP *http.Client
	// AuthorityHost defaults to https://login.microsoftonline.com.
	AuthorityHost string
}

func (c *Client) authority() string {
	if c.AuthorityHost != "" {
		return strings.TrimSuffix(c.AuthorityHost, "/")
	}
	return "https://login.microsoftonline.com"
}

const maxBody = 1 << 20

// do sends req and returns status and body.
func (c *Client) do(req *http.Request) (int, []byte, error) {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, b, err
}

func ctxTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 60*time.Second)
}
