package diagnose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/world"
)

// ACR decision facts the fake ACR records.
const (
	FactRegistry    = "registry"    // login server
	FactRepository  = "repository"  // repository asked for
	FactActions     = "actions"     // actions asked for, comma-separated
	FactGranted     = "granted"     // actions granted, comma-separated
	FactTokenScopes = "tokenScopes" // scopes the presented access token carries
)

func acr(ix *world.Index, d api.Decision, clock world.Clock) string {
	reg, ok := ix.Registry(d.Facts[FactRegistry])
	if !ok {
		return ""
	}
	if strings.Contains(d.Error, "arm aad token disallowed") || strings.Contains(d.Reason, "arm aad token disallowed") {
		return fmt.Sprintf("registry %s has authentication-as-ARM disabled: it accepts only Entra tokens for https://containerregistry.azure.net; request that scope (https://containerregistry.azure.net/.default) instead of ARM", reg.Name)
	}
	repo := d.Facts[FactRepository]
	if ts := d.Facts[FactTokenScopes]; ts != "" && repo != "" && !strings.Contains(ts, "repository:"+repo+":") {
		return fmt.Sprintf("repository scope mismatch: the access token grants %s but the request is for repository %q; request a token with scope repository:%s:pull", ts, repo, repo)
	}
	p, ok := ix.PrincipalByObjectID(d.PrincipalID)
	if !ok || repo == "" {
		return ""
	}
	want := d.Facts[FactActions]
	if want == "" {
		want = world.ActionPull
	}
	g := ix.RepositoryActions(p.ObjectID, reg, repo, clock.Now())
	for _, a := range strings.Split(want, ",") {
		if !slices.Contains(g.Allowed, a) {
			return denied(ix, p, reg, repo, a, g)
		}
	}
	return ""
}

// denied explains why p lacks action on repo of reg.
func denied(ix *world.Index, p *world.Principal, reg *world.RegistryInfo, repo, action string, g world.Grant) string {
	if h := clusterIdentityPitfall(ix, p, reg); h != "" {
		return h
	}
	var why []string
	for _, a := range ix.Assignments {
		if a.PrincipalID != p.ObjectID {
			continue
		}
		switch {
		case !inScope(strings.ToLower(reg.ResourceID), a.Scope):
			why = append(why, fmt.Sprintf("%s is assigned at %s, which does not contain registry %s", a.Role.Name, a.Scope, reg.Name))
		case reg.ABAC() && len(a.Role.ABAC) == 0:
			why = append(why, fmt.Sprintf("registry %s uses ABAC repository permissions, where %s grants no data access; assign Container Registry Repository Reader (or Writer) instead", reg.Name, a.Role.Name))
		case reg.ABAC() && a.Condition != "":
			why = append(why, fmt.Sprintf("the condition on %s does not allow repository %q", a.Role.Name, repo))
		}
	}
	for _, c := range g.Considered {
		if strings.Contains(c, "not yet effective") {
			why = append(why, "role assignment propagation: "+c+"; retry after it takes effect")
		}
	}
	fix := fmt.Sprintf("az role assignment create --assignee %s --role %s --scope %s", p.ClientID, roleFor(reg, action), reg.ResourceID)
	if len(why) == 0 {
		return fmt.Sprintf("%s has no role that grants %s on %s/%s; %s", p.Name, action, reg.Name, repo, fix)
	}
	return fmt.Sprintf("%s cannot %s %s/%s: %s; fix: %s", p.Name, action, reg.Name, repo, strings.Join(why, "; "), fix)
}

func roleFor(reg *world.RegistryInfo, action string) string {
	push := action == world.ActionPush || action == world.ActionMetadataWrite
	switch {
	case reg.ABAC() && push:
		return "'Container Registry Repository Writer'"
	case reg.ABAC():
		return "'Container Registry Repository Reader'"
	case push:
		return "AcrPush"
	case action == world.ActionDelete:
		return "AcrDelete"
	}
	return "AcrPull"
}

// clusterIdentityPitfall: AcrPull given to the cluster's own identity while
// the kubelet identity pulls (the classic attach-acr mix-up).
func clusterIdentityPitfall(ix *world.Index, p *world.Principal, reg *world.RegistryInfo) string {
	for _, c := range ix.Clusters {
		if c.Kubelet == nil || c.Kubelet.ObjectID != p.ObjectID || c.ControlPlane == nil {
			continue
		}
		for _, a := range ix.Assignments {
			if a.PrincipalID == c.ControlPlane.ObjectID && inScope(strings.ToLower(reg.ResourceID), a.Scope) && grantsData(reg, a.Role) {
				kind := "system-assigned"
				if c.ControlPlane.Kind == world.KindUserAssigned {
					kind = "user-assigned"
				}
				return fmt.Sprintf("%s is assigned to the cluster's %s identity '%s' but the pull used the kubelet identity '%s'; assign %s on %s to the kubelet identity (az aks update --attach-acr %s)", a.Role.Name, kind, c.ControlPlane.Name, p.Name, a.Role.Name, reg.Name, reg.Name)
			}
		}
	}
	return ""
}

// grantsData reports whether role grants data-plane access on reg in its
// role-assignment mode (AcrPull grants none in an ABAC registry).
func grantsData(reg *world.RegistryInfo, role world.Role) bool {
	if reg.ABAC() {
		return len(role.ABAC) > 0
	}
	return len(role.Legacy) > 0
}

func inScope(resource, scope string) bool {
	return scope != "" && (resource == scope || strings.HasPrefix(resource, scope+"/"))
}
