// Package kindstate is what `azsim kind up` records and what every part of
// the kind integration agrees on: the state directory's files, the
// simulator container's ports and names, and kind.json (Env).
package kindstate

// Ports of the simulator container (on the kind network).
const (
	SimHTTPSPort = 443
	SimAdminPort = 8078
	// SimIMDSBasePort is the IMDS port of the world's first node pool; the
	// i-th pool (world order) listens on SimIMDSBasePort+i.
	SimIMDSBasePort = 8079
	// SimImage is the tag of azsim's own image in the engine and the nodes.
	SimImage = "azsim:kind"
	// StateMount is where the container sees the state directory.
	StateMount = "/var/lib/azsim"
)

// Files of a kind state directory (besides the simulator's own).
const (
	AdminTokenFile = "admin-token"
	KubeconfigFile = "kubeconfig"
	KindInfoFile   = "kind.json"
	// WorldFile is the world the simulator container started with.
	WorldFile = "kind-world.json"
	// NodeDirName is the directory of the files every node mounts.
	NodeDirName = "kind-node"
)
