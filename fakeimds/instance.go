package fakeimds

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/azsim/azsim/internal/platform/ids"
	"github.com/azsim/azsim/world"
)

// Instance metadata of the simulated VM (instance 0 of the pool's VMSS).
// All primitives are strings, missing values "" (protocols.md 2.6).
const (
	privateIP     = "10.224.0.4"
	subnetAddress = "10.224.0.0"
	subnetPrefix  = "16"
	vmSize        = "Standard_DS2_v2"
)

// instanceDocument builds the /metadata/instance document of the pool's
// VM. Maps marshal with sorted keys, the alphabetical order IMDS uses.
func instanceDocument(np *world.NodePoolInfo) map[string]any {
	vmID := ids.Derive("imds-vm", np.VMSSResourceID, "0")
	mac := strings.ToUpper(strings.ReplaceAll(ids.Derive("imds-mac", np.VMSSResourceID, "0"), "-", "")[:12])
	compute := map[string]any{
		"azEnvironment":              "AzurePublicCloud",
		"isHostCompatibilityLayerVm": "false",
		"licenseType":                "",
		"location":                   np.Location,
		"name":                       np.VMSS + "_0",
		"offer":                      "",
		"osProfile": map[string]any{
			"adminUsername":                 "azureuser",
			"computerName":                  np.VMSS + "000000",
			"disablePasswordAuthentication": "true",
		},
		"osType":               "Linux",
		"placementGroupId":     "",
		"platformFaultDomain":  "0",
		"platformUpdateDomain": "0",
		"priority":             "",
		"provider":             "Microsoft.Compute",
		"publisher":            "",
		"resourceGroupName":    np.ResourceGroup,
		"resourceId":           np.VMSSResourceID + "/virtualMachines/0",
		"sku":                  "",
		"subscriptionId":       np.SubscriptionID,
		"tags":                 "",
		"tagsList":             []any{},
		"userData":             "",
		"version":              "",
		"vmId":                 vmID,
		"vmScaleSetName":       np.VMSS,
		"vmSize":               vmSize,
		"zone":                 "",
	}
	iface := map[string]any{
		"ipv4": map[string]any{
			"ipAddress": []any{map[string]any{"privateIpAddress": privateIP, "publicIpAddress": ""}},
			"subnet":    []any{map[string]any{"address": subnetAddress, "prefix": subnetPrefix}},
		},
		"ipv6":       map[string]any{"ipAddress": []any{}},
		"macAddress": mac,
	}
	return map[string]any{
		"compute": compute,
		"network": map[string]any{"interface": []any{iface}},
	}
}

// instance serves GET /metadata/instance and /metadata/instance/<path>
// (protocols.md 2.6; errors 2.4): Metadata header, api-version from the
// supported list (exact 400 body otherwise), route filters into the
// document, format=text for leaves.
func (h *handler) instance(w http.ResponseWriter, r *http.Request) error {
	q, err := h.instanceQuery(r)
	if err != nil {
		return err
	}
	_, np, err := h.nodePool()
	if err != nil {
		return err
	}
	node, err := walk(instanceDocument(np), chi.URLParam(r, "*"))
	if err != nil {
		return err
	}
	format := q["format"]
	if leaf, ok := node.(string); ok {
		if format != "text" {
			return instanceError(http.StatusBadRequest, "Bad request. Querying a leaf node requires the format=text query parameter") // [L]
		}
		h.write(w, http.StatusOK, "text/plain; charset=utf-8", []byte(leaf))
		return nil
	}
	if format != "" && format != "json" {
		return instanceError(http.StatusBadRequest, "Bad request. format="+format+" is only supported for leaf nodes") // [L]
	}
	h.writeJSON(w, http.StatusOK, node)
	return nil
}

// instanceQuery checks the headers and the query of the /metadata/instance
// family.
func (h *handler) instanceQuery(r *http.Request) (map[string]string, error) {
	if err := h.checkHeaders(r, false); err != nil {
		return nil, err
	}
	q, qerr := parseQuery(r.URL.RawQuery)
	switch {
	case qerr != nil && qerr.duplicate != "":
		return nil, instanceError(http.StatusBadRequest, "Bad request. "+fill(h.opts.messages.DuplicateParameter, qerr.duplicate, "")) // [L]
	case qerr != nil:
		return nil, instanceError(http.StatusBadRequest, "Bad request. "+h.opts.messages.MalformedQuery) // [L]
	case !slices.Contains(h.opts.versions, q["api-version"]):
		return nil, badInstanceAPIVersion(h.opts.versions)
	}
	return q, nil
}

// walk follows a route filter such as "compute/location" or
// "network/interface/0/ipv4/ipAddress/0/privateIpAddress".
func walk(node any, path string) (any, error) {
	for seg := range strings.SplitSeq(strings.Trim(path, "/"), "/") {
		if seg == "" {
			continue
		}
		switch n := node.(type) {
		case map[string]any:
			v, ok := n[seg]
			if !ok {
				return nil, instanceError(http.StatusNotFound, "Not found") // [L]
			}
			node = v
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(n) {
				return nil, instanceError(http.StatusNotFound, "Not found") // [L]
			}
			node = n[i]
		default:
			return nil, instanceError(http.StatusNotFound, "Not found") // [L]
		}
	}
	return node, nil
}

// versionsResponse is the body of GET /metadata/versions (protocols.md 2.6).
type versionsResponse struct {
	APIVersions []string `json:"apiVersions"`
}

// versions serves GET /metadata/versions (protocols.md 2.6): unversioned;
// the Metadata header is required as on every IMDS endpoint [M].
func (h *handler) versions(w http.ResponseWriter, r *http.Request) error {
	if err := h.checkHeaders(r, false); err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, versionsResponse{APIVersions: h.opts.versions})
	return nil
}
