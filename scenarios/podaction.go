package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/internal/platform/state"
)

// PodResultPrefix starts the log line where `azsim kind pod-step` prints
// its hops as JSON.
const PodResultPrefix = "AZSIM-STEP-RESULT "

// PodAction is a step as a client inside a pod of a wired kind cluster
// performs it (`azsim kind pod-step`): the kind target writes it, the pod
// runs it over the pod's own network (the cluster's DNS for the Azure
// names, the node's DNAT for 169.254.169.254), with the CA of
// SSL_CERT_FILE and the token files Kubernetes mounted.
type PodAction struct {
	// Action is pull, token, imds or azidentity.
	Action string `json:"action"`
	// Flow of a pull: vmss (IMDS), federated (TokenFile) or refresh
	// (RefreshFile).
	Flow     string `json:"flow,omitempty"`
	Image    string `json:"image,omitempty"`
	TenantID string `json:"tenantId,omitempty"`
	ClientID string `json:"clientId,omitempty"`
	// TokenFile holds the service-account token (projected or a Secret).
	TokenFile string `json:"tokenFile,omitempty"`
	// RefreshFile is read by the refresh flow; SaveRefreshFile receives
	// the refresh token a pull obtained (both on a hostPath of the node).
	RefreshFile     string `json:"refreshFile,omitempty"`
	SaveRefreshFile string `json:"saveRefreshFile,omitempty"`
	ScopeRepository string `json:"scopeRepository,omitempty"`
	Resource        string `json:"resource,omitempty"`
	// IMDSQuery is the encoded query of an imds action.
	IMDSQuery string `json:"imdsQuery,omitempty"`
	// Credential and Scope of an azidentity action.
	Credential string `json:"credential,omitempty"`
	Scope      string `json:"scope,omitempty"`
	// AuthorityHost is Entra's base URL (default the public cloud's).
	AuthorityHost string `json:"authorityHost,omitempty"`
}

// Run performs the action with hc and returns its hops.
func (a *PodAction) Run(ctx context.Context, hc *http.Client) ([]flow.Hop, error) {
	c := &flow.Client{HTTP: hc, AuthorityHost: a.AuthorityHost}
	switch a.Action {
	case "pull":
		return a.pull(ctx, c)
	case "token":
		tok, err := a.readFile(a.TokenFile, "tokenFile")
		if err != nil {
			return nil, err
		}
		return c.EntraOnly(ctx, a.TenantID, a.ClientID, tok).Hops, nil
	case "imds":
		q, err := url.ParseQuery(a.IMDSQuery)
		if err != nil {
			return nil, fmt.Errorf("imdsQuery: %w", err)
		}
		return []flow.Hop{CallIMDS(ctx, hc, q)}, nil
	case "azidentity":
		req := AzidentityRequest{Credential: a.Credential, TenantID: a.TenantID, ClientID: a.ClientID, Scope: a.Scope, Transport: hc}
		if a.Credential == "ClientAssertion" {
			req.Assertion = func(context.Context) (string, error) { return a.readFile(a.TokenFile, "tokenFile") }
		}
		return []flow.Hop{AzidentityToken(ctx, req)}, nil
	}
	return nil, fmt.Errorf("action %q: want pull, token, imds or azidentity", a.Action)
}

func (a *PodAction) pull(ctx context.Context, c *flow.Client) ([]flow.Hop, error) {
	opts := flow.Options{ScopeRepository: a.ScopeRepository, Resource: a.Resource}
	var res *flow.Result
	switch a.Flow {
	case "vmss":
		res = c.VMSS(ctx, a.TenantID, a.ClientID, a.Image, opts)
	case "federated":
		tok, err := a.readFile(a.TokenFile, "tokenFile")
		if err != nil {
			return nil, err
		}
		res = c.Federated(ctx, a.TenantID, a.ClientID, tok, a.Image, opts)
	case "refresh":
		ref, err := a.readFile(a.RefreshFile, "refreshFile")
		if err != nil {
			return nil, err
		}
		res = c.WithRefreshToken(ctx, ref, a.Image, opts)
	default:
		return nil, fmt.Errorf("flow %q: want vmss, federated or refresh", a.Flow)
	}
	if a.SaveRefreshFile != "" && res.RefreshToken != "" {
		if err := state.WriteFile(a.SaveRefreshFile, []byte(res.RefreshToken), 0o600); err != nil {
			return nil, fmt.Errorf("saving the refresh token: %w", err)
		}
	}
	return res.Hops, nil
}

func (a *PodAction) readFile(path, field string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("%s: required for %s", field, a.Action)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// ParsePodResult finds the hops a pod printed in its log.
func ParsePodResult(log string) ([]flow.Hop, bool) {
	for _, line := range strings.Split(log, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), PodResultPrefix); ok {
			var hops []flow.Hop
			if json.Unmarshal([]byte(rest), &hops) == nil {
				return hops, true
			}
		}
	}
	return nil, false
}
