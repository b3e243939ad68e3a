package world

import "time"

// APIVersion and KindWorld identify a world file.
const (
	APIVersion = "azsim.dev/v1alpha1"
	KindWorld  = "World"
)

// World is the simulated Azure estate as declared in a world file.
// Fields that are left empty are derived (see Compile).
type World struct {
	APIVersion      string           `json:"apiVersion"`
	Kind            string           `json:"kind"`
	Tenants         []Tenant         `json:"tenants,omitempty"`
	Subscriptions   []Subscription   `json:"subscriptions,omitempty"`
	ResourceGroups  []ResourceGroup  `json:"resourceGroups,omitempty"`
	Identities      []Identity       `json:"identities,omitempty"`
	Applications    []Application    `json:"applications,omitempty"`
	Registries      []Registry       `json:"registries,omitempty"`
	RoleAssignments []RoleAssignment `json:"roleAssignments,omitempty"`
	Clusters        []Cluster        `json:"clusters,omitempty"`
}

// Tenant is an Entra ID tenant. ID defaults to a GUID derived from Name;
// Domain defaults to <name>.onmicrosoft.com.
type Tenant struct {
	Name   string `json:"name"`
	ID     string `json:"id,omitempty"`
	Domain string `json:"domain,omitempty"`
}

// Subscription belongs to a tenant (default: the first tenant).
type Subscription struct {
	Name   string `json:"name"`
	ID     string `json:"id,omitempty"`
	Tenant string `json:"tenant,omitempty"`
}

// ResourceGroup belongs to a subscription (default: the first subscription).
type ResourceGroup struct {
	Name         string `json:"name"`
	Subscription string `json:"subscription,omitempty"`
	Location     string `json:"location,omitempty"`
}

// Identity is a user-assigned managed identity.
type Identity struct {
	Name                 string                `json:"name"`
	ResourceGroup        string                `json:"resourceGroup"`
	ClientID             string                `json:"clientId,omitempty"`
	PrincipalID          string                `json:"principalId,omitempty"`
	FederatedCredentials []FederatedCredential `json:"federatedCredentials,omitempty"`
}

// FederatedCredential is a federated identity credential (protocols.md 1.8).
// EffectiveAfter, when set, is a simulated time before which the credential
// has not propagated yet (Entra then answers AADSTS70021).
type FederatedCredential struct {
	Name   string `json:"name"`
	Issuer string `json:"issuer,omitempty"`
	// Cluster, instead of Issuer, names a cluster of the world whose OIDC
	// issuer URL is the credential's issuer.
	Cluster        string     `json:"cluster,omitempty"`
	Subject        string     `json:"subject"`
	Audiences      []string   `json:"audiences"`
	Description    string     `json:"description,omitempty"`
	EffectiveAfter *time.Time `json:"effectiveAfter,omitempty"`
}

// Application is an app registration with its service principal.
type Application struct {
	Name                 string                `json:"name"`
	Tenant               string                `json:"tenant,omitempty"`
	ClientID             string                `json:"clientId,omitempty"`
	ObjectID             string                `json:"objectId,omitempty"`
	IdentifierURIs       []string              `json:"identifierUris,omitempty"`
	Secrets              []Secret              `json:"secrets,omitempty"`
	Certificates         []Certificate         `json:"certificates,omitempty"`
	FederatedCredentials []FederatedCredential `json:"federatedCredentials,omitempty"`
}

// Secret is a client secret of an application.
type Secret struct {
	Name    string     `json:"name,omitempty"`
	Value   string     `json:"value"`
	Expires *time.Time `json:"expires,omitempty"`
}

// Certificate is a client certificate (PEM, public part only) of an application.
type Certificate struct {
	Name string `json:"name,omitempty"`
	PEM  string `json:"pem"`
}

// Registry role-assignment modes (protocols.md 4.2).
const (
	ModeLegacy = "LegacyRegistryPermissions"
	ModeABAC   = "AbacRepositoryPermissions"
)

// Registry is an Azure Container Registry.
type Registry struct {
	Name          string `json:"name"`
	ResourceGroup string `json:"resourceGroup"`
	// LoginServer defaults to <name>.azurecr.io.
	LoginServer   string     `json:"loginServer,omitempty"`
	AnonymousPull bool       `json:"anonymousPull,omitempty"`
	AdminUser     *AdminUser `json:"adminUser,omitempty"`
	// RoleAssignmentMode is ModeLegacy (default) or ModeABAC.
	RoleAssignmentMode string `json:"roleAssignmentMode,omitempty"`
	// AuthenticationAsArm allows Entra tokens for ARM at /oauth2/exchange
	// (default true; protocols.md 3.2).
	AuthenticationAsArm *bool `json:"authenticationAsArm,omitempty"`
	// Tokens sets the lifetimes of the ACR tokens the registry issues.
	Tokens *RegistryTokens `json:"tokens,omitempty"`
	Images []Image         `json:"images,omitempty"`
}

// RegistryTokens are the lifetimes of a registry's ACR tokens; zero keeps
// the simulator's default (refresh about 3 h, access 75 min: protocols.md
// 3.4, not confirmed against ACR).
type RegistryTokens struct {
	RefreshTokenLifetime Duration `json:"refreshTokenLifetime,omitempty"`
	AccessTokenLifetime  Duration `json:"accessTokenLifetime,omitempty"`
}

// MaxTokenLifetime bounds the token lifetimes a world may set.
const MaxTokenLifetime = 30 * 24 * time.Hour

// AdminUser is the registry's admin account (username = registry name).
type AdminUser struct {
	Enabled  bool   `json:"enabled"`
	Password string `json:"password,omitempty"`
}

// Image is an image seeded into a registry at start.
type Image struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	// Source is "hello" (a runnable linux/amd64 static program, the default)
	// or "random" (Layers layers of LayerSize random bytes each).
	Source    string `json:"source,omitempty"`
	Layers    int    `json:"layers,omitempty"`
	LayerSize int64  `json:"layerSize,omitempty"`
}

// RoleAssignment grants Role to Principal at Scope.
//
// Principal is the name of a user-assigned identity, an application, a
// cluster (its system-assigned identity), "<cluster>/<nodePool>" (the node
// pool's system-assigned VMSS identity), or a principal (object) ID.
// Role is a built-in role name or GUID. Scope is an ARM resource ID or a
// shorthand "subscription/<name>", "resourceGroup/<name>", "registry/<name>".
type RoleAssignment struct {
	Principal string `json:"principal"`
	Role      string `json:"role"`
	Scope     string `json:"scope"`
	// Condition is an ABAC condition (conditionVersion 2.0).
	Condition string `json:"condition,omitempty"`
	// EffectiveAfter delays the assignment on the simulated clock, measured
	// from when the world (or the assignment) was loaded.
	EffectiveAfter Duration `json:"effectiveAfter,omitempty"`
}

// Cluster is an AKS managed cluster.
type Cluster struct {
	Name          string `json:"name"`
	ResourceGroup string `json:"resourceGroup"`
	Location      string `json:"location,omitempty"`
	// NodeResourceGroup defaults to MC_<rg>_<name>_<location>.
	NodeResourceGroup string          `json:"nodeResourceGroup,omitempty"`
	OIDCIssuer        OIDCIssuer      `json:"oidcIssuer,omitempty"`
	Identity          ClusterIdentity `json:"identity,omitempty"`
	// KubeletIdentity names the user-assigned identity the kubelet uses.
	KubeletIdentity string     `json:"kubeletIdentity,omitempty"`
	NodePools       []NodePool `json:"nodePools,omitempty"`
}

// OIDCIssuer of a cluster. URL defaults to
// https://<location>.oic.prod-aks.azure.com/<tenant>/<id>/ (protocols.md 5.2).
type OIDCIssuer struct {
	Enabled *bool  `json:"enabled,omitempty"`
	ID      string `json:"id,omitempty"`
	URL     string `json:"url,omitempty"`
}

// Identity types of a cluster's control plane identity.
const (
	SystemAssigned = "SystemAssigned"
	UserAssigned   = "UserAssigned"
)

// ClusterIdentity is the cluster (control-plane) identity.
type ClusterIdentity struct {
	Type         string `json:"type,omitempty"`
	UserAssigned string `json:"userAssigned,omitempty"`
}

// NodePool is a node pool backed by one VMSS.
type NodePool struct {
	Name string `json:"name"`
	// VMSS defaults to aks-<name>-<hash>-vmss.
	VMSS string `json:"vmss,omitempty"`
	// Identities names the user-assigned identities assigned to the VMSS.
	Identities     []string `json:"identities,omitempty"`
	SystemAssigned bool     `json:"systemAssigned,omitempty"`
	// IMDSAddress is where this pool's IMDS listens (host:port).
	IMDSAddress string `json:"imdsAddress,omitempty"`
}
