package embedded

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/world"
)

// do runs a step's action and returns its hops.
func (r *Target) do(ctx context.Context, st *scenarios.Step) ([]flow.Hop, error) {
	switch {
	case st.Pull != nil:
		return r.pull(ctx, st.Pull)
	case st.Token != nil:
		return r.token(ctx, st.Token)
	case st.IMDS != nil:
		return r.imds(ctx, st.IMDS)
	case st.SAToken != nil:
		tok, err := r.mint(st.SAToken.ServiceAccount, st.SAToken.Cluster, st.SAToken.Audience, st.SAToken.Expiration)
		if err != nil {
			return nil, err
		}
		r.tokens[st.SAToken.Name] = tok
		return []flow.Hop{{Name: "sa-token", OK: true, Detail: "minted " + st.SAToken.Name}}, nil
	case st.AdvanceClock != "":
		d, err := time.ParseDuration(st.AdvanceClock)
		if err != nil {
			return nil, fmt.Errorf("advanceClock: %w", err)
		}
		r.clock.Advance(d)
		return []flow.Hop{{Name: "clock", OK: true, Detail: "advanced " + d.String()}}, nil
	case st.AssignRole != nil:
		ra := *st.AssignRole
		if _, err := r.sim.World().Update(func(w *world.World) error { w.RoleAssignments = append(w.RoleAssignments, ra); return nil }); err != nil {
			return nil, err
		}
		return []flow.Hop{{Name: "assign-role", OK: true, Detail: fmt.Sprintf("%s → %s at %s", ra.Role, ra.Principal, ra.Scope)}}, nil
	case st.Fault != nil:
		rule, err := r.sim.AddFault(*st.Fault)
		if err != nil {
			return nil, err
		}
		return []flow.Hop{{Name: "fault", OK: true, Detail: "installed " + rule.ID}}, nil
	case st.AssignIdentity != nil:
		return r.assignIdentity(st.AssignIdentity)
	case st.Azidentity != nil:
		return r.azidentity(ctx, st.Azidentity)
	case st.RotateKeys != nil:
		if _, err := r.sim.RotateIssuerKeys(st.RotateKeys.Cluster, st.RotateKeys.DropOld); err != nil {
			return nil, err
		}
		return []flow.Hop{{Name: "rotate-keys", OK: true, Detail: "rotated " + st.RotateKeys.Cluster}}, nil
	}
	return nil, fmt.Errorf("no action")
}

func (r *Target) cluster(name string) (*world.ClusterInfo, error) {
	return scenarios.ClusterOf(r.sim.World().Snapshot(), name)
}

func (r *Target) mint(sa, cluster, audience, expiration string) (string, error) {
	ns, name, ok := strings.Cut(sa, "/")
	if !ok {
		return "", fmt.Errorf("serviceAccount %q: want NAMESPACE/NAME", sa)
	}
	c, err := r.cluster(cluster)
	if err != nil {
		return "", err
	}
	req := api.ServiceAccountTokenRequest{Cluster: c.Name, Namespace: ns, ServiceAccount: name, Expiration: expiration}
	if audience != "" {
		req.Audiences = []string{audience}
	}
	if expiration != "" {
		if _, err := time.ParseDuration(expiration); err != nil {
			return "", fmt.Errorf("expiration: %w", err)
		}
	}
	tok, _, err := r.sim.MintServiceAccountToken(req)
	return tok, err
}

// federated resolves the assertion and the identity of a pod.
func (r *Target) federated(sa, cluster, identity, audience, token string) (*world.Principal, string, error) {
	assertion := r.tokens[token]
	var err error
	if token != "" && assertion == "" {
		return nil, "", fmt.Errorf("no service-account token named %q", token)
	}
	if assertion == "" {
		if assertion, err = r.mint(sa, cluster, audience, ""); err != nil {
			return nil, "", err
		}
	}
	p, err := scenarios.FederatedPrincipal(r.sim.World().Snapshot(), sa, cluster, identity)
	if err != nil {
		return nil, "", err
	}
	return p, assertion, nil
}

func (r *Target) pull(ctx context.Context, p *scenarios.PullStep) ([]flow.Hop, error) {
	opts := flow.Options{ScopeRepository: p.ScopeRepository, Resource: p.Resource}
	c, err := r.flowClient(p.NodePool)
	if err != nil {
		return nil, err
	}
	var res *flow.Result
	switch {
	case p.UseRefresh != "":
		ref, ok := r.refresh[p.UseRefresh]
		if !ok {
			return nil, fmt.Errorf("no refresh token named %q", p.UseRefresh)
		}
		res = c.WithRefreshToken(ctx, ref, p.Image, opts)
	case p.NodePool != "":
		np, ok := r.sim.World().Snapshot().NodePool(p.NodePool)
		if !ok {
			return nil, fmt.Errorf("unknown node pool %q", p.NodePool)
		}
		id := np.Cluster.Kubelet
		if p.Identity != "" {
			if id, ok = r.sim.World().Snapshot().PrincipalByName(p.Identity); !ok {
				return nil, fmt.Errorf("unknown identity %q", p.Identity)
			}
		}
		if id == nil {
			return nil, fmt.Errorf("cluster %s has no kubelet identity", np.Cluster.Name)
		}
		res = c.VMSS(ctx, np.Cluster.TenantID, id.ClientID, p.Image, opts)
	default:
		id, assertion, err := r.federated(p.ServiceAccount, p.Cluster, p.Identity, p.Audience, p.Token)
		if err != nil {
			return nil, err
		}
		res = c.Federated(ctx, id.TenantID, id.ClientID, assertion, p.Image, opts)
	}
	if p.SaveRefresh != "" && res.RefreshToken != "" {
		r.refresh[p.SaveRefresh] = res.RefreshToken
	}
	return res.Hops, nil
}

func (r *Target) token(ctx context.Context, t *scenarios.TokenStep) ([]flow.Hop, error) {
	id, assertion, err := r.federated(t.ServiceAccount, t.Cluster, t.Identity, t.Audience, t.Token)
	if err != nil {
		return nil, err
	}
	c, err := r.flowClient("")
	if err != nil {
		return nil, err
	}
	return c.EntraOnly(ctx, id.TenantID, id.ClientID, assertion).Hops, nil
}

// imds calls the node pool's IMDS as a pod or node would.
func (r *Target) imds(ctx context.Context, s *scenarios.IMDSStep) ([]flow.Hop, error) {
	c, err := r.flowClient(s.NodePool)
	if err != nil {
		return nil, err
	}
	q, err := scenarios.IMDSQuery(r.sim.World().Snapshot(), s)
	if err != nil {
		return nil, err
	}
	return []flow.Hop{scenarios.CallIMDS(ctx, c.HTTP, q)}, nil
}
