package kindstate

import "github.com/azsim/azsim/api"

// Env is a wired cluster and its simulator, as recorded in kind.json.
type Env struct {
	Name       string `json:"name"`
	StateDir   string `json:"stateDir"`
	Kubeconfig string `json:"kubeconfig"`
	NodeImage  string `json:"nodeImage"`
	// Container is the simulator's container; SimIP its address on the
	// kind network.
	Container string `json:"container"`
	SimIP     string `json:"simIP"`
	// WorldCluster and NodePool are what the kind cluster plays; NodePool
	// is the single node's pool, or the first of NodePools.
	WorldCluster string `json:"worldCluster"`
	NodePool     string `json:"nodePool"`
	// NodePools is the multi-node topology asked for (empty: one node).
	NodePools []PoolNodes `json:"nodePools,omitempty"`
	// Nodes maps every node to the pool it plays, its IMDS and pod subnet.
	Nodes []NodeInfo `json:"nodes"`
	// CNI is how pods reach each other: CNIKindnet, CNIStaticPTP or
	// CNIStaticPTPRoutes.
	CNI       string `json:"cni"`
	IssuerURL string `json:"issuerURL"`
	// KID is the service-account signing key's kid (JWKS of the issuer).
	KID string `json:"kid"`
	// Endpoints as seen from the host (published on loopback).
	Endpoints api.Endpoints `json:"endpoints"`
	// AdminToken authenticates the admin API.
	AdminToken string `json:"-"`
	// Timings of the steps, for the README.
	Timings map[string]string `json:"timings"`
}

// ContainerName is the simulator container of kind cluster name.
func ContainerName(name string) string { return "azsim-sim-" + name }

// Node roles, as kind names them.
const (
	RoleControlPlane = "control-plane"
	RoleWorker       = "worker"
)

// CNI modes recorded in Env.CNI.
const (
	// CNIKindnet is the stock node image's kindnetd (kind's default CNI).
	CNIKindnet = "kindnetd"
	// CNIStaticPTP is the offline image's static ptp conflist (one node).
	CNIStaticPTP = "ptp"
	// CNIStaticPTPRoutes is a ptp conflist per node (its own /24, mounted
	// over the image's) plus static routes to the other nodes' subnets.
	CNIStaticPTPRoutes = "ptp+routes"
)

// PoolNodes is one entry of `kind up --node-pools`: Count worker nodes
// playing the world node pool Pool.
type PoolNodes struct {
	Pool  string `json:"pool"`
	Count int    `json:"count"`
}

// NodeInfo is one node of the kind cluster and what it plays, as recorded
// in kind.json.
type NodeInfo struct {
	// Name is the node container's name and the Kubernetes node name.
	Name string `json:"name"`
	// Role is RoleControlPlane or RoleWorker.
	Role string `json:"role"`
	// Pool is the world node pool whose agent-pool labels the node carries
	// (empty for the dedicated control plane of a multi-node cluster).
	Pool string `json:"pool,omitempty"`
	// IMDSPool is the pool whose IMDS 169.254.169.254 reaches on the node.
	IMDSPool string `json:"imdsPool"`
	// PodSubnet is the node's host-local range (offline image only).
	PodSubnet string `json:"podSubnet,omitempty"`
	// IP is the node's address on the kind network; IMDS the DNAT target.
	IP   string `json:"ip,omitempty"`
	IMDS string `json:"imds,omitempty"`
}
