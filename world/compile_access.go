package world

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/azsim/azsim/internal/platform/ids"
)

// MaxFederatedCredentials is the per-identity limit (protocols.md 1.8).
const MaxFederatedCredentials = 20

var ficNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$`)

func (c *compiler) federatedCredentials() {
	for i := range c.w.Identities {
		path := fmt.Sprintf("identities[%d]", i)
		c.fics(path, c.w.Identities[i].Name, KindUserAssigned, c.w.Identities[i].FederatedCredentials)
	}
	for i := range c.w.Applications {
		path := fmt.Sprintf("applications[%d]", i)
		c.fics(path, c.w.Applications[i].Name, KindApplication, c.w.Applications[i].FederatedCredentials)
	}
}

// fics validates the federated credentials of one identity or application
// against the rules of protocols.md 1.8 and attaches them to its principal.
func (c *compiler) fics(path, owner string, kind PrincipalKind, fics []FederatedCredential) {
	if len(fics) > MaxFederatedCredentials {
		c.add(path+".federatedCredentials", "at most %d federated identity credentials are allowed, got %d", MaxFederatedCredentials, len(fics))
	}
	names, pairs := map[string]bool{}, map[string]bool{}
	for j := range fics {
		f := &fics[j]
		fp := fmt.Sprintf("%s.federatedCredentials[%d]", path, j)
		if !ficNameRE.MatchString(f.Name) {
			c.add(fp+".name", "%q must be 3-120 characters of letters, digits, '-' and '_', starting with a letter or digit", f.Name)
		}
		if names[lower(f.Name)] {
			c.add(fp+".name", "duplicate name %q", f.Name)
		}
		names[lower(f.Name)] = true
		c.ficIssuer(fp, f)
		c.ficField(fp+".subject", f.Subject)
		if len(f.Audiences) != 1 {
			c.add(fp+".audiences", "exactly one audience is required, got %d", len(f.Audiences))
		} else {
			c.ficField(fp+".audiences[0]", f.Audiences[0])
		}
		key := f.Issuer + "\x00" + f.Subject
		if pairs[key] {
			c.add(fp, "issuer and subject combination already exists for this identity (%q, %q)", f.Issuer, f.Subject)
		}
		pairs[key] = true
	}
	for _, p := range c.ix.byName[lower(owner)] {
		if p.Kind == kind {
			p.FederatedCredentials = fics
		}
	}
}

func (c *compiler) ficIssuer(fp string, f *FederatedCredential) {
	switch {
	case f.Cluster != "":
		cl, ok := c.ix.clusterByName[lower(f.Cluster)]
		switch {
		case f.Issuer != "" && (!ok || f.Issuer != cl.IssuerURL):
			// A compiled world carries both, the issuer derived from the
			// cluster; they must then agree.
			c.add(fp, "set either issuer or cluster, not both")
		case !ok:
			c.add(fp+".cluster", "unknown cluster %q", f.Cluster)
		default:
			f.Issuer = cl.IssuerURL
		}
	case f.Issuer == "":
		c.add(fp+".issuer", "is required (or set cluster)")
	default:
		c.ficField(fp+".issuer", f.Issuer)
		if !strings.HasPrefix(f.Issuer, "https://") {
			c.add(fp+".issuer", "%q must be an https URL", f.Issuer)
		}
	}
}

func (c *compiler) ficField(path, v string) {
	switch {
	case v == "":
		c.add(path, "is required")
	case len(v) > 600:
		c.add(path, "must be at most 600 characters, got %d", len(v))
	case strings.Contains(v, "*"):
		c.add(path, "wildcards are not supported")
	}
}

func (c *compiler) roleAssignments() {
	for i := range c.w.RoleAssignments {
		ra := &c.w.RoleAssignments[i]
		path := fmt.Sprintf("roleAssignments[%d]", i)
		a := &Assignment{Source: *ra, Condition: ra.Condition}
		if ra.EffectiveAfter > 0 {
			// Without a delay the assignment holds at any time, also when
			// the simulated clock is set back before the world's load.
			a.EffectiveAt = c.now.Add(time.Duration(ra.EffectiveAfter))
		}
		a.Principal, a.PrincipalID = c.principalRef(path+".principal", ra.Principal)
		role, ok := LookupRole(ra.Role)
		if !ok {
			c.add(path+".role", "unknown built-in role %q", ra.Role)
		}
		a.Role = role
		a.Scope = c.scope(path+".scope", ra.Scope)
		if ra.Condition != "" {
			expr, err := parseCondition(ra.Condition)
			if err != nil {
				c.add(path+".condition", "%v", err)
			}
			a.condition = expr
		}
		if ra.EffectiveAfter < 0 {
			c.add(path+".effectiveAfter", "must not be negative")
		}
		c.ix.Assignments = append(c.ix.Assignments, a)
	}
}

func (c *compiler) principalRef(path, ref string) (*Principal, string) {
	if ref == "" {
		c.add(path, "is required")
		return nil, ""
	}
	if p, ok := c.ix.byObjectID[lower(ref)]; ok {
		return p, p.ObjectID
	}
	ps := c.ix.byName[lower(ref)]
	switch {
	case len(ps) == 1:
		return ps[0], ps[0].ObjectID
	case len(ps) > 1:
		c.add(path, "%q is ambiguous: %d principals have that name", ref, len(ps))
	case ids.IsGUID(ref):
		return nil, lower(ref) // a principal outside the world
	default:
		c.add(path, "unknown principal %q (an identity, application, cluster, <cluster>/<nodePool> or object ID)", ref)
	}
	return nil, ""
}

// scope resolves a scope shorthand or ARM ID to a lower-cased ARM ID.
func (c *compiler) scope(path, s string) string {
	kind, name, ok := strings.Cut(s, "/")
	if ok && kind != "" {
		switch lower(kind) {
		case "subscription":
			if sub, found := c.sub[lower(name)]; found {
				return lower("/subscriptions/" + sub.ID)
			}
			c.add(path, "unknown subscription %q", name)
			return ""
		case "resourcegroup":
			if g, sub := c.group(path, name); g != nil {
				return lower(fmt.Sprintf("/subscriptions/%s/resourceGroups/%s", sub.ID, g.Name))
			}
			return ""
		case "registry":
			if r, found := c.ix.registryByHost[lower(name)]; found {
				return lower(r.ResourceID)
			}
			c.add(path, "unknown registry %q", name)
			return ""
		}
	}
	if !strings.HasPrefix(lower(s), "/subscriptions/") {
		c.add(path, "%q must be an ARM resource ID (/subscriptions/...) or subscription/<name>, resourceGroup/<name>, registry/<name>", s)
		return ""
	}
	return strings.TrimSuffix(lower(s), "/")
}
