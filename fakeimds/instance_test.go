package fakeimds

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/internal/platform/ids"
)

const bodyInstanceAPIVersion = `{"error":"Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds","newest-versions":["2025-04-07","2024-07-17","2024-03-15"]}`

func TestInstanceErrors(t *testing.T) {
	t.Parallel()
	srv := serve(t, fixedStore(t), "aks1/one")
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		status  int
		body    string
	}{
		{name: "missing api-version", path: "/metadata/instance", status: 400, body: bodyInstanceAPIVersion},
		{name: "missing api-version on compute", path: "/metadata/instance/compute?format=json", status: 400, body: bodyInstanceAPIVersion},
		{name: "invalid api-version", path: "/metadata/instance?api-version=2099-01-01", status: 400, body: bodyInstanceAPIVersion},
		{name: "empty api-version", path: "/metadata/instance?api-version=", status: 400, body: bodyInstanceAPIVersion},
		{name: "no Metadata header", path: "/metadata/instance?api-version=2021-02-01", headers: map[string]string{}, status: 400,
			body: `{"error":"Bad request. Required metadata header not specified"}`},
		{name: "X-Forwarded-For", path: "/metadata/instance?api-version=2021-02-01", headers: map[string]string{"Metadata": "true", "X-Forwarded-For": "1.2.3.4"}, status: 400,
			body: `{"error":"Bad request. Requests with the X-Forwarded-For header are not allowed"}`},
		{name: "duplicate api-version", path: "/metadata/instance?api-version=2021-02-01&api-version=2021-02-01", status: 400,
			body: `{"error":"Bad request. Query parameter 'api-version' is specified more than once"}`},
		{name: "leaf without format=text", path: "/metadata/instance/compute/location?api-version=2021-02-01", status: 400,
			body: `{"error":"Bad request. Querying a leaf node requires the format=text query parameter"}`},
		{name: "leaf with format=json", path: "/metadata/instance/compute/location?api-version=2021-02-01&format=json", status: 400,
			body: `{"error":"Bad request. Querying a leaf node requires the format=text query parameter"}`},
		{name: "format=text on a non-leaf", path: "/metadata/instance/compute?api-version=2021-02-01&format=text", status: 400,
			body: `{"error":"Bad request. format=text is only supported for leaf nodes"}`},
		{name: "unknown element", path: "/metadata/instance/compute/nope?api-version=2021-02-01&format=text", status: 404, body: `{"error":"Not found"}`},
		{name: "index out of range", path: "/metadata/instance/network/interface/7?api-version=2021-02-01", status: 404, body: `{"error":"Not found"}`},
		{name: "below a leaf", path: "/metadata/instance/compute/location/x?api-version=2021-02-01&format=text", status: 404, body: `{"error":"Not found"}`},
		{name: "unknown path", path: "/metadata/nothing", status: 404, body: `{"error":"Not found"}`},
		{name: "POST", method: http.MethodPost, path: "/metadata/instance?api-version=2021-02-01", status: 405,
			body: `{"error":"Bad request. The HTTP method POST is not supported"}`},
		{name: "versions without header", path: "/metadata/versions", headers: map[string]string{}, status: 400,
			body: `{"error":"Bad request. Required metadata header not specified"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			resp := do(t, srv, method, tc.path, tc.headers)
			assert.Equal(t, tc.status, resp.status)
			assert.Equal(t, tc.body, string(resp.body))
			assert.Equal(t, strconv.Itoa(len(tc.body)), resp.header.Get("Content-Length"))
			assert.Equal(t, "application/json; charset=utf-8", resp.header.Get("Content-Type"))
		})
	}
}

func TestInstanceAPIVersionBodyLength(t *testing.T) {
	t.Parallel()
	resp := get(t, serve(t, fixedStore(t), "one"), "/metadata/instance")
	assert.Equal(t, "190", resp.header.Get("Content-Length"))
}

func TestInstanceDocument(t *testing.T) {
	t.Parallel()
	s := fixedStore(t)
	np, ok := s.Snapshot().NodePool("aks1/one")
	require.True(t, ok)
	srv := serve(t, s, "aks1/one")

	resp := get(t, srv, "/metadata/instance?api-version=2021-02-01")
	require.Equal(t, http.StatusOK, resp.status, string(resp.body))
	var doc struct {
		Compute map[string]any `json:"compute"`
		Network struct {
			Interface []struct {
				IPv4 struct {
					IPAddress []map[string]string `json:"ipAddress"`
				} `json:"ipv4"`
				MacAddress string `json:"macAddress"`
			} `json:"interface"`
		} `json:"network"`
	}
	require.NoError(t, json.Unmarshal(resp.body, &doc))
	c := doc.Compute
	assert.Equal(t, "westeurope", c["location"])
	assert.Equal(t, np.VMSS+"_0", c["name"])
	assert.Equal(t, "MC_rg1_aks1_westeurope", c["resourceGroupName"])
	assert.Equal(t, np.VMSSResourceID+"/virtualMachines/0", c["resourceId"])
	assert.Equal(t, np.SubscriptionID, c["subscriptionId"])
	assert.Equal(t, np.VMSS, c["vmScaleSetName"])
	assert.Equal(t, "Linux", c["osType"])
	assert.Equal(t, []any{}, c["tagsList"])
	vmID, _ := c["vmId"].(string)
	assert.True(t, ids.IsGUID(vmID), vmID)
	for k, v := range c {
		switch k {
		case "tagsList", "osProfile":
		default:
			assert.IsType(t, "", v, k)
		}
	}
	require.Len(t, doc.Network.Interface, 1)
	assert.Equal(t, "10.224.0.4", doc.Network.Interface[0].IPv4.IPAddress[0]["privateIpAddress"])
	assert.Len(t, doc.Network.Interface[0].MacAddress, 12)
}

func TestInstanceRouteFilters(t *testing.T) {
	t.Parallel()
	s := fixedStore(t)
	np, ok := s.Snapshot().NodePool("aks1/one")
	require.True(t, ok)
	srv := serve(t, s, "aks1/one")
	tests := []struct {
		path, contentType, body string
	}{
		{"/metadata/instance/compute/location?api-version=2021-02-01&format=text", "text/plain; charset=utf-8", "westeurope"},
		{"/metadata/instance/compute/vmScaleSetName?format=text&api-version=2025-04-07", "text/plain; charset=utf-8", np.VMSS},
		{"/metadata/instance/network/interface/0/ipv4/ipAddress/0/privateIpAddress?api-version=2017-08-01&format=text", "text/plain; charset=utf-8", "10.224.0.4"},
		{"/metadata/instance/compute/tagsList?api-version=2021-02-01", "application/json; charset=utf-8", "[]"},
		{"/metadata/instance/compute/osProfile/?api-version=2021-02-01&format=json", "application/json; charset=utf-8",
			`{"adminUsername":"azureuser","computerName":"` + np.VMSS + `000000","disablePasswordAuthentication":"true"}`},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			resp := get(t, srv, tc.path)
			require.Equal(t, http.StatusOK, resp.status, string(resp.body))
			assert.Equal(t, tc.contentType, resp.header.Get("Content-Type"))
			assert.Equal(t, tc.body, string(resp.body))
		})
	}
	t.Run("compute for MSAL region detection", func(t *testing.T) {
		t.Parallel()
		resp := get(t, srv, "/metadata/instance/compute?api-version=2021-02-01")
		require.Equal(t, http.StatusOK, resp.status)
		var c struct{ Location string }
		require.NoError(t, json.Unmarshal(resp.body, &c))
		assert.Equal(t, "westeurope", c.Location)
	})
}

func TestVersions(t *testing.T) {
	t.Parallel()
	s := fixedStore(t)
	resp := get(t, serve(t, s, "one"), "/metadata/versions")
	require.Equal(t, http.StatusOK, resp.status)
	var v struct{ APIVersions []string }
	require.NoError(t, json.Unmarshal(resp.body, &v))
	assert.Equal(t, DefaultAPIVersions(), v.APIVersions)
	assert.Equal(t, "2017-03-01", v.APIVersions[0])

	custom := []string{"2018-02-01", "2021-02-01"}
	srv := serve(t, s, "one", WithAPIVersions(custom))
	resp = get(t, srv, "/metadata/instance?api-version=2025-04-07")
	assert.Equal(t, `{"error":"Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds","newest-versions":["2021-02-01","2018-02-01"]}`, string(resp.body))
	assert.Equal(t, http.StatusOK, get(t, srv, "/metadata/instance?api-version=2021-02-01").status)
	assert.Equal(t, http.StatusBadRequest, get(t, srv, tokenPath("api-version", "2019-08-01", "resource", arm)).status)
}
