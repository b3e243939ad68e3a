package embedded_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/scenarios/embedded"
)

// seedDir holds keys generated once; each scenario copies it, so runs do not
// pay for RSA key generation and cannot disturb each other.
var seedDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "azsim-scenarios-seed-")
	if err != nil {
		panic(err)
	}
	seedDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode())
	})
	require.NoError(t, err)
	return dst
}

// TestCatalogue runs every scenario; each fails if its expected error or
// hint changes.
func TestCatalogue(t *testing.T) {
	all, err := scenarios.Catalogue()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(all), 18)
	// Warm the seed directory with one run.
	first := scenarios.Run(context.Background(), all[0], scenarios.RunOptions{Target: embedded.New(seedDir)})
	require.NoError(t, first.Err)
	for _, sc := range all {
		t.Run(sc.ID, func(t *testing.T) {
			t.Parallel()
			rep := scenarios.Run(context.Background(), sc, scenarios.RunOptions{Target: embedded.New(copyDir(t, seedDir))})
			require.NoError(t, rep.Err)
			for _, st := range rep.Steps {
				assert.True(t, st.Pass(), "step %d (%s %s): %s\nhops: %+v", st.Index, st.Action, st.Name, strings.Join(st.Problems, "; "), st.Hops)
			}
		})
	}
}
