package embedded

import (
	"fmt"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/fakeoidc"
	"github.com/azsim/azsim/sim"
)

// mintServiceAccountToken asks s for a service-account token described by
// the admin API's request type.
func mintServiceAccountToken(s *sim.Sim, req api.ServiceAccountTokenRequest) (string, time.Time, error) {
	tr := fakeoidc.TokenRequest{Cluster: req.Cluster, Namespace: req.Namespace, ServiceAccount: req.ServiceAccount, Audiences: req.Audiences}
	if req.Expiration != "" {
		d, err := time.ParseDuration(req.Expiration)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("expiration: %w", err)
		}
		tr.Expiration = d
	}
	return s.MintServiceAccountToken(tr)
}
