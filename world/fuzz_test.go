package world

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParse feeds arbitrary bytes to Parse and Compile: they may reject
// them, but must never panic, and whatever compiles must compile again.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		require.NoError(f, err)
		for _, p := range files {
			data, err := os.ReadFile(p)
			require.NoError(f, err)
			f.Add(data)
		}
	}
	f.Add([]byte(`{"apiVersion":"azsim.dev/v1alpha1","kind":"World"}`))
	f.Add([]byte("roleAssignments: [{effectiveAfter: 1e300}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := Parse(data)
		if err != nil {
			return
		}
		ix, err := Compile(w, t0)
		if err != nil {
			return
		}
		_, err = Compile(ix.World, t0)
		require.NoError(t, err, "a compiled world compiles again")
		for _, r := range ix.Registries {
			for _, p := range ix.Principals {
				ix.RepositoryActions(p.ObjectID, r, "hello", t0)
				ix.CatalogAllowed(p.ObjectID, r, t0)
			}
		}
		ix.Hosts()
		ix.NodePools()
	})
}
