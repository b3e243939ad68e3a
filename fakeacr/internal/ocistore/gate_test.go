package ocistore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// putBlob uploads b monolithically to repo.
func putBlob(t *testing.T, r *Registry, repo string, b []byte) v1.Descriptor {
	t.Helper()
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v2/"+repo+"/blobs/uploads/", nil))
	require.Equal(t, http.StatusAccepted, rec.Code)
	rec2 := httptest.NewRecorder()
	r.ServeHTTP(rec2, httptest.NewRequest(http.MethodPut, rec.Header().Get("Location")+"?digest="+digestOf(b), bytes.NewReader(b)))
	require.Equal(t, http.StatusCreated, rec2.Code, rec2.Body.String())
	h, err := v1.NewHash(digestOf(b))
	require.NoError(t, err)
	return v1.Descriptor{MediaType: types.OCILayer, Size: int64(len(b)), Digest: h}
}

func imageManifest(t *testing.T, config v1.Descriptor, layers ...v1.Descriptor) []byte {
	t.Helper()
	config.MediaType = types.OCIConfigJSON
	b, err := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: config, Layers: layers})
	require.NoError(t, err)
	return b
}

func putManifest(r *Registry, repo, ref, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPut, "/v2/"+repo+"/manifests/"+ref, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

func fakeDesc(s string) v1.Descriptor {
	h, _ := v1.NewHash(digestOf([]byte(s)))
	return v1.Descriptor{MediaType: types.OCILayer, Size: int64(len(s)), Digest: h}
}

// TestManifestPushesACRRefuses: both stores refuse what ACR refuses, with
// ACR's status and body (protocols.md 3.8), and store nothing.
func TestManifestPushesACRRefuses(t *testing.T) {
	t.Parallel()
	for _, store := range []struct{ name, dir string }{{"memory", ""}, {"disk", t.TempDir()}} {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			r := open(t, store.dir)
			cfg := putBlob(t, r, "team/app", []byte(`{"architecture":"amd64","os":"linux"}`))
			layer := putBlob(t, r, "team/app", []byte("layer"))
			good := imageManifest(t, cfg, layer)
			absent := fakeDesc("never uploaded")
			other := putBlob(t, r, "team/other", []byte("other repository"))
			huge := append(append([]byte(`{"schemaVersion":2,"x":"`), bytes.Repeat([]byte("a"), 5<<20)...), '"', '}')
			index, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex,
				Manifests: []v1.Descriptor{{MediaType: types.OCIManifestSchema1, Size: 10, Digest: absent.Digest}}})
			require.NoError(t, err)
			oci := string(types.OCIManifestSchema1)
			invalid := `{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":{"Reason":{}}}]}` + "\n"
			blobUnknown := func(ds ...v1.Descriptor) string {
				var e []string
				for _, d := range ds {
					e = append(e, `{"code":"MANIFEST_BLOB_UNKNOWN","message":"blob unknown to registry","detail":"`+d.Digest.String()+`"}`)
				}
				return `{"errors":[` + strings.Join(e, ",") + `]}` + "\n"
			}
			for _, tc := range []struct {
				name, ref, contentType string
				body                   []byte
				status                 int
				want                   string
			}{
				{"digest not of the body", digestOf([]byte("else")), oci, good, 400,
					`{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content","detail":"digest parsing failed"}]}` + "\n"},
				{"malformed digest", "sha256:abc", oci, good, 400, `"code":"DIGEST_INVALID"`},
				{"tag of 200 characters", strings.Repeat("t", 200), oci, good, 400,
					`{"errors":[{"code":"TAG_INVALID","message":"manifest tag did not match URI"}]}` + "\n"},
				{"tag starting with a dot", ".v1", oci, good, 400, `"code":"TAG_INVALID"`},
				{"tag with a colon", "v1:x", oci, good, 400, `"code":"DIGEST_INVALID"`},
				{"body not JSON", "v1", oci, []byte("not json"), 400, invalid},
				{"sent as text/plain", "v1", "text/plain", good, 400, invalid},
				{"no content type, no mediaType", "v1", "", []byte(`{"schemaVersion":2}`), 400, invalid},
				{"content type contradicting mediaType", "v1", string(types.DockerManifestSchema2), good, 400, invalid},
				{"schema version 1", "v1", oci, []byte(`{"schemaVersion":1,"mediaType":"` + oci + `"}`), 400, invalid},
				{"image without config", "v1", oci, []byte(`{"schemaVersion":2,"mediaType":"` + oci + `","layers":[]}`), 400, invalid},
				{"layer never uploaded", "v1", oci, imageManifest(t, cfg, layer, absent), 400, blobUnknown(absent)},
				{"layer of another repository", "v1", oci, imageManifest(t, cfg, other), 400, blobUnknown(other)},
				{"config and layer never uploaded", "v1", oci, imageManifest(t, absent, fakeDesc("x")), 400, blobUnknown(absent, fakeDesc("x"))},
				{"index naming an absent manifest", "v1", string(types.OCIImageIndex), index, 400, blobUnknown(absent)},
				{"5 MiB manifest", "v1", oci, huge, 413, `"code":"MANIFEST_INVALID"`},
			} {
				t.Run(tc.name, func(t *testing.T) {
					rec := putManifest(r, "team/app", tc.ref, tc.contentType, tc.body)
					assert.Equal(t, tc.status, rec.Code, rec.Body.String())
					assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
					if strings.HasPrefix(tc.want, "{") {
						assert.Equal(t, tc.want, rec.Body.String())
					} else {
						assert.Contains(t, rec.Body.String(), tc.want)
					}
				})
			}
			get := httptest.NewRecorder()
			r.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/v2/team/app/manifests/v1", nil))
			assert.Equal(t, http.StatusNotFound, get.Code, "nothing refused was stored")

			for _, ref := range []string{"v1", "_x", "A.b-c_" + strings.Repeat("d", 121), digestOf(good)} {
				rec := putManifest(r, "team/app", ref, oci, good)
				assert.Equal(t, http.StatusCreated, rec.Code, "control %s: %s", ref, rec.Body.String())
			}
			rec := putManifest(r, "team/app", "nomediatype", "", good)
			assert.Equal(t, http.StatusCreated, rec.Code, "the body's mediaType stands for an absent header")
		})
	}
}
