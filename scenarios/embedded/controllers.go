package embedded

import (
	"context"
	"fmt"
	"net/http"

	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/scenarios"
)

func (r *Target) assignIdentity(a *scenarios.AssignIdentityStep) ([]flow.Hop, error) {
	plan, err := scenarios.PlanIdentityAssignment(r.sim.World().Snapshot(), a, r.clock.Now())
	if err != nil {
		return nil, err
	}
	if plan.Denied != nil {
		r.sim.Record(*plan.Denied)
	} else if _, err := r.sim.World().Update(plan.Update); err != nil {
		return nil, err
	}
	return []flow.Hop{plan.Hop}, nil
}

func (r *Target) azidentity(ctx context.Context, a *scenarios.AzidentityStep) ([]flow.Hop, error) {
	tr, err := r.sim.TransportForPool(a.NodePool)
	if err != nil {
		return nil, err
	}
	req := scenarios.AzidentityRequest{Credential: a.Credential, Scope: a.Scope, Transport: &http.Client{Transport: tr}}
	switch a.Credential {
	case "ManagedIdentity":
		if a.Identity != "" {
			p, ok := r.sim.World().Snapshot().PrincipalByName(a.Identity)
			if !ok {
				return nil, fmt.Errorf("unknown identity %q", a.Identity)
			}
			req.ClientID = p.ClientID
		}
	case "ClientAssertion":
		p, assertion, err := r.federated(a.ServiceAccount, "", a.Identity, "", "")
		if err != nil {
			return nil, err
		}
		req.TenantID, req.ClientID = p.TenantID, p.ClientID
		req.Assertion = func(context.Context) (string, error) { return assertion, nil }
	default:
		return nil, fmt.Errorf("credential %q: want ManagedIdentity or ClientAssertion", a.Credential)
	}
	return []flow.Hop{scenarios.AzidentityToken(ctx, req)}, nil
}
