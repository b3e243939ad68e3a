package sim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
	"github.com/azsim/azsim/world"
)

// The world attack suite: worlds that collide with themselves or with the
// hosts the simulator serves, and worlds declaring huge seeded images, sent
// through the admin API. Each must be refused with 400 and every problem
// naming its path (and, for a collision, the path of the first holder),
// while the running world stays as it was.

// adminJSONRequest sends body as JSON to the admin API and decodes an
// error answer.
func adminJSONRequest(t *testing.T, s *sim.Sim, method, path string, body []byte) (int, api.Error) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.AdminAddr()+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, "the admin API must answer")
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var e api.Error
	if resp.StatusCode != http.StatusOK {
		require.NoError(t, json.Unmarshal(b, &e), "an admin error is JSON: %s", b)
	}
	return resp.StatusCode, e
}

func worldJSON(t *testing.T, s *sim.Sim) []byte {
	t.Helper()
	b, err := json.Marshal(s.World().Snapshot().World)
	require.NoError(t, err)
	return b
}

// withContoso adds a second tenant with a subscription, a resource group
// and a user-assigned identity of its own.
func withContoso(w *world.World) {
	w.Tenants = append(w.Tenants, world.Tenant{Name: "contoso"})
	w.Subscriptions = append(w.Subscriptions, world.Subscription{Name: "contoso-sub", Tenant: "contoso"})
	w.ResourceGroups = append(w.ResourceGroups, world.ResourceGroup{Name: "contoso-rg", Subscription: "contoso-sub"})
	w.Identities = append(w.Identities, world.Identity{Name: "contoso-id", ResourceGroup: "contoso-rg"})
}

func TestAttackWorldPut(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	tests := []struct {
		name   string
		change func(w *world.World)
		want   []string
	}{
		{"two registries with one login server", func(w *world.World) {
			w.Registries = append(w.Registries, world.Registry{Name: "otheracr", ResourceGroup: "rg-azsim", LoginServer: "azsimacr.azurecr.io"})
		}, []string{`registries[1].loginServer: "azsimacr.azurecr.io" is already the login server of registries[0]`}},
		{"a registry on Entra's host", func(w *world.World) {
			w.Registries = append(w.Registries, world.Registry{Name: "entraacr", ResourceGroup: "rg-azsim", LoginServer: world.EntraHost})
		}, []string{`registries[1].loginServer: "login.microsoftonline.com" is the host of Entra ID, which the simulator serves itself`}},
		{"a registry on the IMDS address", func(w *world.World) {
			w.Registries[0].LoginServer = "169.254.169.254"
		}, []string{`registries[0].loginServer: "169.254.169.254" is the address of IMDS, which the simulator serves itself`}},
		{"a registry on the cluster issuer host", func(w *world.World) {
			w.Registries[0].LoginServer = "eastus.oic.prod-aks.azure.com"
		}, []string{`registries[0].loginServer: "eastus.oic.prod-aks.azure.com" is already the OIDC issuer host of clusters[0].oidcIssuer.url`}},
		{"two tenants with one domain", func(w *world.World) {
			w.Tenants = append(w.Tenants, world.Tenant{Name: "contoso", Domain: "azsim.onmicrosoft.com"})
		}, []string{`tenants[1].domain: "azsim.onmicrosoft.com" is already the domain of tenants[0]`}},
		{"a node pool holding another tenant's identity", func(w *world.World) {
			withContoso(w)
			w.Clusters[0].NodePools[0].Identities = append(w.Clusters[0].NodePools[0].Identities, "contoso-id")
		}, []string{`clusters[0].nodePools[0].identities[1]: identity "contoso-id" (identities[2]) is in tenant "contoso", but clusters[0] is in tenant "azsim"`}},
		{"every problem at once", func(w *world.World) {
			withContoso(w)
			w.Tenants[1].Domain = "azsim.onmicrosoft.com"
			w.Clusters[0].KubeletIdentity = "contoso-id"
			w.Registries = append(w.Registries, world.Registry{Name: "otheracr", ResourceGroup: "rg-azsim", LoginServer: "AZSIMACR.azurecr.io"})
		}, []string{
			`tenants[1].domain: "azsim.onmicrosoft.com" is already the domain of tenants[0]`,
			`clusters[0].kubeletIdentity: identity "contoso-id" (identities[2]) is in tenant "contoso", but clusters[0] is in tenant "azsim"`,
			`registries[1].loginServer: "azsimacr.azurecr.io" is already the login server of registries[0]`,
		}},
		{"huge declared layers", func(w *world.World) {
			w.Registries[0].Images = append(w.Registries[0].Images,
				world.Image{Repository: "huge", Tag: "v1", Source: "random", Layers: 2, LayerSize: 256 << 30},
				world.Image{Repository: "huge", Tag: "v2", Source: "random", Layers: 1000000, LayerSize: 1000000000})
		}, []string{
			`registries[0].images[1].layerSize: 274877906944 bytes (256 GiB) is more than the limit of 1073741824 bytes (1 GiB) per layer`,
			`registries[0].images[2].layers: 1000000 is more than the limit of 127 layers per image`,
		}},
		{"a world seeding more than its limit", func(w *world.World) {
			for _, tag := range []string{"a", "b", "c"} {
				w.Registries[0].Images = append(w.Registries[0].Images,
					world.Image{Repository: "big", Tag: tag, Source: "random", Layers: 3, LayerSize: 1 << 30})
			}
		}, []string{`registries[0].images[3]: brings the images the world seeds to 9663676416 bytes (9 GiB), more than the limit of 8589934592 bytes (8 GiB) per world`}},
	}
	before := worldJSON(t, s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := world.Default()
			tt.change(w)
			body, err := json.Marshal(w)
			require.NoError(t, err)
			st, e := adminJSONRequest(t, s, http.MethodPut, api.PathWorld, body)
			assert.Equal(t, http.StatusBadRequest, st)
			assert.Equal(t, tt.want, e.Problems)
			assert.JSONEq(t, string(before), string(worldJSON(t, s)), "a refused world changes nothing")
		})
	}
}

func TestAttackWorldPost(t *testing.T) {
	t.Parallel()
	w := world.Default()
	withContoso(w)
	s := simtest.Start(t, w)
	tests := []struct {
		name, collection, body string
		want                   []string
	}{
		{"a second registry on the login server", "registries",
			`{"name":"otheracr","resourceGroup":"rg-azsim","loginServer":"AzSimAcr.azurecr.io"}`,
			[]string{`registries[1].loginServer: "azsimacr.azurecr.io" is already the login server of registries[0]`}},
		{"a registry on Entra's host", "registries",
			`{"name":"entraacr","resourceGroup":"rg-azsim","loginServer":"login.microsoftonline.com"}`,
			[]string{`registries[1].loginServer: "login.microsoftonline.com" is the host of Entra ID, which the simulator serves itself`}},
		{"a registry named as the login server of another", "registries",
			`{"name":"otheracr","resourceGroup":"rg-azsim","loginServer":"azsimacr"}`,
			[]string{`registries[1].loginServer: "azsimacr" is already the name of registries[0]`}},
		{"a tenant on another's domain", "tenants",
			`{"name":"fabrikam","domain":"AZSIM.onmicrosoft.com"}`,
			[]string{`tenants[2].domain: "AZSIM.onmicrosoft.com" is already the domain of tenants[0]`}},
		{"a cluster whose pool holds another tenant's identity", "clusters",
			`{"name":"aks2","resourceGroup":"rg-azsim","nodePools":[{"name":"pool","identities":["contoso-id"]}]}`,
			[]string{`clusters[1].nodePools[0].identities[0]: identity "contoso-id" (identities[2]) is in tenant "contoso", but clusters[1] is in tenant "azsim"`}},
		{"a cluster on the first cluster's issuer", "clusters",
			`{"name":"aks2","resourceGroup":"rg-azsim","oidcIssuer":{"url":"` + s.World().Snapshot().Clusters[0].IssuerURL + `"}}`,
			[]string{`clusters[1].oidcIssuer.url: "` + s.World().Snapshot().Clusters[0].IssuerURL + `" is already the OIDC issuer URL of clusters[0]`}},
		{"a registry seeding a huge image", "registries",
			`{"name":"hugeacr","resourceGroup":"rg-azsim","images":[{"repository":"huge","tag":"v1","source":"random","layers":1000000,"layerSize":1000000000}]}`,
			[]string{`registries[1].images[0].layers: 1000000 is more than the limit of 127 layers per image`}},
	}
	before := worldJSON(t, s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, e := adminJSONRequest(t, s, http.MethodPost, api.PathWorld+"/"+tt.collection, []byte(tt.body))
			assert.Equal(t, http.StatusBadRequest, st)
			assert.Equal(t, tt.want, e.Problems)
			assert.JSONEq(t, string(before), string(worldJSON(t, s)), "a refused object changes nothing")
		})
	}
	// Entra still answers on its host: no refused registry took it over.
	resp, err := s.Client().Get("https://" + world.EntraHost + "/" + s.World().Snapshot().Tenants[0].ID + "/v2.0/.well-known/openid-configuration")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
