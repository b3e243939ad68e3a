package simcontainer

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/world"
)

// The world the container loads is the user's with each pool's IMDS on its
// container port; it must parse back (strict) and compile.
func TestWorldForContainer(t *testing.T) {
	w := world.Default()
	b, err := WorldForContainer(w, map[string]int{"aks1/nodepool1": 8079})
	require.NoError(t, err)
	got, err := world.Parse(b)
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:8079", got.Clusters[0].NodePools[0].IMDSAddress)
	_, err = world.Compile(got, world.NewSimClock().Now())
	require.NoError(t, err)
	require.Empty(t, w.Clusters[0].NodePools[0].IMDSAddress, "the caller's world is not changed")
}
