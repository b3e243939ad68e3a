package scenarios

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/world"
)

// What every target resolves the same way from the world: which cluster a
// step means, which identity a pod is federated as, what a pod asks IMDS.

// ClusterOf returns the cluster named name (the world's first when empty).
func ClusterOf(ix *world.Index, name string) (*world.ClusterInfo, error) {
	if name == "" {
		if len(ix.Clusters) == 0 {
			return nil, fmt.Errorf("the world has no cluster")
		}
		return ix.Clusters[0], nil
	}
	c, ok := ix.Cluster(name)
	if !ok {
		return nil, fmt.Errorf("unknown cluster %q", name)
	}
	return c, nil
}

// FederatedPrincipal returns the identity whose client ID a pod of service
// account sa ("NAMESPACE/NAME") uses: identity when named, else the one
// with a federated credential for the cluster's issuer and the subject.
func FederatedPrincipal(ix *world.Index, sa, cluster, identity string) (*world.Principal, error) {
	if identity != "" {
		p, ok := ix.PrincipalByName(identity)
		if !ok {
			return nil, fmt.Errorf("unknown identity %q", identity)
		}
		return p, nil
	}
	ns, name, ok := strings.Cut(sa, "/")
	if !ok {
		return nil, fmt.Errorf("serviceAccount %q: want NAMESPACE/NAME", sa)
	}
	c, err := ClusterOf(ix, cluster)
	if err != nil {
		return nil, err
	}
	for _, p := range ix.Principals {
		for _, f := range p.FederatedCredentials {
			if f.Issuer == c.IssuerURL && f.Subject == "system:serviceaccount:"+ns+":"+name {
				return p, nil
			}
		}
	}
	return nil, fmt.Errorf("no identity is federated with %s (name one with the identity field)", sa)
}

// IMDSQuery is the query of an IMDS token request for s.
func IMDSQuery(ix *world.Index, s *IMDSStep) (url.Values, error) {
	q := url.Values{"api-version": {"2018-02-01"}, "resource": {flow.ACRResource}}
	if s.Resource != "" {
		q.Set("resource", s.Resource)
	}
	if s.Identity == "" {
		return q, nil
	}
	p, ok := ix.PrincipalByName(s.Identity)
	if !ok {
		return nil, fmt.Errorf("unknown identity %q", s.Identity)
	}
	switch s.Selector {
	case "", "client_id":
		q.Set("client_id", p.ClientID)
	case "msi_res_id", "mi_res_id":
		q.Set(s.Selector, p.ResourceID)
	case "object_id", "principal_id":
		q.Set(s.Selector, p.ObjectID)
	default:
		return nil, fmt.Errorf("selector %q: want client_id, object_id, principal_id, msi_res_id or mi_res_id", s.Selector)
	}
	return q, nil
}

// CallIMDS asks 169.254.169.254 for a token, as a pod or a node would, and
// reports the hop with IMDS's exact error body.
func CallIMDS(ctx context.Context, hc *http.Client, q url.Values) flow.Hop {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://169.254.169.254/metadata/identity/oauth2/token?"+q.Encode(), nil)
	if err != nil {
		return flow.Hop{Name: "imds", Detail: err.Error()}
	}
	req.Header.Set("Metadata", "true")
	resp, err := hc.Do(req)
	if err != nil {
		return flow.Hop{Name: "imds", Detail: err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return flow.Hop{Name: "imds", Status: resp.StatusCode, Detail: strings.TrimSpace(string(body))}
	}
	return flow.Hop{Name: "imds", OK: true, Status: http.StatusOK, Detail: "token issued"}
}
