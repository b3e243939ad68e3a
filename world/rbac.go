package world

import (
	"slices"
	"strings"
	"time"
)

// dataActions maps a token action to the ABAC data action it needs
// (protocols.md 4.1, inferred mapping).
var dataActions = map[string][]string{
	ActionPull:          {"Microsoft.ContainerRegistry/registries/repositories/content/read"},
	ActionMetadataRead:  {"Microsoft.ContainerRegistry/registries/repositories/metadata/read"},
	ActionPush:          {"Microsoft.ContainerRegistry/registries/repositories/content/write"},
	ActionMetadataWrite: {"Microsoft.ContainerRegistry/registries/repositories/metadata/write"},
	ActionDelete: {"Microsoft.ContainerRegistry/registries/repositories/content/delete",
		"Microsoft.ContainerRegistry/registries/repositories/metadata/delete"},
}

// Grant explains why an action is or is not allowed.
type Grant struct {
	Allowed []string
	// Considered lists the assignments of the principal that were looked at
	// and why each did or did not apply, for diagnosis.
	Considered []string
}

// inScope reports whether resource lies at or below scope (both lower-case).
func inScope(resource, scope string) bool {
	return scope != "" && (resource == scope || strings.HasPrefix(resource, scope+"/"))
}

// RepositoryActions returns the token actions (pull, push, delete,
// metadata_read, metadata_write) that principalID holds on repo of reg at
// time now, following scope inheritance, the registry's role-assignment mode
// and ABAC repository conditions (protocols.md 4.1, 4.2).
func (ix *Index) RepositoryActions(principalID string, reg *RegistryInfo, repo string, now time.Time) Grant {
	var g Grant
	regID := lower(reg.ResourceID)
	for _, a := range ix.Assignments {
		if a.PrincipalID != lower(principalID) {
			continue
		}
		why := a.Role.Name + " at " + a.Scope
		switch {
		case !inScope(regID, a.Scope):
			g.Considered = append(g.Considered, why+": scope does not contain registry "+reg.Name)
			continue
		case now.Before(a.EffectiveAt):
			g.Considered = append(g.Considered, why+": not yet effective (propagation delay until "+a.EffectiveAt.UTC().Format(time.RFC3339)+")")
			continue
		}
		actions := a.Role.Legacy
		if reg.ABAC() {
			actions = a.Role.ABAC
		}
		if len(actions) == 0 {
			g.Considered = append(g.Considered, why+": grants no data-plane access in "+reg.RoleAssignmentMode+" mode")
			continue
		}
		for _, act := range actions {
			if reg.ABAC() && a.Condition != "" && !conditionAllows(a.Condition, act, repo) {
				continue
			}
			if !slices.Contains(g.Allowed, act) {
				g.Allowed = append(g.Allowed, act)
			}
		}
		g.Considered = append(g.Considered, why+": applies")
	}
	slices.Sort(g.Allowed)
	return g
}

// CatalogAllowed reports whether principalID may list the registry catalog.
func (ix *Index) CatalogAllowed(principalID string, reg *RegistryInfo, now time.Time) bool {
	regID := lower(reg.ResourceID)
	for _, a := range ix.Assignments {
		if a.PrincipalID != lower(principalID) || !inScope(regID, a.Scope) || now.Before(a.EffectiveAt) {
			continue
		}
		if reg.ABAC() && a.Role.CatalogABAC || !reg.ABAC() && a.Role.CatalogLegacy {
			return true
		}
	}
	return false
}

func conditionAllows(cond, action, repo string) bool {
	expr, err := parseCondition(cond)
	if err != nil {
		return false
	}
	for _, da := range dataActions[action] {
		if !expr.eval(da, repo) {
			return false
		}
	}
	return true
}
