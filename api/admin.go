package api

// Admin API paths (docs/DESIGN.md "Admin API").
const (
	PathHealthz         = "/healthz"
	PathWorld           = "/api/world"
	PathClock           = "/api/clock"
	PathEndpoints       = "/api/endpoints"
	PathTrace           = "/api/trace"
	PathFaults          = "/api/faults"
	PathServiceAccount  = "/api/tokens/serviceaccount"
	PathClusters        = "/api/clusters"
	RotateKeysSuffix    = "/rotate-keys"
	AdminTokenEnv       = "AZSIM_ADMIN_TOKEN"
	AdminTokenFile      = "admin-token"
	DefaultAdminAddress = "127.0.0.1:8078"
	// WithSecrets is the query that asks a world read for the secrets it
	// leaves out by default (client secrets, registry admin passwords).
	WithSecrets = "secrets=include"
)

// ClockState answers GET and POST /api/clock.
type ClockState struct {
	// Now is the simulated time, RFC 3339 with nanoseconds.
	Now string `json:"now"`
}

// ClockRequest is the body of POST /api/clock: exactly one of Advance (a Go
// duration) and Set (RFC 3339).
type ClockRequest struct {
	Advance string `json:"advance,omitempty"`
	Set     string `json:"set,omitempty"`
}

// ServiceAccountTokenRequest is the body of POST /api/tokens/serviceaccount:
// a token as kube-apiserver's TokenRequest API would mint it.
type ServiceAccountTokenRequest struct {
	// Cluster names a cluster of the world ("" = the first).
	Cluster        string   `json:"cluster"`
	Namespace      string   `json:"namespace"`
	ServiceAccount string   `json:"serviceAccount"`
	Audiences      []string `json:"audiences,omitempty"`
	// Expiration is a Go duration ("" = the issuer's default).
	Expiration string `json:"expiration,omitempty"`
}

// ServiceAccountToken answers a ServiceAccountTokenRequest.
type ServiceAccountToken struct {
	Token string `json:"token"`
	// ExpiresOn is RFC 3339.
	ExpiresOn string `json:"expiresOn"`
	Issuer    string `json:"issuer"`
}

// RotatedKeys answers POST /api/clusters/{cluster}/rotate-keys.
type RotatedKeys struct {
	Cluster string   `json:"cluster"`
	KIDs    []string `json:"kids"`
}

// Error is the body of every admin API refusal. Problems holds each problem
// on its own (world validation reports every one at once).
type Error struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems,omitempty"`
}
