package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/azsim/azsim/fakeoidc"
)

// ServiceAccountTokenRequest is the body of POST /api/tokens/serviceaccount.
type ServiceAccountTokenRequest struct {
	Cluster        string   `json:"cluster"`
	Namespace      string   `json:"namespace"`
	ServiceAccount string   `json:"serviceAccount"`
	Audiences      []string `json:"audiences,omitempty"`
	Expiration     string   `json:"expiration,omitempty"`
}

// ServiceAccountToken is its answer.
type ServiceAccountToken struct {
	Token     string `json:"token"`
	ExpiresOn string `json:"expiresOn"`
	Issuer    string `json:"issuer"`
}

// MintServiceAccountToken mints a service-account token of a cluster of the
// world (the first cluster when req.Cluster is empty).
func (s *Sim) MintServiceAccountToken(req fakeoidc.TokenRequest) (string, time.Time, error) {
	if req.Cluster == "" {
		cs := s.Store.Snapshot().Clusters
		if len(cs) == 0 {
			return "", time.Time{}, fmt.Errorf("the world has no cluster")
		}
		req.Cluster = cs[0].Name
	}
	return s.Issuer.MintServiceAccountToken(req)
}

func (s *Sim) postServiceAccountToken(w http.ResponseWriter, r *http.Request) {
	var req ServiceAccountTokenRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		adminError(w, http.StatusBadRequest, fmt.Errorf("token request: %w", err))
		return
	}
	var exp time.Duration
	if req.Expiration != "" {
		d, err := time.ParseDuration(req.Expiration)
		if err != nil {
			adminError(w, http.StatusBadRequest, fmt.Errorf("token request: expiration: %w", err))
			return
		}
		exp = d
	}
	tok, expOn, err := s.MintServiceAccountToken(fakeoidc.TokenRequest{Cluster: req.Cluster, Namespace: req.Namespace,
		ServiceAccount: req.ServiceAccount, Audiences: req.Audiences, Expiration: exp})
	if err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	c, _ := s.Store.Snapshot().Cluster(req.Cluster)
	iss := ""
	if c != nil {
		iss = c.IssuerURL
	}
	adminJSON(w, http.StatusOK, ServiceAccountToken{Token: tok, ExpiresOn: expOn.UTC().Format(time.RFC3339), Issuer: iss})
}
