package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/fakeoidc"
)

// MintServiceAccountToken mints a service-account token of a cluster of the
// world (the first cluster when req.Cluster is empty) and returns it with
// its expiry.
func (s *Sim) MintServiceAccountToken(req api.ServiceAccountTokenRequest) (string, time.Time, error) {
	tr := fakeoidc.TokenRequest{Cluster: req.Cluster, Namespace: req.Namespace, ServiceAccount: req.ServiceAccount,
		Audiences: req.Audiences}
	if req.Expiration != "" {
		d, err := time.ParseDuration(req.Expiration)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("token request: expiration: %w", err)
		}
		tr.Expiration = d
	}
	if tr.Cluster == "" {
		cs := s.store.Snapshot().Clusters
		if len(cs) == 0 {
			return "", time.Time{}, errors.New("the world has no cluster")
		}
		tr.Cluster = cs[0].Name
	}
	return s.issuer.MintServiceAccountToken(tr)
}

func (s *Sim) postServiceAccountToken(w http.ResponseWriter, r *http.Request) {
	var req api.ServiceAccountTokenRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		adminError(w, http.StatusBadRequest, fmt.Errorf("token request: %w", err))
		return
	}
	tok, expOn, err := s.MintServiceAccountToken(req)
	if err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	// The issuer is named only when the request names the cluster.
	c, _ := s.store.Snapshot().Cluster(req.Cluster)
	iss := ""
	if c != nil {
		iss = c.IssuerURL
	}
	adminJSON(w, http.StatusOK, api.ServiceAccountToken{Token: tok, ExpiresOn: expOn.UTC().Format(time.RFC3339), Issuer: iss})
}
