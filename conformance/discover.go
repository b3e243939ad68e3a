package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/azsim/azsim/api"
)

// worldDoc is the part of azsim's compiled world (GET /api/world) the
// harness reads.
type worldDoc struct {
	Subscriptions []struct {
		Name string `json:"name"`
		ID   string `json:"id"`
	} `json:"subscriptions"`
	ResourceGroups []struct {
		Name         string `json:"name"`
		Subscription string `json:"subscription"`
	} `json:"resourceGroups"`
	Identities []struct {
		Name          string `json:"name"`
		ResourceGroup string `json:"resourceGroup"`
		ClientID      string `json:"clientId"`
		PrincipalID   string `json:"principalId"`
		FICs          []struct {
			Issuer    string   `json:"issuer"`
			Subject   string   `json:"subject"`
			Audiences []string `json:"audiences"`
		} `json:"federatedCredentials"`
	} `json:"identities"`
	Registries []struct {
		LoginServer string `json:"loginServer"`
		Images      []struct {
			Repository string `json:"repository"`
			Tag        string `json:"tag"`
		} `json:"images"`
	} `json:"registries"`
	Clusters []struct {
		Name       string `json:"name"`
		OIDCIssuer struct {
			URL string `json:"url"`
		} `json:"oidcIssuer"`
		KubeletIdentity string `json:"kubeletIdentity"`
		NodePools       []struct {
			Name       string   `json:"name"`
			Identities []string `json:"identities"`
		} `json:"nodePools"`
	} `json:"clusters"`
}

// TargetFromEndpoints builds the target of a running azsim from its
// endpoints and its world (read through the admin API): every Azure host
// name resolves to the HTTPS listener, the first cluster's kubelet identity
// and node pools, the first federated identity of that cluster, and the
// first registry with a seeded image.
func TargetFromEndpoints(ctx context.Context, ep api.Endpoints, adminToken string) (*Target, error) {
	t := &Target{Name: "azsim " + ep.HTTPS, TenantID: ep.TenantID, CAFile: ep.CAFile,
		Entra: &EntraTarget{Authority: "https://login.microsoftonline.com"}, Resolve: map[string]string{},
		Admin: &AdminTarget{URL: "http://" + ep.Admin, Token: adminToken}}
	for _, h := range ep.Hosts {
		t.Resolve[h] = ep.HTTPS
	}
	t.Resolve["*.azurecr.io"], t.Resolve["*.oic.prod-aks.azure.com"] = ep.HTTPS, ep.HTTPS
	var raw json.RawMessage
	if err := newAdminClient(t).World(ctx, &raw); err != nil {
		return nil, fmt.Errorf("reading the simulator's world: %w", err)
	}
	var w worldDoc
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("decoding the simulator's world: %w", err)
	}
	fromWorld(t, &w, ep)
	return t, t.Validate()
}

func fromWorld(t *Target, w *worldDoc, ep api.Endpoints) {
	for _, r := range w.Registries {
		if len(r.Images) > 0 {
			t.Registries = append(t.Registries, RegistryTarget{LoginServer: r.LoginServer, Repository: r.Images[0].Repository, Reference: r.Images[0].Tag})
		}
	}
	if len(w.Clusters) == 0 {
		return
	}
	c := w.Clusters[0]
	t.Issuers = []IssuerTarget{{URL: c.OIDCIssuer.URL, Cluster: c.Name}}
	for _, p := range c.NodePools {
		ref := c.Name + "/" + p.Name
		if addr, ok := ep.IMDS[ref]; ok {
			t.IMDS = append(t.IMDS, IMDSTarget{Pool: ref, URL: "http://" + addr, Identities: w.clientIDs(p.Identities)})
		}
	}
	for _, id := range w.Identities {
		switch {
		case id.Name == c.KubeletIdentity && t.Identities.Kubelet == nil:
			pool := ""
			for _, p := range c.NodePools {
				if contains(p.Identities, id.Name) && pool == "" && ep.IMDS[c.Name+"/"+p.Name] != "" {
					pool = c.Name + "/" + p.Name
				}
			}
			if pool != "" {
				t.Identities.Kubelet = &Identity{ClientID: id.ClientID, ObjectID: id.PrincipalID, ResourceID: w.resourceID(id.ResourceGroup, id.Name), Pool: pool}
			}
		case t.Identities.Federated == nil:
			for _, f := range id.FICs {
				ns, sa, ok := splitSubject(f.Subject)
				if ok && f.Issuer == c.OIDCIssuer.URL && len(f.Audiences) > 0 {
					t.Identities.Federated = &Identity{ClientID: id.ClientID, ObjectID: id.PrincipalID, Namespace: ns, SA: sa, Audience: f.Audiences[0], Issuer: f.Issuer}
					break
				}
			}
		}
	}
}

func (w *worldDoc) clientIDs(names []string) []string {
	var out []string
	for _, id := range w.Identities {
		if contains(names, id.Name) {
			out = append(out, id.ClientID)
		}
	}
	sort.Strings(out)
	return out
}

func (w *worldDoc) resourceID(rg, name string) string {
	for _, g := range w.ResourceGroups {
		if !strings.EqualFold(g.Name, rg) {
			continue
		}
		for _, s := range w.Subscriptions {
			if strings.EqualFold(s.Name, g.Subscription) {
				return fmt.Sprintf("/subscriptions/%s/resourcegroups/%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/%s", s.ID, g.Name, name)
			}
		}
	}
	return ""
}

func splitSubject(sub string) (string, string, bool) {
	rest, ok := strings.CutPrefix(sub, "system:serviceaccount:")
	if !ok {
		return "", "", false
	}
	ns, sa, ok := strings.Cut(rest, ":")
	return ns, sa, ok && ns != "" && sa != ""
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
