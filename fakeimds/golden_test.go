package fakeimds

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./fakeimds -run %s -update", t.Name())
	assert.Equal(t, string(want), string(got))
}

// TestGoldenTokenResponse pins the success body shape (protocols.md 2.2)
// on the fixed clock; the signed token is masked.
func TestGoldenTokenResponse(t *testing.T) {
	t.Parallel()
	resp := get(t, serve(t, fixedStore(t), "aks1/one"), tokenPath("api-version", "2018-02-01", "resource", arm))
	require.Equal(t, http.StatusOK, resp.status, string(resp.body))
	tr := decodeToken(t, resp.body)
	masked := bytes.Replace(resp.body, []byte(tr.AccessToken), []byte("<masked JWT>"), 1)
	golden(t, "token_success.json", masked)
}

// TestGoldenInstanceDocument pins the /metadata/instance document
// (protocols.md 2.6).
func TestGoldenInstanceDocument(t *testing.T) {
	t.Parallel()
	resp := get(t, serve(t, fixedStore(t), "aks1/one"), "/metadata/instance?api-version=2021-02-01")
	require.Equal(t, http.StatusOK, resp.status, string(resp.body))
	var indented bytes.Buffer
	require.NoError(t, json.Indent(&indented, resp.body, "", "  "))
	golden(t, "instance.json", append(indented.Bytes(), '\n'))
}
