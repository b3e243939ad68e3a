package sim_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
)

// TestRegistryManifestThatCannotBeStoredIsRefused: when registry storage
// cannot record a manifest (here a file stands where its directory must
// be), the push is answered 500 with the registry's error envelope and the
// manifest is not served.
func TestRegistryManifestThatCannotBeStoredIsRefused(t *testing.T) {
	t.Parallel()
	storage := t.TempDir()
	c := registryClient{t: t, s: simtest.Start(t, storageWorld(), sim.WithRegistryStorage(storage))}
	good := ociManifest(c.blob("team/app", []byte("{}")), c.blob("team/app", []byte("layer")))
	manifests := filepath.Join(storage, "azsimacr.azurecr.io", "manifests")
	require.NoError(t, os.RemoveAll(manifests))
	require.NoError(t, os.WriteFile(manifests, nil, 0o600))

	st, h, body := c.do(http.MethodPut, "/v2/team/app/manifests/v1", "application/vnd.oci.image.manifest.v1+json", good)
	assert.Equal(t, http.StatusInternalServerError, st)
	assert.Equal(t, `{"errors":[{"code":"UNKNOWN","message":"storing manifest"}]}`+"\n", body)
	assert.Equal(t, "application/json; charset=utf-8", h.Get("Content-Type"))
	for _, ref := range []string{"v1", sha256Digest(good)} {
		st, _, body = c.do(http.MethodGet, "/v2/team/app/manifests/"+ref, "", nil)
		assert.Equal(t, http.StatusNotFound, st, "%s: %s", ref, body)
	}
}
