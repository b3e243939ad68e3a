package diagnose

import (
	"fmt"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/world"
)

func imds(ix *world.Index, d api.Decision) string {
	np, ok := ix.NodePool(d.Facts["pool"])
	if !ok {
		return ""
	}
	switch {
	case strings.HasPrefix(d.Error, "Multiple user assigned identities exist"):
		names := make([]string, 0, len(np.UserAssigned))
		for _, p := range np.UserAssigned {
			names = append(names, fmt.Sprintf("%s (client_id %s)", p.Name, p.ClientID))
		}
		return fmt.Sprintf("VMSS %s has %d user-assigned identities and the request named none: %s; pass the identity's client_id (AZURE_CLIENT_ID / userAssignedIdentityID) or msi_res_id", np.VMSS, len(np.UserAssigned), strings.Join(names, ", "))
	case d.Error == "Identity not found":
		sel := d.Facts["selector"]
		if sel == "" {
			return fmt.Sprintf("VMSS %s has no managed identity; assign one (az vmss identity assign)", np.VMSS)
		}
		return notAssigned(ix, np, sel)
	case strings.HasPrefix(d.Error, "Required metadata header"):
		return "IMDS requires the header 'Metadata: true' (an SSRF guard)"
	}
	return ""
}

// notAssigned explains a selector that names an identity the VMSS lacks.
func notAssigned(ix *world.Index, np *world.NodePoolInfo, sel string) string {
	_, value, _ := strings.Cut(sel, "=")
	p, ok := ix.PrincipalByClientID(value)
	if !ok {
		p, ok = ix.PrincipalByObjectID(value)
	}
	if !ok {
		p, ok = ix.PrincipalByResourceID(value)
	}
	if !ok {
		return fmt.Sprintf("no identity of the world has %s; check the client ID", sel)
	}
	hint := fmt.Sprintf("identity %s is not assigned to VMSS %s (node pool %s/%s); assign it (az vmss identity assign --identities %s)", p.Name, np.VMSS, np.Cluster.Name, np.Name, p.ResourceID)
	if k := np.Cluster.Kubelet; k != nil && !hasRoleOn(ix, k, np) {
		hint += fmt.Sprintf("; a controller that assigns it as the kubelet identity (AAD Pod Identity) needs Managed Identity Operator and Virtual Machine Contributor on node resource group %s for %s", np.ResourceGroup, k.Name)
	}
	return hint
}

func hasRoleOn(ix *world.Index, p *world.Principal, np *world.NodePoolInfo) bool {
	rg := strings.ToLower(fmt.Sprintf("/subscriptions/%s/resourceGroups/%s", np.SubscriptionID, np.ResourceGroup))
	need := map[string]bool{"Managed Identity Operator": false, "Virtual Machine Contributor": false}
	for _, a := range ix.Assignments {
		if a.PrincipalID == p.ObjectID && (rg == a.Scope || strings.HasPrefix(rg, a.Scope+"/")) {
			if _, ok := need[a.Role.Name]; ok {
				need[a.Role.Name] = true
			}
		}
	}
	return need["Managed Identity Operator"] && need["Virtual Machine Contributor"]
}
