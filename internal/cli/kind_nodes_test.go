package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/kindenv"
	"github.com/azsim/azsim/world"
)

// twoPoolWorldFile writes the default world plus node pool userpool on aks1.
func twoPoolWorldFile(t *testing.T) string {
	t.Helper()
	w := world.Default()
	w.Identities = append(w.Identities, world.Identity{Name: "userpool-addon", ResourceGroup: "MC_rg-azsim_aks1_eastus"})
	w.Clusters[0].NodePools = append(w.Clusters[0].NodePools,
		world.NodePool{Name: "userpool", Identities: []string{"aks1-agentpool", "userpool-addon"}})
	path := filepath.Join(t.TempDir(), "world.yaml")
	require.NoError(t, os.WriteFile(path, mustYAML(t, w), 0o644))
	return path
}

func TestKindNodePools(t *testing.T) {
	w, _, err := loadWorld(twoPoolWorldFile(t))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		f    kindUpFlags
		want []kindenv.PoolNodes
	}{
		{"unset: one node", kindUpFlags{}, nil},
		{"default counts", kindUpFlags{nodePools: "nodepool1,userpool", nodePoolsSet: true}, []kindenv.PoolNodes{{Pool: "nodepool1", Count: 1}, {Pool: "userpool", Count: 1}}},
		{"counts", kindUpFlags{nodePools: "userpool=2,nodepool1=3", nodePoolsSet: true, cluster: "aks1"}, []kindenv.PoolNodes{{Pool: "userpool", Count: 2}, {Pool: "nodepool1", Count: 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kindNodePools(w, tc.f)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// Bad --node-pools values are usage errors (exit 2) reported all at once,
// each naming the bad value, before anything is built or started.
func TestKindUpNodePoolsUsage(t *testing.T) {
	worldFile := twoPoolWorldFile(t)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown pools and bad counts", []string{"--node-pools", "nope,userpool=0,nodepool1=x,other=2"}, []string{
			`--node-pools "nope,userpool=0,nodepool1=x,other=2":`,
			`"userpool=0": COUNT must be an integer from 1 to 10`,
			`"nodepool1=x": COUNT must be an integer from 1 to 10`,
			`"nope": world cluster aks1 has no node pool "nope" (it has nodepool1, userpool)`,
			`"other": world cluster aks1 has no node pool "other"`,
		}},
		{"empty", []string{"--node-pools", ""}, []string{`--node-pools "":`, "empty list"}},
		{"duplicate and empty entry", []string{"--node-pools", "userpool,,userpool=2"}, []string{`"": empty entry`, `"userpool=2": pool userpool is listed twice`}},
		{"with --node-pool", []string{"--node-pools", "userpool", "--node-pool", "nodepool1"}, []string{`--node-pool "nodepool1": it names the pool of a single-node cluster`}},
		{"unknown cluster", []string{"--node-pools", "userpool", "--cluster", "aks9"}, []string{`the world has no cluster "aks9"`}},
		{"too many", []string{"--node-pools", "userpool=11"}, []string{`"userpool=11": COUNT must be an integer from 1 to 10`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"kind", "up", "--name", "azsim-mn-usage", "--state-dir", t.TempDir(), "--config", worldFile}, tc.args...)
			code := Main(args, nil, &out, &errb)
			require.Equal(t, ExitUsage, code, "stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
			for _, w := range tc.want {
				assert.Contains(t, errb.String(), w)
			}
			assert.Empty(t, out.String(), "nothing is started")
		})
	}
}
