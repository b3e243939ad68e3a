package world

import (
	"strings"
	"time"
)

// PrincipalKind says what a principal is.
type PrincipalKind string

// Principal kinds.
const (
	KindUserAssigned   PrincipalKind = "UserAssigned"
	KindSystemAssigned PrincipalKind = "SystemAssigned"
	KindApplication    PrincipalKind = "Application"
)

// Principal is a service principal that can obtain Entra tokens: a managed
// identity (user- or system-assigned) or an application.
type Principal struct {
	Kind PrincipalKind
	// Name is how the world refers to it: the identity or application name,
	// the cluster name, or "<cluster>/<nodePool>".
	Name     string
	TenantID string
	ClientID string
	ObjectID string
	// ResourceID is the ARM ID carried as xms_mirid: the identity itself for
	// user-assigned identities, the owning resource for system-assigned ones.
	ResourceID           string
	FederatedCredentials []FederatedCredential
	Application          *Application
}

// IsManagedIdentity reports whether the principal is a managed identity.
func (p *Principal) IsManagedIdentity() bool { return p.Kind != KindApplication }

// TenantInfo is a compiled tenant.
type TenantInfo struct {
	Name, ID, Domain string
}

// RegistryInfo is a compiled registry.
type RegistryInfo struct {
	Registry
	SubscriptionID string
	TenantID       string
	ResourceID     string
}

// ABAC reports whether the registry is in ABAC repository-permissions mode.
func (r *RegistryInfo) ABAC() bool { return r.RoleAssignmentMode == ModeABAC }

// ArmAudienceAllowed reports whether /oauth2/exchange accepts ARM tokens.
func (r *RegistryInfo) ArmAudienceAllowed() bool {
	return r.AuthenticationAsArm == nil || *r.AuthenticationAsArm
}

// ClusterInfo is a compiled cluster.
type ClusterInfo struct {
	Cluster
	TenantID       string
	SubscriptionID string
	ResourceID     string
	IssuerURL      string
	// SystemIdentity is set when the cluster identity is system-assigned.
	SystemIdentity *Principal
	// ControlPlane is the cluster identity (system- or user-assigned).
	ControlPlane *Principal
	Kubelet      *Principal
	Pools        []*NodePoolInfo
}

// IssuerEnabled reports whether the cluster's OIDC issuer is on.
func (c *ClusterInfo) IssuerEnabled() bool {
	return c.OIDCIssuer.Enabled == nil || *c.OIDCIssuer.Enabled
}

// NodePoolInfo is a compiled node pool with its VMSS.
type NodePoolInfo struct {
	NodePool
	Cluster        *ClusterInfo
	SubscriptionID string
	ResourceGroup  string
	Location       string
	VMSSResourceID string
	// SystemIdentity is the VMSS's system-assigned identity, if enabled.
	SystemIdentity *Principal
	UserAssigned   []*Principal
}

// Assignment is a compiled role assignment.
type Assignment struct {
	Principal   *Principal
	PrincipalID string
	Role        Role
	// Scope is the ARM resource ID, lower-cased.
	Scope       string
	Condition   string
	EffectiveAt time.Time
	Source      RoleAssignment
	// condition is Condition, parsed once when the world is compiled.
	condition condExpr
}

// Index is an immutable, compiled world: the World with every derived field
// filled in, plus lookups. It is safe for concurrent use.
type Index struct {
	World       *World
	Loaded      time.Time
	Tenants     []*TenantInfo
	Principals  []*Principal
	Registries  []*RegistryInfo
	Clusters    []*ClusterInfo
	Assignments []*Assignment

	tenantByKey    map[string]*TenantInfo
	byClientID     map[string]*Principal
	byObjectID     map[string]*Principal
	byResourceID   map[string]*Principal
	byName         map[string][]*Principal
	registryByHost map[string]*RegistryInfo
	clusterByName  map[string]*ClusterInfo
	clusterByIss   map[string]*ClusterInfo
}

func lower(s string) string { return strings.ToLower(s) }

// Tenant finds a tenant by ID or domain, case-insensitively.
func (ix *Index) Tenant(key string) (*TenantInfo, bool) {
	t, ok := ix.tenantByKey[lower(key)]
	return t, ok
}

// PrincipalByClientID finds a principal by client (application) ID.
func (ix *Index) PrincipalByClientID(id string) (*Principal, bool) {
	p, ok := ix.byClientID[lower(id)]
	return p, ok
}

// PrincipalByObjectID finds a principal by object (principal) ID.
func (ix *Index) PrincipalByObjectID(id string) (*Principal, bool) {
	p, ok := ix.byObjectID[lower(id)]
	return p, ok
}

// PrincipalByResourceID finds a user-assigned identity by ARM resource ID
// (case-insensitive, as ARM IDs are).
func (ix *Index) PrincipalByResourceID(id string) (*Principal, bool) {
	p, ok := ix.byResourceID[lower(id)]
	return p, ok
}

// PrincipalByName finds a principal by its world name (see RoleAssignment).
func (ix *Index) PrincipalByName(name string) (*Principal, bool) {
	ps := ix.byName[lower(name)]
	if len(ps) != 1 {
		return nil, false
	}
	return ps[0], true
}

// Registry finds a registry by login server (host, without port) or name.
func (ix *Index) Registry(hostOrName string) (*RegistryInfo, bool) {
	r, ok := ix.registryByHost[lower(hostOrName)]
	return r, ok
}

// Cluster finds a cluster by name.
func (ix *Index) Cluster(name string) (*ClusterInfo, bool) {
	c, ok := ix.clusterByName[lower(name)]
	return c, ok
}

// ClusterByIssuer finds the cluster whose issuer URL is exactly iss.
func (ix *Index) ClusterByIssuer(iss string) (*ClusterInfo, bool) {
	c, ok := ix.clusterByIss[iss]
	return c, ok
}

// NodePool finds a node pool by "<cluster>/<pool>" or, when unique, by pool name.
func (ix *Index) NodePool(ref string) (*NodePoolInfo, bool) {
	cl, pool, qualified := strings.Cut(ref, "/")
	var found []*NodePoolInfo
	for _, c := range ix.Clusters {
		for _, p := range c.Pools {
			if qualified && strings.EqualFold(c.Name, cl) && strings.EqualFold(p.Name, pool) ||
				!qualified && strings.EqualFold(p.Name, ref) {
				found = append(found, p)
			}
		}
	}
	if len(found) != 1 {
		return nil, false
	}
	return found[0], true
}

// NodePools lists every node pool of every cluster.
func (ix *Index) NodePools() []*NodePoolInfo {
	var out []*NodePoolInfo
	for _, c := range ix.Clusters {
		out = append(out, c.Pools...)
	}
	return out
}

// Hosts lists the Azure host names the world serves: Entra, every cluster
// issuer host and every registry login server.
func (ix *Index) Hosts() []string {
	seen := map[string]bool{}
	out := []string{}
	add := func(h string) {
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	add(EntraHost)
	for _, c := range ix.Clusters {
		add(hostOf(c.IssuerURL))
	}
	for _, r := range ix.Registries {
		add(r.LoginServer)
	}
	return out
}

// EntraHost is the public Entra ID authority host the fake answers on.
const EntraHost = "login.microsoftonline.com"

func hostOf(u string) string {
	s := strings.TrimPrefix(u, "https://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	return lower(s)
}
