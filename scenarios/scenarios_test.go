package scenarios

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	all, err := Catalogue()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(all), 18)
	// Warm the seed directory with one run.
	first := Run(context.Background(), all[0], RunOptions{StateDir: seedDir})
	require.NoError(t, first.Err)
	for _, sc := range all {
		t.Run(sc.ID, func(t *testing.T) {
			t.Parallel()
			rep := Run(context.Background(), sc, RunOptions{StateDir: copyDir(t, seedDir)})
			require.NoError(t, rep.Err)
			for _, st := range rep.Steps {
				assert.True(t, st.Pass(), "step %d (%s %s): %s\nhops: %+v", st.Index, st.Action, st.Name, strings.Join(st.Problems, "; "), st.Hops)
			}
		})
	}
}

func TestParseRejectsBadScenarios(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{"id: Bad_ID\ntitle: t\nstory: s\nsteps: [{advanceClock: 1h}]", `id: "Bad_ID" must be`},
		{"id: x\ntitle: t\nstory: s\nsteps: []", "at least one step"},
		{"id: x\ntitle: t\nstory: s\nsteps: [{advanceClock: 1h, rotateKeys: {cluster: aks1}}]", "steps[0]: exactly one action is required, got 2"},
		{"id: x\ntitle: t\nstory: s\nsteps: [{advanceClock: 1h, expect: {hop: entra}}]", "set fail: true"},
		{"id: x\ntitle: t\nstory: s\nsteps: [{advanceClock: 1h, expect: {fail: true, hint: h}}]", "steps[0].expect.pitfall: a step that expects a hint names the pitfall"},
		{"id: x\ntitle: t\nstory: s\nsteps: [{advanceClock: 1h, expect: {pitfall: x}}]", "set fail: true"},
		{"id: x\ntitle: t\nstory: s\nworld: {extends: other}\nsteps: [{advanceClock: 1h}]", `extends: "other" must be default or none`},
		{"id: x\ntitle: t\nstory: s\nworld: {add: {identities: [{name: a, resourceGroup: nope}]}}\nsteps: [{advanceClock: 1h}]", `identities[2].resourceGroup: unknown resource group "nope"`},
		{"id: x\nnope: 1", `unknown field "nope"`},
	} {
		_, err := Parse([]byte(tc.yaml))
		require.Error(t, err, tc.yaml)
		assert.Contains(t, err.Error(), tc.want)
	}
}
