package fakeacr

import (
	"fmt"
	"slices"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
	"github.com/azsim/azsim/world"
)

// Hints explain a refusal from what the refusing request weighed: the role
// assignments checked on the same world snapshot, the audience of the token
// presented, the scopes of an access token. Nothing is looked up again
// after the answer (docs/DESIGN.md "Trace and diagnosis").

// rbacHint explains why s holds no action on repo: the cluster-identity
// mix-up first (AcrPull given to the cluster's own identity while its
// kubelet identity pulls, protocols.md 5.1), then each of s's assignments.
func rbacHint(rc *reqCtx, s subject, repo, action string, g world.Grant) *api.Hint {
	if s.kind != subjectPrincipal {
		return nil
	}
	p := s.principal
	if h := clusterIdentityHint(rc, p, repo); h != nil {
		return h
	}
	fix := fmt.Sprintf("az role assignment create --assignee %s --role %s --scope %s", p.ClientID, roleFor(rc.reg, action), rc.reg.ResourceID)
	pitfall, why := "missing-role", checkReasons(rc.reg, repo, action, g)
	if len(why) == 0 {
		return &api.Hint{Pitfall: pitfall, Principal: p.Name, Scope: rc.reg.ResourceID, Fix: fix,
			Text: fmt.Sprintf("%s has no role that grants %s on %s/%s; %s", p.Name, action, rc.reg.Name, repo, fix)}
	}
	return &api.Hint{Pitfall: why[0].pitfall, Principal: p.Name, Scope: rc.reg.ResourceID, Fix: fix,
		Text: fmt.Sprintf("%s cannot %s %s/%s: %s; fix: %s", p.Name, action, rc.reg.Name, repo, joinReasons(why), fix)}
}

type reason struct{ pitfall, text string }

func joinReasons(rs []reason) string {
	texts := make([]string, len(rs))
	for i, r := range rs {
		texts[i] = r.text
	}
	return strings.Join(texts, "; ")
}

// checkReasons says, for each assignment weighed, why it did not grant
// action on repo (protocols.md 4.1–4.3).
func checkReasons(reg *world.RegistryInfo, repo, action string, g world.Grant) []reason {
	var out, late []reason
	for _, c := range g.Checks {
		switch {
		case c.Result == world.CheckOutOfScope:
			out = append(out, reason{"role-on-wrong-scope", fmt.Sprintf("%s is assigned at %s, which does not contain registry %s", c.Role.Name, c.Scope, reg.Name)})
		case c.Result == world.CheckNoDataAccess && reg.ABAC():
			out = append(out, reason{"abac-registry", fmt.Sprintf("registry %s uses ABAC repository permissions, where %s grants no data access; assign Container Registry Repository Reader (or Writer) instead", reg.Name, c.Role.Name)})
		case reg.ABAC() && c.Condition != "" && !slices.Contains(c.Granted, action) && c.Result != world.CheckNotYetEffective:
			out = append(out, reason{"abac-registry", fmt.Sprintf("the condition on %s does not allow repository %q", c.Role.Name, repo)})
		case c.Result == world.CheckNotYetEffective:
			line := c.Considered(reg)
			late = append(late, reason{"role-propagation-delay", "role assignment propagation: " + line.Name + ": " + line.Why + "; retry after it takes effect"})
		}
	}
	return append(out, late...)
}

// clusterIdentityHint finds the cluster whose kubelet identity p is and
// reports when its cluster identity holds the data role instead.
func clusterIdentityHint(rc *reqCtx, p *world.Principal, repo string) *api.Hint {
	for _, c := range rc.ix.Clusters {
		if c.Kubelet == nil || c.Kubelet.ObjectID != p.ObjectID || c.ControlPlane == nil {
			continue
		}
		cg := rc.ix.RepositoryActions(c.ControlPlane.ObjectID, rc.reg, repo, rc.now)
		for _, ch := range cg.Checks {
			if ch.Result == world.CheckOutOfScope || !world.GrantsDataAccess(rc.reg, ch.Role) {
				continue
			}
			kind := "system-assigned"
			if c.ControlPlane.Kind == world.KindUserAssigned {
				kind = "user-assigned"
			}
			trace.Annotate(rc.r, func(d *api.Decision) {
				d.Considered = append(d.Considered, api.Considered{Kind: api.ConsideredRoleAssignment,
					Name: ch.Role.Name + " at " + ch.Scope + " (cluster identity " + c.ControlPlane.Name + ")",
					Why:  "assigned to the cluster's identity, not to the kubelet identity that pulls"})
			})
			fix := "az aks update --attach-acr " + rc.reg.Name
			return &api.Hint{Pitfall: "acrpull-on-cluster-identity", Principal: p.Name, Scope: rc.reg.ResourceID, Fix: fix,
				Text: fmt.Sprintf("%s is assigned to the cluster's %s identity '%s' but the pull used the kubelet identity '%s'; assign %s on %s to the kubelet identity (%s)",
					ch.Role.Name, kind, c.ControlPlane.Name, p.Name, ch.Role.Name, rc.reg.Name, fix)}
		}
	}
	return nil
}

// roleFor names the built-in role that grants action in reg's mode.
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

// armDisallowedHint explains an ARM-audience Entra token refused by a
// registry with authentication-as-ARM disabled (protocols.md 3.2).
func armDisallowedHint(reg *world.RegistryInfo) *api.Hint {
	return &api.Hint{Pitfall: "authentication-as-arm-disabled", Scope: reg.ResourceID,
		Fix:  "request https://containerregistry.azure.net/.default",
		Text: fmt.Sprintf("registry %s has authentication-as-ARM disabled: it accepts only Entra tokens for https://containerregistry.azure.net; request that scope (https://containerregistry.azure.net/.default) instead of ARM", reg.Name)}
}

// scopeMismatchHint explains an access token that names no action on the
// repository asked for: a token scoped to another repository. When the
// token names the repository but lacks the action, the token request that
// minted it recorded the reason, and the flow carries it (nil here).
func scopeMismatchHint(access []Access, nd *need) *api.Hint {
	if nd == nil || nd.typ != typeRepository {
		return nil
	}
	for _, e := range access {
		if e.Type == nd.typ && e.Name == nd.name {
			return nil
		}
	}
	ts := scopesOf(access)
	return &api.Hint{Pitfall: "repository-scope-mismatch", Scope: typeRepository + ":" + nd.name,
		Fix: "request a token with scope repository:" + nd.name + ":pull",
		Text: fmt.Sprintf("repository scope mismatch: the access token grants %s but the request is for repository %q; request a token with scope repository:%s:pull",
			ts, nd.name, nd.name)}
}
