package world

import (
	"slices"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
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

// CheckResult is what one role assignment did for a data-plane request.
type CheckResult string

// The results of checking one assignment (protocols.md 4.1, 4.2, 4.3).
const (
	// CheckApplies: the assignment grants the actions in Check.Granted.
	CheckApplies CheckResult = "applies"
	// CheckOutOfScope: its scope does not contain the registry.
	CheckOutOfScope CheckResult = "outOfScope"
	// CheckNotYetEffective: it has not propagated yet.
	CheckNotYetEffective CheckResult = "notYetEffective"
	// CheckNoDataAccess: its role grants no data access in the registry's
	// role-assignment mode (AcrPull in an ABAC registry).
	CheckNoDataAccess CheckResult = "noDataAccess"
	// CheckConditionExcludes: its ABAC condition excludes the repository
	// for every action the role has.
	CheckConditionExcludes CheckResult = "conditionExcludes"
)

// Check is one role assignment of the principal as RepositoryActions
// weighed it.
type Check struct {
	Role        Role
	Scope       string
	Condition   string
	EffectiveAt time.Time
	Result      CheckResult
	// Granted are the token actions it grants on the repository.
	Granted []string
}

// Considered renders the check for a decision.
func (c Check) Considered(reg *RegistryInfo) api.Considered {
	out := api.Considered{Kind: api.ConsideredRoleAssignment, Name: c.Role.Name + " at " + c.Scope,
		Applies: c.Result == CheckApplies}
	switch c.Result {
	case CheckOutOfScope:
		out.Why = "scope does not contain registry " + reg.Name
	case CheckNotYetEffective:
		out.Why = "not yet effective (propagation delay until " + c.EffectiveAt.UTC().Format(time.RFC3339) + ")"
	case CheckNoDataAccess:
		out.Why = "grants no data-plane access in " + reg.RoleAssignmentMode + " mode"
	case CheckConditionExcludes:
		out.Why = "its condition excludes the repository"
	}
	return out
}

// Grant is what a principal holds on one repository, and why.
type Grant struct {
	Allowed []string
	// Checks lists every role assignment of the principal that was weighed,
	// in the world's order.
	Checks []Check
}

// Considered lists the checks as "Role at scope: why" lines.
func (g Grant) Considered(reg *RegistryInfo) []string {
	out := make([]string, 0, len(g.Checks))
	for _, c := range g.Checks {
		k := c.Considered(reg)
		why := k.Why
		if k.Applies {
			why = "applies"
		}
		out = append(out, k.Name+": "+why)
	}
	return out
}

// inScope reports whether resource lies at or below scope (both lower-case).
func inScope(resource, scope string) bool {
	return scope != "" && (resource == scope || strings.HasPrefix(resource, scope+"/"))
}

// InScope reports whether resource ID lies at or below scope (ARM IDs
// compare case-insensitively, protocols.md 4.4).
func InScope(resource, scope string) bool { return inScope(lower(resource), lower(scope)) }

// RepositoryActions returns the token actions (pull, push, delete,
// metadata_read, metadata_write) that principalID holds on repo of reg at
// time now, following scope inheritance, the registry's role-assignment mode
// and ABAC repository conditions (protocols.md 4.1, 4.2).
func (ix *Index) RepositoryActions(principalID string, reg *RegistryInfo, repo string, now time.Time) Grant {
	var g Grant
	for _, a := range ix.Assignments {
		if a.PrincipalID != lower(principalID) {
			continue
		}
		c := a.check(reg, repo, now)
		for _, act := range c.Granted {
			if !slices.Contains(g.Allowed, act) {
				g.Allowed = append(g.Allowed, act)
			}
		}
		g.Checks = append(g.Checks, c)
	}
	slices.Sort(g.Allowed)
	return g
}

// check weighs one assignment for repo of reg at now.
func (a *Assignment) check(reg *RegistryInfo, repo string, now time.Time) Check {
	c := Check{Role: a.Role, Scope: a.Scope, Condition: a.Condition, EffectiveAt: a.EffectiveAt}
	actions := a.Role.Legacy
	if reg.ABAC() {
		actions = a.Role.ABAC
	}
	switch {
	case !inScope(lower(reg.ResourceID), a.Scope):
		c.Result = CheckOutOfScope
		return c
	case now.Before(a.EffectiveAt):
		c.Result = CheckNotYetEffective
		return c
	case len(actions) == 0:
		c.Result = CheckNoDataAccess
		return c
	}
	for _, act := range actions {
		if reg.ABAC() && a.Condition != "" && !a.conditionAllows(act, repo) {
			continue
		}
		c.Granted = append(c.Granted, act)
	}
	c.Result = CheckApplies
	if len(c.Granted) == 0 {
		c.Result = CheckConditionExcludes
	}
	return c
}

// GrantsDataAccess reports whether role grants data-plane access in reg's
// role-assignment mode (AcrPull grants none in an ABAC registry).
func GrantsDataAccess(reg *RegistryInfo, role Role) bool {
	if reg.ABAC() {
		return len(role.ABAC) > 0
	}
	return len(role.Legacy) > 0
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

func (a *Assignment) conditionAllows(action, repo string) bool {
	if a.condition == nil {
		return false // a condition that did not compile allows nothing
	}
	for _, da := range dataActions[action] {
		if !a.condition.eval(da, repo) {
			return false
		}
	}
	return true
}
