package world

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// compileProblems compiles w and returns every problem, one string each.
func compileProblems(t *testing.T, w *World) []string {
	t.Helper()
	_, err := Compile(w, t0)
	if err == nil {
		return nil
	}
	var joined interface{ Unwrap() []error }
	require.True(t, errors.As(err, &joined), "Compile joins every problem")
	var out []string
	for _, e := range joined.Unwrap() {
		out = append(out, e.Error())
	}
	return out
}

// TestCollisions: values that must be unique, and hosts that another fake
// serves, are refused with a problem naming both holders; the default world
// plus one change gives exactly these problems.
func TestCollisions(t *testing.T) {
	t.Parallel()
	contoso := func(w *World) {
		w.Tenants = append(w.Tenants, Tenant{Name: "contoso"})
		w.Subscriptions = append(w.Subscriptions, Subscription{Name: "contoso-sub", Tenant: "contoso"})
		w.ResourceGroups = append(w.ResourceGroups, ResourceGroup{Name: "contoso-rg", Subscription: "contoso-sub"})
		w.Identities = append(w.Identities, Identity{Name: "contoso-id", ResourceGroup: "contoso-rg"})
	}
	tests := []struct {
		name   string
		change func(w *World)
		want   []string
	}{
		{"two registries with one login server", func(w *World) {
			w.Registries = append(w.Registries, Registry{Name: "otheracr", ResourceGroup: "rg-azsim", LoginServer: "AzSimACR.azurecr.io"})
		}, []string{`registries[1].loginServer: "azsimacr.azurecr.io" is already the login server of registries[0]`}},
		{"a registry on Entra's host", func(w *World) {
			w.Registries[0].LoginServer = "Login.MicrosoftOnline.com"
		}, []string{`registries[0].loginServer: "login.microsoftonline.com" is the host of Entra ID, which the simulator serves itself`}},
		{"a registry on the IMDS address", func(w *World) {
			w.Registries[0].LoginServer = IMDSHost
		}, []string{`registries[0].loginServer: "169.254.169.254" is the address of IMDS, which the simulator serves itself`}},
		{"a registry on a cluster's issuer host", func(w *World) {
			w.Registries[0].LoginServer = "eastus.oic.prod-aks.azure.com"
		}, []string{`registries[0].loginServer: "eastus.oic.prod-aks.azure.com" is already the OIDC issuer host of clusters[0].oidcIssuer.url`}},
		{"a cluster issuer on Entra's host", func(w *World) {
			w.Clusters[0].OIDCIssuer.URL = "https://login.microsoftonline.com/x/"
		}, []string{`clusters[0].oidcIssuer.url: "https://login.microsoftonline.com/x/" is the host of Entra ID, which the simulator serves itself`}},
		{"two clusters with one issuer", func(w *World) {
			w.Clusters[0].OIDCIssuer.URL = "https://issuer.example.com/one/"
			w.Clusters = append(w.Clusters, Cluster{Name: "aks2", ResourceGroup: "rg-azsim", OIDCIssuer: OIDCIssuer{URL: "https://issuer.example.com/one/"}})
		}, []string{`clusters[1].oidcIssuer.url: "https://issuer.example.com/one/" is already the OIDC issuer URL of clusters[0]`}},
		{"two tenants with one domain", func(w *World) {
			w.Tenants = append(w.Tenants, Tenant{Name: "contoso", Domain: "AZSIM.onmicrosoft.com"})
		}, []string{`tenants[1].domain: "AZSIM.onmicrosoft.com" is already the domain of tenants[0]`}},
		{"a node pool holding another tenant's identity", func(w *World) {
			contoso(w)
			w.Clusters[0].NodePools[0].Identities = append(w.Clusters[0].NodePools[0].Identities, "contoso-id")
		}, []string{`clusters[0].nodePools[0].identities[1]: identity "contoso-id" (identities[2]) is in tenant "contoso", but clusters[0] is in tenant "azsim"`}},
		{"a kubelet identity of another tenant", func(w *World) {
			contoso(w)
			w.Clusters[0].KubeletIdentity = "contoso-id"
		}, []string{`clusters[0].kubeletIdentity: identity "contoso-id" (identities[2]) is in tenant "contoso", but clusters[0] is in tenant "azsim"`}},
		{"a control-plane identity of another tenant", func(w *World) {
			contoso(w)
			w.Clusters[0].Identity = ClusterIdentity{Type: UserAssigned, UserAssigned: "contoso-id"}
		}, []string{`clusters[0].identity.userAssigned: identity "contoso-id" (identities[2]) is in tenant "contoso", but clusters[0] is in tenant "azsim"`}},
		{"an identity of another subscription of the same tenant", func(w *World) {
			w.Subscriptions = append(w.Subscriptions, Subscription{Name: "second"})
			w.ResourceGroups = append(w.ResourceGroups, ResourceGroup{Name: "second-rg", Subscription: "second"})
			w.Identities = append(w.Identities, Identity{Name: "second-id", ResourceGroup: "second-rg"})
			w.Clusters[0].NodePools[0].Identities = append(w.Clusters[0].NodePools[0].Identities, "second-id")
		}, nil},
		{"two identities with one client ID", func(w *World) {
			w.Identities[0].ClientID = "00000000-0000-4000-8000-000000000001"
			w.Identities[1].ClientID = "00000000-0000-4000-8000-000000000001"
		}, []string{`identities[1].clientId: "00000000-0000-4000-8000-000000000001" is already the client ID of "aks1-agentpool"`}},
		{"two node pools on one IMDS address", func(w *World) {
			w.Clusters[0].NodePools[0].IMDSAddress = "127.0.0.1:8080"
			w.Clusters[0].NodePools = append(w.Clusters[0].NodePools, NodePool{Name: "pool2", IMDSAddress: "127.0.0.1:8080"})
		}, []string{`clusters[0].nodePools[1].imdsAddress: "127.0.0.1:8080" is already the IMDS address of clusters[0].nodePools[0]`}},
		{"two applications with one identifier URI", func(w *World) {
			w.Applications = append(w.Applications, Application{Name: "a", IdentifierURIs: []string{"api://x"}},
				Application{Name: "b", IdentifierURIs: []string{"api://X/"}})
		}, []string{`applications[1].identifierUris[0]: "api://X/" is already the identifier URI of applications[0]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := Default()
			tt.change(w)
			assert.Equal(t, tt.want, compileProblems(t, w))
		})
	}
}

// TestImageBounds: a random image at every limit compiles; one byte or one
// layer more is refused at the field that crosses it.
func TestImageBounds(t *testing.T) {
	t.Parallel()
	random := func(tag string, layers int, size int64) Image {
		return Image{Repository: "big", Tag: tag, Source: "random", Layers: layers, LayerSize: size}
	}
	tests := []struct {
		name   string
		images [][]Image // per registry
		want   []string
	}{
		{"at every limit", [][]Image{
			{random("layer", 1, MaxLayerSize), random("layers", MaxImageLayers, 1), random("image", 4, MaxImageSize/4)},
			{random("rest", 2, MaxLayerSize), random("last", 1, MaxSeedSize-7*MaxLayerSize-MaxImageLayers)},
		}, nil},
		{"one byte over a layer", [][]Image{{random("v1", 1, MaxLayerSize+1)}},
			[]string{`registries[0].images[0].layerSize: 1073741825 bytes (1.0 GiB) is more than the limit of 1073741824 bytes (1 GiB) per layer`}},
		{"one layer too many", [][]Image{{random("v1", MaxImageLayers+1, 1)}},
			[]string{`registries[0].images[0].layers: 128 is more than the limit of 127 layers per image`}},
		{"an image over its limit", [][]Image{{random("v1", 5, MaxLayerSize)}},
			[]string{`registries[0].images[0]: 5 layers of 1073741824 bytes (1 GiB) are 5368709120 bytes (5 GiB), more than the limit of 4294967296 bytes (4 GiB) per image`}},
		{"the world over its limit, once", [][]Image{
			{random("a", 4, MaxLayerSize), random("b", 4, MaxLayerSize)},
			{random("c", 1, 1), random("d", 1, 1)},
		}, []string{`registries[1].images[0]: brings the images the world seeds to 8589934593 bytes (8.0 GiB), more than the limit of 8589934592 bytes (8 GiB) per world`}},
		{"huge declared layers", [][]Image{{random("v1", 1000000, 1000000000)}},
			[]string{`registries[0].images[0].layers: 1000000 is more than the limit of 127 layers per image`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := Default()
			w.Registries = nil
			w.RoleAssignments = nil
			for i, imgs := range tt.images {
				w.Registries = append(w.Registries, Registry{Name: []string{"firstacr", "secondacr"}[i], ResourceGroup: "rg-azsim", Images: imgs})
			}
			assert.Equal(t, tt.want, compileProblems(t, w))
		})
	}
}

func TestSize(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0 bytes", 1023: "1023 bytes", 1024: "1024 bytes (1 KiB)", 1536: "1536 bytes (1.5 KiB)",
		5 << 20: "5242880 bytes (5 MiB)", 1 << 30: "1073741824 bytes (1 GiB)",
	} {
		assert.Equal(t, want, size(n))
	}
}
