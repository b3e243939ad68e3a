package fakeimds

import (
	"errors"
	"fmt"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/world"
)

// Hints explain a refused identity selection from what the selection
// weighed: the scale set's identities, the selector, and the snapshot the
// request was served from (protocols.md 2.3).

// vmssIdentities records each identity of the scale set and whether the
// selection rule picked it (chosen, nil when none; protocols.md 2.3).
func vmssIdentities(np *world.NodePoolInfo, sel selector, chosen *world.Principal) []api.Considered {
	var out []api.Considered
	add := func(p *world.Principal, kind string) {
		k := api.Considered{Kind: api.ConsideredIdentity, Name: p.Name + " (" + kind + ", client_id " + p.ClientID + ")", Applies: p == chosen}
		switch {
		case k.Applies && sel.Name == "":
			k.Why = "chosen: the request names no identity and this is the " + defaultRule(np)
		case k.Applies:
			k.Why = "chosen: " + sel.Name + " names it"
		case sel.Name == "" && len(np.UserAssigned) > 1 && np.SystemIdentity == nil:
			k.Why = "not chosen: several user-assigned identities and the request names none"
		case sel.Name == "":
			k.Why = "not chosen: the request names no identity, so the " + defaultRule(np) + " is used"
		default:
			k.Why = "not chosen: " + sel.Name + " does not name it"
		}
		out = append(out, k)
	}
	if np.SystemIdentity != nil {
		add(np.SystemIdentity, "system-assigned")
	}
	for _, p := range np.UserAssigned {
		add(p, "user-assigned")
	}
	return out
}

// defaultRule names the identity IMDS uses when a request names none.
func defaultRule(np *world.NodePoolInfo) string {
	if np.SystemIdentity != nil {
		return "system-assigned identity"
	}
	return "only user-assigned identity"
}

// explainSelection attaches a hint to a selection refusal.
func explainSelection(ix *world.Index, np *world.NodePoolInfo, sel selector, err error) error {
	var ae *apiError
	if !errors.As(err, &ae) {
		return err
	}
	switch {
	case len(np.UserAssigned) > 1 && sel.Name == "" && np.SystemIdentity == nil:
		names := make([]string, 0, len(np.UserAssigned))
		for _, p := range np.UserAssigned {
			names = append(names, fmt.Sprintf("%s (client_id %s)", p.Name, p.ClientID))
		}
		ae.hint = &api.Hint{Pitfall: "several-identities-no-selector", Scope: np.VMSS,
			Fix: "pass client_id (AZURE_CLIENT_ID / userAssignedIdentityID) or msi_res_id",
			Text: fmt.Sprintf("VMSS %s has %d user-assigned identities and the request named none: %s; pass the identity's client_id (AZURE_CLIENT_ID / userAssignedIdentityID) or msi_res_id",
				np.VMSS, len(np.UserAssigned), strings.Join(names, ", "))}
	case sel.Name == "":
		ae.hint = &api.Hint{Pitfall: "vmss-without-identity", Scope: np.VMSS, Fix: "az vmss identity assign",
			Text: fmt.Sprintf("VMSS %s has no managed identity; assign one (az vmss identity assign)", np.VMSS)}
	default:
		ae.hint = notAssignedHint(ix, np, sel)
	}
	return ae
}

// notAssignedHint explains a selector naming an identity the scale set
// lacks; a controller that would assign it (AAD Pod Identity's MIC runs as
// the kubelet identity) needs two roles on the node resource group.
func notAssignedHint(ix *world.Index, np *world.NodePoolInfo, sel selector) *api.Hint {
	p, ok := ix.PrincipalByClientID(sel.Value)
	if !ok {
		p, ok = ix.PrincipalByObjectID(sel.Value)
	}
	if !ok {
		p, ok = ix.PrincipalByResourceID(sel.Value)
	}
	label := sel.Name + "=" + sel.Value
	if !ok {
		return &api.Hint{Pitfall: "unknown-identity", Scope: np.VMSS, Fix: "check the client ID",
			Text: fmt.Sprintf("no identity of the world has %s; check the client ID", label)}
	}
	fix := "az vmss identity assign --identities " + p.ResourceID
	text := fmt.Sprintf("identity %s is not assigned to VMSS %s (node pool %s/%s); assign it (%s)", p.Name, np.VMSS, np.Cluster.Name, np.Name, fix)
	if k := np.Cluster.Kubelet; k != nil && !holdsMICRoles(ix, k, np) {
		text += fmt.Sprintf("; a controller that assigns it as the kubelet identity (AAD Pod Identity) needs Managed Identity Operator and Virtual Machine Contributor on node resource group %s for %s", np.ResourceGroup, k.Name)
	}
	return &api.Hint{Pitfall: "identity-not-on-vmss", Principal: p.Name, Scope: np.VMSS, Fix: fix, Text: text}
}

// holdsMICRoles reports whether p holds both roles AAD Pod Identity's MIC
// needs on the node resource group (clients.md 4.2).
func holdsMICRoles(ix *world.Index, p *world.Principal, np *world.NodePoolInfo) bool {
	rg := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s", np.SubscriptionID, np.ResourceGroup)
	need := map[string]bool{"Managed Identity Operator": false, "Virtual Machine Contributor": false}
	for _, a := range ix.Assignments {
		if a.PrincipalID == p.ObjectID && world.InScope(rg, a.Scope) {
			if _, ok := need[a.Role.Name]; ok {
				need[a.Role.Name] = true
			}
		}
	}
	return need["Managed Identity Operator"] && need["Virtual Machine Contributor"]
}
