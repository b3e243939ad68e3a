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

var (
	ficNameRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$`)
	registryNameRE = regexp.MustCompile(`^[A-Za-z0-9]{5,50}$`)
	repoRE         = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	tagRE          = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

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

func (c *compiler) registries() {
	seen := map[string]bool{}
	for i := range c.w.Registries {
		r := &c.w.Registries[i]
		path := fmt.Sprintf("registries[%d]", i)
		c.unique(seen, path, r.Name)
		if r.Name != "" && !registryNameRE.MatchString(r.Name) {
			c.add(path+".name", "%q must be 5-50 letters and digits", r.Name)
		}
		g, s := c.group(path+".resourceGroup", r.ResourceGroup)
		if r.LoginServer == "" {
			r.LoginServer = lower(r.Name) + ".azurecr.io"
		}
		r.LoginServer = lower(r.LoginServer)
		switch r.RoleAssignmentMode {
		case "":
			r.RoleAssignmentMode = ModeLegacy
		case ModeLegacy, ModeABAC:
		default:
			c.add(path+".roleAssignmentMode", "must be %s or %s, got %q", ModeLegacy, ModeABAC, r.RoleAssignmentMode)
		}
		if r.AdminUser != nil && r.AdminUser.Enabled && r.AdminUser.Password == "" {
			c.add(path+".adminUser.password", "is required when the admin user is enabled")
		}
		c.registryTokens(path+".tokens", r.Tokens)
		c.images(path, r.Images)
		if g == nil {
			continue
		}
		ri := &RegistryInfo{Registry: *r, SubscriptionID: s.ID, TenantID: c.tenantID(path, s.Tenant),
			ResourceID: fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerRegistry/registries/%s", s.ID, g.Name, r.Name)}
		c.ix.Registries = append(c.ix.Registries, ri)
		c.ix.registryByHost[r.LoginServer] = ri
		c.ix.registryByHost[lower(r.Name)] = ri
	}
}

func (c *compiler) registryTokens(path string, t *RegistryTokens) {
	if t == nil {
		return
	}
	for _, f := range []struct {
		name string
		d    Duration
	}{{"refreshTokenLifetime", t.RefreshTokenLifetime}, {"accessTokenLifetime", t.AccessTokenLifetime}} {
		switch {
		case f.d < 0:
			c.add(path+"."+f.name, "must not be negative")
		case time.Duration(f.d) > MaxTokenLifetime:
			c.add(path+"."+f.name, "must be at most %s, got %s", MaxTokenLifetime, time.Duration(f.d))
		}
	}
}

func (c *compiler) images(path string, imgs []Image) {
	for j := range imgs {
		im := &imgs[j]
		ip := fmt.Sprintf("%s.images[%d]", path, j)
		if !repoRE.MatchString(im.Repository) {
			c.add(ip+".repository", "%q is not a valid repository name", im.Repository)
		}
		if !tagRE.MatchString(im.Tag) {
			c.add(ip+".tag", "%q is not a valid tag", im.Tag)
		}
		switch im.Source {
		case "", "hello":
			im.Source = "hello"
		case "random":
			if im.Layers <= 0 {
				c.add(ip+".layers", "must be positive for a random image")
			}
			if im.LayerSize <= 0 {
				c.add(ip+".layerSize", "must be positive for a random image")
			}
		default:
			c.add(ip+".source", "must be hello or random, got %q", im.Source)
		}
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
