package conformance

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

// Target describes an implementation of the endpoints, reached by URL only.
// It is read from YAML (LoadTarget) or derived from a running azsim
// (TargetFromEndpoints).
type Target struct {
	// Name labels reports.
	Name     string `json:"name,omitempty"`
	TenantID string `json:"tenantId"`
	// Entra is the Entra ID authority; nil disables the entra cases.
	Entra *EntraTarget `json:"entra,omitempty"`
	// Issuers are AKS OIDC issuers (URLs end with "/").
	Issuers []IssuerTarget `json:"issuers,omitempty"`
	// IMDS lists one IMDS per node pool.
	IMDS []IMDSTarget `json:"imds,omitempty"`
	// Registries are ACR registries with an image to pull.
	Registries []RegistryTarget `json:"registries,omitempty"`
	Identities Identities       `json:"identities"`
	// CAFile is a PEM bundle trusted in addition to the system roots.
	CAFile string `json:"caFile,omitempty"`
	// Resolve sends connections for a host name ("login.microsoftonline.com")
	// or a wildcard ("*.azurecr.io") to another address; an address without
	// a port keeps the URL's port.
	Resolve map[string]string `json:"resolve,omitempty"`
	// Admin is azsim's admin API; nil disables the cases that need setup.
	Admin *AdminTarget `json:"admin,omitempty"`
	// Features turns features on or off explicitly (see the Feature*
	// constants); the defaults follow from what the target declares.
	Features map[Feature]bool `json:"features,omitempty"`
}

// EntraTarget is an Entra ID authority.
type EntraTarget struct {
	// Authority is the scheme and host, e.g. https://login.microsoftonline.com.
	Authority string `json:"authority"`
	// InstanceDiscovery is the instance discovery URL (default
	// https://login.microsoftonline.com/common/discovery/instance).
	InstanceDiscovery string `json:"instanceDiscovery,omitempty"`
}

// IssuerTarget is an AKS OIDC issuer.
type IssuerTarget struct {
	URL string `json:"url"`
	// Cluster names the cluster for the admin API's token minting.
	Cluster string `json:"cluster,omitempty"`
}

// IMDSTarget is the IMDS of one node pool.
type IMDSTarget struct {
	Pool string `json:"pool"`
	// URL is the IMDS base URL (http://169.254.169.254 on a real node).
	URL string `json:"url"`
	// Identities are the client IDs of the user-assigned identities the
	// pool's VMSS has (two or more enable the selection case).
	Identities []string `json:"identities,omitempty"`
}

// RegistryTarget is a registry and an image the pulling identity may pull.
type RegistryTarget struct {
	LoginServer string `json:"loginServer"`
	Repository  string `json:"repository"`
	Reference   string `json:"reference"`
}

// Identities are the identities the cases use.
type Identities struct {
	// Kubelet is an identity with pull on the registries, assigned to a
	// node pool (tokens through IMDS).
	Kubelet *Identity `json:"kubelet,omitempty"`
	// NoPull is an identity without pull on the registries.
	NoPull *Identity `json:"noPull,omitempty"`
	// Federated is a workload identity federated with a service account.
	Federated *Identity `json:"federated,omitempty"`
}

// Identity is a managed identity and how the harness gets its tokens:
// through the IMDS of Pool, or with a service-account assertion (minted
// through the admin API, or read from AssertionFile).
type Identity struct {
	ClientID   string `json:"clientId"`
	ObjectID   string `json:"objectId,omitempty"`
	ResourceID string `json:"resourceId,omitempty"`
	Pool       string `json:"pool,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	SA         string `json:"serviceAccount,omitempty"`
	Audience   string `json:"audience,omitempty"`
	Issuer     string `json:"issuer,omitempty"`
	// AssertionFile holds a service-account token (for targets without
	// an admin API; re-read before each use).
	AssertionFile string `json:"assertionFile,omitempty"`
}

// AdminTarget is azsim's admin API.
type AdminTarget struct {
	URL   string `json:"url"`
	Token string `json:"token,omitempty"`
	// TokenEnv names an environment variable holding the token.
	TokenEnv string `json:"tokenEnv,omitempty"`
	// NoFixtures stops the harness from adding its fixture identities to
	// the world (and the cases that need them are Disabled).
	NoFixtures bool `json:"noFixtures,omitempty"`
}

// DefaultAudience is the audience of workload-identity service-account tokens.
const DefaultAudience = "api://AzureADTokenExchange"

// LoadTarget reads a target YAML file.
func LoadTarget(path string) (*Target, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading target: %w", err)
	}
	t, err := ParseTarget(b)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", path, err)
	}
	return t, nil
}

// ParseTarget decodes and validates a target (YAML or JSON).
func ParseTarget(b []byte) (*Target, error) {
	var t Target
	if err := yaml.UnmarshalStrict(b, &t); err != nil {
		return nil, fmt.Errorf("parsing target: %w", err)
	}
	return &t, t.Validate()
}

// Validate checks the target and fills defaults.
func (t *Target) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if t.TenantID == "" {
		bad("tenantId", "is required")
	}
	if t.Entra != nil {
		t.Entra.Authority = strings.TrimRight(t.Entra.Authority, "/")
		if u, err := url.Parse(t.Entra.Authority); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("entra.authority", "want an https URL such as https://login.microsoftonline.com, got %q", t.Entra.Authority)
		}
		if t.Entra.InstanceDiscovery == "" {
			t.Entra.InstanceDiscovery = "https://login.microsoftonline.com/common/discovery/instance"
		}
	}
	for i, is := range t.Issuers {
		if !strings.HasPrefix(is.URL, "https://") {
			bad(fmt.Sprintf("issuers[%d].url", i), "want an https URL, got %q", is.URL)
		}
	}
	for i, m := range t.IMDS {
		if _, err := url.Parse(m.URL); err != nil || m.URL == "" || m.Pool == "" {
			bad(fmt.Sprintf("imds[%d]", i), "pool and url are required")
		}
		t.IMDS[i].URL = strings.TrimRight(m.URL, "/")
	}
	for i, r := range t.Registries {
		if r.LoginServer == "" || r.Repository == "" || r.Reference == "" {
			bad(fmt.Sprintf("registries[%d]", i), "loginServer, repository and reference are required")
		}
	}
	t.validateIdentities(bad)
	if t.Admin != nil && t.Admin.URL == "" {
		bad("admin.url", "is required")
	}
	return errors.Join(errs...)
}

func (t *Target) validateIdentities(bad func(field, format string, args ...any)) {
	for name, id := range map[string]*Identity{"kubelet": t.Identities.Kubelet, "noPull": t.Identities.NoPull, "federated": t.Identities.Federated} {
		if id == nil {
			continue
		}
		field := "identities." + name
		if id.ClientID == "" {
			bad(field+".clientId", "is required")
		}
		if id.Pool != "" && t.imds(id.Pool) == nil {
			bad(field+".pool", "names no imds entry %q", id.Pool)
		}
		if id.Pool == "" && id.SA == "" {
			bad(field, "set pool (IMDS) or namespace and serviceAccount (federated)")
		}
		if id.SA != "" && id.Audience == "" {
			id.Audience = DefaultAudience
		}
		if id.SA != "" && id.Issuer == "" && len(t.Issuers) > 0 {
			id.Issuer = t.Issuers[0].URL
		}
	}
}

func (t *Target) imds(pool string) *IMDSTarget {
	for i := range t.IMDS {
		if t.IMDS[i].Pool == pool {
			return &t.IMDS[i]
		}
	}
	return nil
}

// Subject is the service-account subject of a federated identity.
func (id *Identity) Subject() string {
	return "system:serviceaccount:" + id.Namespace + ":" + id.SA
}

func (t *Target) adminToken() string {
	if t.Admin == nil {
		return ""
	}
	if t.Admin.Token == "" && t.Admin.TokenEnv != "" {
		return os.Getenv(t.Admin.TokenEnv)
	}
	return t.Admin.Token
}
