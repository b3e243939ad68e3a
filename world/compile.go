package world

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/azsim/azsim/internal/platform/ids"
)

// problems collects validation errors, each prefixed with its path.
type problems struct{ errs []error }

func (p *problems) add(path, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

func (p *problems) err() error { return errors.Join(p.errs...) }

// compiler builds an Index from a World.
type compiler struct {
	problems
	w   *World
	ix  *Index
	now time.Time
	sub map[string]*Subscription
	rg  map[string]*ResourceGroup
	// paths holds the path of every user-assigned identity's principal.
	paths map[*Principal]string
	// seeded is the size of the random images declared so far.
	seeded int64
	// Values that must be unique across the world, with their first holder.
	tenantKeys, subIDs, issuers, issuerHosts, registryHostClaims, vmss, imdsAddrs, identifierURIs claims
}

// Compile validates w and returns its Index. w is not modified: the Index
// holds a copy with every derived field filled in. now is the simulated time
// from which role assignment delays are measured. The error lists every
// problem found, each with its path (for example
// "identities[2].federatedCredentials[0].audiences: exactly one audience is required").
func Compile(w *World, now time.Time) (*Index, error) {
	cp, err := clone(w)
	if err != nil {
		return nil, fmt.Errorf("copying world: %w", err)
	}
	c := &compiler{w: cp, now: now, sub: map[string]*Subscription{}, rg: map[string]*ResourceGroup{},
		paths: map[*Principal]string{}, tenantKeys: claims{}, subIDs: claims{}, issuers: claims{}, issuerHosts: claims{},
		registryHostClaims: claims{}, vmss: claims{}, imdsAddrs: claims{}, identifierURIs: claims{}}
	c.ix = &Index{
		World: cp, Loaded: now,
		tenantByKey: map[string]*TenantInfo{}, byClientID: map[string]*Principal{},
		byObjectID: map[string]*Principal{}, byResourceID: map[string]*Principal{},
		byName: map[string][]*Principal{}, registryByHost: map[string]*RegistryInfo{},
		clusterByName: map[string]*ClusterInfo{}, clusterByIss: map[string]*ClusterInfo{},
	}
	if cp.APIVersion != APIVersion {
		c.add("apiVersion", "must be %q, got %q", APIVersion, cp.APIVersion)
	}
	if cp.Kind != KindWorld {
		c.add("kind", "must be %q, got %q", KindWorld, cp.Kind)
	}
	c.tenants()
	c.subscriptions()
	c.resourceGroups()
	c.identities()
	c.applications()
	c.clusters()
	c.federatedCredentials()
	c.registries()
	c.roleAssignments()
	if err := c.err(); err != nil {
		return nil, err
	}
	return c.ix, nil
}

// Clone returns a deep copy of w.
func (w *World) Clone() (*World, error) { return clone(w) }

func clone(w *World) (*World, error) {
	b, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	var out World
	return &out, json.Unmarshal(b, &out)
}

// unique reports a missing name or a duplicate name within one list; it
// returns whether the name is unique (further uniqueness checks of a
// duplicate would only repeat the problem).
func (c *compiler) unique(seen map[string]bool, path, name string) bool {
	if name == "" {
		c.add(path+".name", "is required")
		return true
	}
	if seen[lower(name)] {
		c.add(path+".name", "duplicate name %q", name)
		return false
	}
	seen[lower(name)] = true
	return true
}

func (c *compiler) guid(path string, v *string, derived string) {
	if *v == "" {
		*v = derived
		return
	}
	if !ids.IsGUID(*v) {
		c.add(path, "%q is not a GUID", *v)
	}
	*v = lower(*v)
}

func (c *compiler) tenants() {
	if len(c.w.Tenants) == 0 {
		c.add("tenants", "at least one tenant is required")
	}
	seen := map[string]bool{}
	for i := range c.w.Tenants {
		t := &c.w.Tenants[i]
		path := fmt.Sprintf("tenants[%d]", i)
		named := c.unique(seen, path, t.Name)
		c.guid(path+".id", &t.ID, ids.Derive("tenant", t.Name))
		if t.Domain == "" {
			t.Domain = lower(t.Name) + ".onmicrosoft.com"
		}
		ti := &TenantInfo{Name: t.Name, ID: t.ID, Domain: lower(t.Domain)}
		if named && c.tenantDomain(path+".domain", t.Domain) {
			// Tenant looks a tenant up by ID or domain: each must name one tenant.
			c.claim(c.tenantKeys, ti.ID, t.ID, path+".id", path, "ID")
			c.claim(c.tenantKeys, ti.Domain, t.Domain, path+".domain", path, "domain")
		}
		c.ix.Tenants = append(c.ix.Tenants, ti)
		c.ix.tenantByKey[ti.ID] = ti
		c.ix.tenantByKey[ti.Domain] = ti
	}
}

func (c *compiler) tenantID(path, name string) string {
	if name == "" {
		if len(c.ix.Tenants) > 0 {
			return c.ix.Tenants[0].ID
		}
		return ""
	}
	for _, t := range c.ix.Tenants {
		if strings.EqualFold(t.Name, name) || t.ID == lower(name) {
			return t.ID
		}
	}
	c.add(path, "unknown tenant %q", name)
	return ""
}

func (c *compiler) subscriptions() {
	if len(c.w.Subscriptions) == 0 {
		c.add("subscriptions", "at least one subscription is required")
	}
	seen := map[string]bool{}
	for i := range c.w.Subscriptions {
		s := &c.w.Subscriptions[i]
		path := fmt.Sprintf("subscriptions[%d]", i)
		named := c.unique(seen, path, s.Name)
		c.guid(path+".id", &s.ID, ids.Derive("subscription", s.Name))
		if named {
			// Subscription IDs are global in Azure and key every ARM scope.
			c.claim(c.subIDs, s.ID, s.ID, path+".id", path, "ID")
		}
		s.Tenant = c.tenantName(path+".tenant", s.Tenant)
		c.sub[lower(s.Name)] = s
	}
}

func (c *compiler) tenantName(path, name string) string {
	id := c.tenantID(path, name)
	for _, t := range c.ix.Tenants {
		if t.ID == id {
			return t.Name
		}
	}
	return name
}

func (c *compiler) resourceGroups() {
	seen := map[string]bool{}
	for i := range c.w.ResourceGroups {
		g := &c.w.ResourceGroups[i]
		path := fmt.Sprintf("resourceGroups[%d]", i)
		c.unique(seen, path, g.Name)
		if g.Subscription == "" && len(c.w.Subscriptions) > 0 {
			g.Subscription = c.w.Subscriptions[0].Name
		}
		if _, ok := c.sub[lower(g.Subscription)]; !ok {
			c.add(path+".subscription", "unknown subscription %q", g.Subscription)
		}
		if g.Location == "" {
			g.Location = "eastus"
		}
		c.rg[lower(g.Name)] = g
	}
}

// group resolves a resource group reference and returns it with its subscription.
func (c *compiler) group(path, name string) (*ResourceGroup, *Subscription) {
	if name == "" {
		c.add(path, "is required")
		return nil, nil
	}
	g, ok := c.rg[lower(name)]
	if !ok {
		c.add(path, "unknown resource group %q", name)
		return nil, nil
	}
	s := c.sub[lower(g.Subscription)]
	if s == nil {
		return nil, nil
	}
	return g, s
}

func (c *compiler) addPrincipal(p *Principal) {
	c.ix.Principals = append(c.ix.Principals, p)
	c.ix.byClientID[p.ClientID] = p
	c.ix.byObjectID[p.ObjectID] = p
	c.ix.byName[lower(p.Name)] = append(c.ix.byName[lower(p.Name)], p)
	if p.Kind == KindUserAssigned {
		c.ix.byResourceID[lower(p.ResourceID)] = p
	}
}

// uniqueIDs reports explicit client or object IDs that another principal
// already has: lookups by ID would silently find only one of them.
func (c *compiler) uniqueIDs(clientPath, clientID, objectPath, objectID string) {
	if p, ok := c.ix.byClientID[clientID]; ok {
		c.add(clientPath, "%q is already the client ID of %q", clientID, p.Name)
	}
	if p, ok := c.ix.byObjectID[objectID]; ok {
		c.add(objectPath, "%q is already the object ID of %q", objectID, p.Name)
	}
}

func (c *compiler) identities() {
	seen := map[string]bool{}
	for i := range c.w.Identities {
		id := &c.w.Identities[i]
		path := fmt.Sprintf("identities[%d]", i)
		c.unique(seen, path, id.Name)
		g, s := c.group(path+".resourceGroup", id.ResourceGroup)
		if g == nil {
			continue
		}
		c.guid(path+".clientId", &id.ClientID, ids.Derive("identity-client", s.ID, g.Name, id.Name))
		c.guid(path+".principalId", &id.PrincipalID, ids.Derive("identity-principal", s.ID, g.Name, id.Name))
		c.uniqueIDs(path+".clientId", id.ClientID, path+".principalId", id.PrincipalID)
		p := &Principal{
			Kind: KindUserAssigned, Name: id.Name, TenantID: c.tenantID(path, s.Tenant),
			ClientID: id.ClientID, ObjectID: id.PrincipalID,
			ResourceID: fmt.Sprintf("/subscriptions/%s/resourcegroups/%s/providers/Microsoft.ManagedIdentity/userAssignedIdentities/%s", s.ID, g.Name, id.Name),
		}
		c.paths[p] = path
		c.addPrincipal(p)
	}
}

func (c *compiler) applications() {
	seen := map[string]bool{}
	for i := range c.w.Applications {
		a := &c.w.Applications[i]
		path := fmt.Sprintf("applications[%d]", i)
		c.unique(seen, path, a.Name)
		tid := c.tenantID(path+".tenant", a.Tenant)
		c.guid(path+".clientId", &a.ClientID, ids.Derive("app-client", tid, a.Name))
		c.guid(path+".objectId", &a.ObjectID, ids.Derive("app-principal", tid, a.Name))
		c.uniqueIDs(path+".clientId", a.ClientID, path+".objectId", a.ObjectID)
		for j, u := range a.IdentifierURIs {
			// Entra refuses a second application with an identifier URI of
			// its tenant ("Another object with the same value for property
			// identifierUris already exists": Azure/go-autorest#308).
			key := tid + "\x00" + lower(strings.TrimRight(u, "/"))
			c.claim(c.identifierURIs, key, u, fmt.Sprintf("%s.identifierUris[%d]", path, j), path, "identifier URI")
		}
		for j, s := range a.Secrets {
			if s.Value == "" {
				c.add(fmt.Sprintf("%s.secrets[%d].value", path, j), "is required")
			}
		}
		for j, cert := range a.Certificates {
			if _, err := ParseCertificatePEM(cert.PEM); err != nil {
				c.add(fmt.Sprintf("%s.certificates[%d].pem", path, j), "%v", err)
			}
		}
		c.addPrincipal(&Principal{
			Kind: KindApplication, Name: a.Name, TenantID: tid,
			ClientID: a.ClientID, ObjectID: a.ObjectID, Application: a,
		})
	}
}
