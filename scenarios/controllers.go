package scenarios

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/azsim/azsim/internal/flow"
	"github.com/azsim/azsim/internal/trace"
	"github.com/azsim/azsim/world"
)

// assignIdentity plays an identity controller assigning an identity to a
// VMSS with the ARM permissions of By (protocols.md 4.3, 5.1): Managed
// Identity Operator covering the identity and Virtual Machine Contributor
// covering the VMSS, else ARM's AuthorizationFailed.
func (r *runner) assignIdentity(a *AssignIdentityStep) ([]flow.Hop, error) {
	ix := r.sim.Store.Snapshot()
	np, ok := ix.NodePool(a.NodePool)
	if !ok {
		return nil, fmt.Errorf("unknown node pool %q", a.NodePool)
	}
	id, ok1 := ix.PrincipalByName(a.Identity)
	by, ok2 := ix.PrincipalByName(a.By)
	if !ok1 || !ok2 || id.Kind != world.KindUserAssigned {
		return nil, fmt.Errorf("identity %q must be a user-assigned identity and by %q a principal of the world", a.Identity, a.By)
	}
	now := r.clock.Now()
	for _, need := range []struct{ role, scope, action string }{
		{"Managed Identity Operator", id.ResourceID, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"},
		{"Virtual Machine Contributor", np.VMSSResourceID, "Microsoft.Compute/virtualMachineScaleSets/write"},
	} {
		if !holds(ix, by, need.role, need.scope, now) {
			msg := fmt.Sprintf(`{"error":{"code":"AuthorizationFailed","message":"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials."}}`,
				by.ClientID, by.ObjectID, need.action, need.scope)
			r.sim.Trace.Record(trace.Decision{Time: now, Service: "arm", Method: http.MethodPut, Path: np.VMSSResourceID,
				Principal: by.Name, PrincipalID: by.ObjectID, Outcome: trace.Deny, Status: http.StatusForbidden, Error: "AuthorizationFailed",
				Hint: fmt.Sprintf("%s needs %s on %s to assign identity %s to VMSS %s (AAD Pod Identity's MIC runs as the kubelet identity); grant Managed Identity Operator and Virtual Machine Contributor on node resource group %s", by.Name, need.role, need.scope, id.Name, np.VMSS, np.ResourceGroup)})
			return []flow.Hop{{Name: "arm", Status: http.StatusForbidden, Detail: msg}}, nil
		}
	}
	cl, pool := np.Cluster.Name, np.Name
	_, err := r.sim.Store.Update(func(w *world.World) error {
		for i := range w.Clusters {
			for j := range w.Clusters[i].NodePools {
				p := &w.Clusters[i].NodePools[j]
				if strings.EqualFold(w.Clusters[i].Name, cl) && strings.EqualFold(p.Name, pool) && !slices.Contains(p.Identities, id.Name) {
					p.Identities = append(p.Identities, id.Name)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return []flow.Hop{{Name: "arm", OK: true, Status: http.StatusOK, Detail: fmt.Sprintf("assigned %s to VMSS %s", id.Name, np.VMSS)}}, nil
}

func holds(ix *world.Index, p *world.Principal, role, resource string, now time.Time) bool {
	res := strings.ToLower(resource)
	for _, a := range ix.Assignments {
		if a.PrincipalID == p.ObjectID && strings.EqualFold(a.Role.Name, role) && !now.Before(a.EffectiveAt) &&
			(res == a.Scope || strings.HasPrefix(res, a.Scope+"/")) {
			return true
		}
	}
	return false
}

// azidentity gets a token with an unmodified azidentity credential, with
// short retry delays so injected faults are retried quickly.
func (r *runner) azidentity(ctx context.Context, a *AzidentityStep) ([]flow.Hop, error) {
	tr, err := r.sim.TransportForPool(a.NodePool)
	if err != nil {
		return nil, err
	}
	opts := azcore.ClientOptions{Transport: &http.Client{Transport: tr},
		Retry: policy.RetryOptions{MaxRetries: 4, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond}}
	var cred azcore.TokenCredential
	switch a.Credential {
	case "ManagedIdentity":
		var id azidentity.ManagedIDKind
		if a.Identity != "" {
			p, ok := r.sim.Store.Snapshot().PrincipalByName(a.Identity)
			if !ok {
				return nil, fmt.Errorf("unknown identity %q", a.Identity)
			}
			id = azidentity.ClientID(p.ClientID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: id, ClientOptions: opts})
	case "ClientAssertion":
		p, assertion, ferr := r.federated(a.ServiceAccount, "", a.Identity, "", "")
		if ferr != nil {
			return nil, ferr
		}
		cred, err = azidentity.NewClientAssertionCredential(p.TenantID, p.ClientID,
			func(context.Context) (string, error) { return assertion, nil },
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	default:
		return nil, fmt.Errorf("credential %q: want ManagedIdentity or ClientAssertion", a.Credential)
	}
	if err != nil {
		return nil, err
	}
	scope := a.Scope
	if scope == "" {
		scope = flow.ACRResource + "/.default"
	}
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}}); err != nil {
		return []flow.Hop{{Name: "azidentity", Detail: err.Error()}}, nil
	}
	return []flow.Hop{{Name: "azidentity", OK: true, Status: http.StatusOK, Detail: a.Credential + " token for " + scope}}, nil
}
