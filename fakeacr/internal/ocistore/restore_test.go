package ocistore

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func indexOf(t *testing.T, children ...[]byte) []byte {
	t.Helper()
	var ds []v1.Descriptor
	for _, c := range children {
		var m struct{ MediaType types.MediaType }
		require.NoError(t, json.Unmarshal(c, &m))
		h, err := v1.NewHash(digestOf(c))
		require.NoError(t, err)
		ds = append(ds, v1.Descriptor{MediaType: m.MediaType, Size: int64(len(c)), Digest: h})
	}
	b, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: ds})
	require.NoError(t, err)
	return b
}

func status(r *Registry, method, path string) int {
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code
}

// TestDiskStoreAlwaysReopens: ordinary index workflows leave a store that
// reopens and serves everything; what cannot be restored is counted and
// the rest is served.
func TestDiskStoreAlwaysReopens(t *testing.T) {
	t.Parallel()
	oci, idx := string(types.OCIManifestSchema1), string(types.OCIImageIndex)
	for _, tc := range []struct {
		name       string
		act        func(t *testing.T, r *Registry, img1, img2 []byte)
		served     []string
		unrestored int
	}{
		{"index whose child tag is overwritten", func(t *testing.T, r *Registry, img1, img2 []byte) {
			require.Equal(t, 201, putManifest(r, "app", "child", oci, img1).Code)
			require.Equal(t, 201, putManifest(r, "app", "multi", idx, indexOf(t, img1)).Code)
			require.Equal(t, 201, putManifest(r, "app", "child", oci, img2).Code)
		}, []string{"multi", "child"}, 0},
		{"index whose child tag is deleted", func(t *testing.T, r *Registry, img1, _ []byte) {
			require.Equal(t, 201, putManifest(r, "app", "child", oci, img1).Code)
			require.Equal(t, 201, putManifest(r, "app", "multi", idx, indexOf(t, img1)).Code)
			require.Equal(t, 202, status(r, http.MethodDelete, "/v2/app/manifests/child"))
		}, []string{"multi"}, 0},
		{"nested index whose outer tag sorts first", func(t *testing.T, r *Registry, img1, _ []byte) {
			inner := indexOf(t, img1)
			require.Equal(t, 201, putManifest(r, "app", "child", oci, img1).Code)
			require.Equal(t, 201, putManifest(r, "app", "b-inner", idx, inner).Code)
			require.Equal(t, 201, putManifest(r, "app", "a-outer", idx, indexOf(t, inner)).Code)
		}, []string{"a-outer", "b-inner", "child"}, 0},
		{"index whose child is gone, and a torn manifest file", func(t *testing.T, r *Registry, img1, img2 []byte) {
			require.Equal(t, 201, putManifest(r, "app", digestOf(img1), oci, img1).Code)
			require.Equal(t, 201, putManifest(r, "app", "multi", idx, indexOf(t, img1)).Code)
			require.Equal(t, 201, putManifest(r, "app", "other", oci, img2).Code)
			require.Equal(t, 202, status(r, http.MethodDelete, "/v2/app/manifests/"+digestOf(img1)))
		}, []string{"other"}, 3}, // the index under its tag and its digest, the torn file
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := open(t, dir)
			cfg := putBlob(t, r, "app", []byte(`{"os":"linux"}`))
			img1 := imageManifest(t, cfg, putBlob(t, r, "app", []byte("one")))
			img2 := imageManifest(t, cfg, putBlob(t, r, "app", []byte("two")))
			tc.act(t, r, img1, img2)
			if tc.unrestored > 0 {
				torn := filepath.Join(dir, loginServer, "manifests", "torn.json")
				require.NoError(t, os.WriteFile(torn, []byte(`{"repository":"app","refer`), 0o600))
			}

			again, err := Open(t.Context(), dir, loginServer)
			require.NoError(t, err, "a store always reopens")
			assert.Equal(t, tc.unrestored, again.Unrestored())
			for _, ref := range tc.served {
				assert.Equal(t, http.StatusOK, status(again, http.MethodGet, "/v2/app/manifests/"+ref), ref)
			}
		})
	}
}
