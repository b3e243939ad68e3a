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

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/world"
)

// IdentityAssignment is what ARM answers when principal By assigns an
// identity to a node pool's VMSS (PlanIdentityAssignment).
type IdentityAssignment struct {
	Hop flow.Hop
	// Denied is the ARM decision when By lacks a role (Update is nil then).
	Denied *api.Decision
	// Update adds the identity to the pool's VMSS.
	Update func(*world.World) error
}

// PlanIdentityAssignment plays an identity controller assigning an
// identity to a VMSS with the ARM permissions of a.By (protocols.md 4.3,
// 5.1): Managed Identity Operator covering the identity and Virtual Machine
// Contributor covering the VMSS, else ARM's AuthorizationFailed.
func PlanIdentityAssignment(ix *world.Index, a *AssignIdentityStep, now time.Time) (*IdentityAssignment, error) {
	np, ok := ix.NodePool(a.NodePool)
	if !ok {
		return nil, fmt.Errorf("unknown node pool %q", a.NodePool)
	}
	id, ok1 := ix.PrincipalByName(a.Identity)
	by, ok2 := ix.PrincipalByName(a.By)
	if !ok1 || !ok2 || id.Kind != world.KindUserAssigned {
		return nil, fmt.Errorf("identity %q must be a user-assigned identity and by %q a principal of the world", a.Identity, a.By)
	}
	for _, need := range []struct{ role, scope, action string }{
		{"Managed Identity Operator", id.ResourceID, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"},
		{"Virtual Machine Contributor", np.VMSSResourceID, "Microsoft.Compute/virtualMachineScaleSets/write"},
	} {
		if !holds(ix, by, need.role, need.scope, now) {
			msg := fmt.Sprintf(`{"error":{"code":"AuthorizationFailed","message":"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials."}}`,
				by.ClientID, by.ObjectID, need.action, need.scope)
			d := &api.Decision{Time: now, Service: api.ServiceARM, Method: http.MethodPut, Path: np.VMSSResourceID,
				Principal: by.Name, PrincipalID: by.ObjectID, Outcome: api.OutcomeDeny, Status: http.StatusForbidden, Error: "AuthorizationFailed",
				Hint: &api.Hint{Pitfall: "aad-pod-identity-roles", Principal: by.Name, Scope: need.scope,
					Text: fmt.Sprintf("%s needs %s on %s to assign identity %s to VMSS %s (AAD Pod Identity's MIC runs as the kubelet identity); grant Managed Identity Operator and Virtual Machine Contributor on node resource group %s", by.Name, need.role, need.scope, id.Name, np.VMSS, np.ResourceGroup)}}
			return &IdentityAssignment{Hop: flow.Hop{Name: "arm", Status: http.StatusForbidden, Detail: msg}, Denied: d}, nil
		}
	}
	cl, pool, name := np.Cluster.Name, np.Name, id.Name
	update := func(w *world.World) error {
		for i := range w.Clusters {
			for j := range w.Clusters[i].NodePools {
				p := &w.Clusters[i].NodePools[j]
				if strings.EqualFold(w.Clusters[i].Name, cl) && strings.EqualFold(p.Name, pool) && !slices.Contains(p.Identities, name) {
					p.Identities = append(p.Identities, name)
				}
			}
		}
		return nil
	}
	hop := flow.Hop{Name: "arm", OK: true, Status: http.StatusOK, Detail: fmt.Sprintf("assigned %s to VMSS %s", id.Name, np.VMSS)}
	return &IdentityAssignment{Hop: hop, Update: update}, nil
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

// AzidentityRequest describes an azidentity credential and its token
// request: ManagedIdentity (ClientID selects the identity, empty for the
// only one) or ClientAssertion (TenantID, ClientID, Assertion).
type AzidentityRequest struct {
	Credential         string
	TenantID, ClientID string
	Assertion          func(context.Context) (string, error)
	Scope              string
	// Transport carries every request (nil: the default).
	Transport policy.Transporter
}

// AzidentityToken gets a token with an unmodified azidentity credential,
// with short retry delays so injected faults are retried quickly.
func AzidentityToken(ctx context.Context, a AzidentityRequest) flow.Hop {
	opts := azcore.ClientOptions{Transport: a.Transport,
		Retry: policy.RetryOptions{MaxRetries: 4, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond}}
	var cred azcore.TokenCredential
	var err error
	switch a.Credential {
	case "ManagedIdentity":
		var id azidentity.ManagedIDKind
		if a.ClientID != "" {
			id = azidentity.ClientID(a.ClientID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: id, ClientOptions: opts})
	case "ClientAssertion":
		cred, err = azidentity.NewClientAssertionCredential(a.TenantID, a.ClientID, a.Assertion,
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	default:
		err = fmt.Errorf("credential %q: want ManagedIdentity or ClientAssertion", a.Credential)
	}
	if err != nil {
		return flow.Hop{Name: "azidentity", Detail: err.Error()}
	}
	scope := a.Scope
	if scope == "" {
		scope = flow.ACRResource + "/.default"
	}
	if _, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}}); err != nil {
		return flow.Hop{Name: "azidentity", Detail: err.Error()}
	}
	return flow.Hop{Name: "azidentity", OK: true, Status: http.StatusOK, Detail: a.Credential + " token for " + scope}
}
