package ocistore

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get is the status and Docker-Content-Digest of GET repo app's ref.
func get(r *Registry, ref string) (int, string) {
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/app/manifests/"+ref, nil))
	return rec.Code, rec.Header().Get("Docker-Content-Digest")
}

func manifestPath(dir, ref string) string {
	return (&diskStore{root: filepath.Join(dir, loginServer)}).manifestFile("app", ref)
}

// TestFailedManifestSaveFailsThePush: a manifest that cannot be recorded
// (here a directory stands where its tag or digest file must go) is
// refused with the registry's error envelope, is not served, and leaves no
// file a restart would restore; a tag that was to move keeps its manifest.
func TestFailedManifestSaveFailsThePush(t *testing.T) {
	t.Parallel()
	oci := string(types.OCIManifestSchema1)
	const byDigest = "" // stands for the digest of the pushed manifest
	for _, tc := range []struct {
		name         string
		ref, blocked string
		before       bool // v1 names img1 before img2 is pushed
	}{
		{"tag file", "v1", "v1", false},
		{"digest file of a push by tag", "v1", byDigest, false},
		{"digest file of a push by digest", byDigest, byDigest, false},
		{"digest file of a tag that moves", "v1", byDigest, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := open(t, dir)
			cfg := putBlob(t, r, "app", []byte(`{"os":"linux"}`))
			img1 := imageManifest(t, cfg, putBlob(t, r, "app", []byte("one")))
			img2 := imageManifest(t, cfg, putBlob(t, r, "app", []byte("two")))
			if tc.before {
				require.Equal(t, http.StatusCreated, putManifest(r, "app", "v1", oci, img1).Code)
			}
			refOf := func(ref string) string {
				if ref == byDigest {
					return digestOf(img2)
				}
				return ref
			}
			blocked := manifestPath(dir, refOf(tc.blocked))
			require.NoError(t, os.Mkdir(blocked, 0o700))
			files, err := filepath.Glob(filepath.Join(dir, loginServer, "manifests", "*"))
			require.NoError(t, err)

			rec := putManifest(r, "app", refOf(tc.ref), oci, img2)
			assert.Equal(t, http.StatusInternalServerError, rec.Code)
			assert.Equal(t, `{"errors":[{"code":"UNKNOWN","message":"storing manifest"}]}`+"\n", rec.Body.String())
			assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
			after, err := filepath.Glob(filepath.Join(dir, loginServer, "manifests", "*"))
			require.NoError(t, err)
			assert.ElementsMatch(t, files, after, "no manifest file is left half-written")

			require.NoError(t, os.Remove(blocked))
			again := open(t, dir)
			assert.Equal(t, 0, again.Unrestored())
			for name, reg := range map[string]*Registry{"running": r, "reopened": again} {
				st, _ := get(reg, digestOf(img2))
				assert.Equal(t, http.StatusNotFound, st, "%s: the refused manifest is not served by digest", name)
				st, d := get(reg, "v1")
				if tc.before {
					assert.Equal(t, http.StatusOK, st, name)
					assert.Equal(t, digestOf(img1), d, "%s: the tag keeps its manifest", name)
				} else {
					assert.Equal(t, http.StatusNotFound, st, "%s: the refused manifest is not served by tag", name)
				}
			}
		})
	}
}

// TestDeleteByDigestDeletesItsTags: a manifest deleted by digest takes
// every tag naming it along, and stays deleted after a restart; other
// tags stay.
func TestDeleteByDigestDeletesItsTags(t *testing.T) {
	t.Parallel()
	oci := string(types.OCIManifestSchema1)
	for _, store := range []struct{ name, dir string }{{"memory", ""}, {"disk", t.TempDir()}} {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			r := open(t, store.dir)
			cfg := putBlob(t, r, "app", []byte(`{"os":"linux"}`))
			img1 := imageManifest(t, cfg, putBlob(t, r, "app", []byte("one")))
			img2 := imageManifest(t, cfg, putBlob(t, r, "app", []byte("two")))
			for _, tag := range []string{"v1", "latest"} {
				require.Equal(t, http.StatusCreated, putManifest(r, "app", tag, oci, img1).Code)
			}
			require.Equal(t, http.StatusCreated, putManifest(r, "app", "other", oci, img2).Code)
			require.Equal(t, http.StatusAccepted, status(r, http.MethodDelete, "/v2/app/manifests/"+digestOf(img1)))

			regs := map[string]*Registry{"running": r}
			if store.dir != "" {
				again := open(t, store.dir)
				assert.Equal(t, 0, again.Unrestored())
				regs["reopened"] = again
			}
			for name, reg := range regs {
				for _, ref := range []string{"v1", "latest", digestOf(img1)} {
					rec := httptest.NewRecorder()
					reg.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/app/manifests/"+ref, nil))
					assert.Equal(t, http.StatusNotFound, rec.Code, "%s: %s", name, ref)
					assert.Contains(t, rec.Body.String(), `"code":"MANIFEST_UNKNOWN"`, "%s: %s", name, ref)
				}
				st, d := get(reg, "other")
				assert.Equal(t, http.StatusOK, st, name)
				assert.Equal(t, digestOf(img2), d, name)
				rec := httptest.NewRecorder()
				reg.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/app/tags/list", nil))
				var list struct{ Tags []string }
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list), rec.Body.String())
				assert.Equal(t, []string{"other"}, list.Tags, name)
			}
		})
	}
}
