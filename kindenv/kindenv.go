package kindenv

import (
	"context"

	"github.com/azsim/azsim/kindenv/internal/kindcluster"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
)

// Env is a wired cluster and its simulator, as recorded in the state
// directory's kind.json.
type Env = kindstate.Env

// PoolNodes is one entry of `kind up --node-pools`: Count worker nodes
// playing the world node pool Pool.
type PoolNodes = kindstate.PoolNodes

// Choice is the node image a cluster is created with, and why.
type Choice = kindcluster.Choice

// Names `kind up` gives what it makes.
const (
	// AdminTokenFile is the admin API's token in the state directory.
	AdminTokenFile = kindstate.AdminTokenFile
	// SimImage is the tag of azsim's own image in the engine and the nodes.
	SimImage = kindstate.SimImage
)

// ContainerName is the simulator container of kind cluster name.
func ContainerName(name string) string { return kindstate.ContainerName(name) }

// ChooseNodeImage picks the stock kindest/node image when it is present
// locally or its registry answers, and azsim's offline image otherwise
// ($AZSIM_KIND_NODE_IMAGE overrides both).
func ChooseNodeImage(ctx context.Context) Choice {
	return kindcluster.ChooseNodeImage(ctx, kindcluster.ChooseOptions{})
}

// LoadDockerImage saves image from the Docker engine and loads it into
// every node of kind cluster name.
func LoadDockerImage(ctx context.Context, name, image string) error {
	return kindcluster.LoadDockerImage(ctx, name, image)
}
