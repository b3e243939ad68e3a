package api

// EndpointsFile is the name of the file, in a simulator's state directory,
// that describes the running simulator.
const EndpointsFile = "endpoints.json"

// Endpoints describes a running simulator: `azsim up` writes it to
// <state-dir>/endpoints.json and serves it at GET /api/endpoints.
type Endpoints struct {
	// HTTPS is the address of the listener that serves every Azure host name.
	HTTPS string `json:"https"`
	// Admin is the address of the admin API (plain HTTP).
	Admin string `json:"admin"`
	// IMDS maps a node pool ("cluster/pool") to the address of its IMDS.
	IMDS map[string]string `json:"imds"`
	// CAFile is the PEM file of the simulator's CA.
	CAFile string `json:"caFile"`
	// TenantID is the ID of the world's first tenant.
	TenantID string `json:"tenantId"`
	// Hosts are the Azure host names the HTTPS listener answers.
	Hosts []string `json:"hosts"`
	// PID is the simulator's process ID (0 when unknown).
	PID int `json:"pid,omitempty"`
}
