package sim_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
	"github.com/azsim/azsim/world"
)

const storagePassword = "storage-test-password"

func storageWorld() *world.World {
	w := world.Default()
	w.Registries[0].AdminUser = &world.AdminUser{Enabled: true, Password: storagePassword}
	return w
}

// TestRegistryStorageSurvivesRestart: with WithRegistryStorage a pushed
// image (blobs, links, manifest, tag) is served again by a new simulator on
// the same directories, and the seeded images still work.
func TestRegistryStorageSurvivesRestart(t *testing.T) {
	t.Parallel()
	stateDir, storage := t.TempDir(), t.TempDir()
	start := func() *sim.Sim {
		s, err := sim.New(sim.WithWorld(storageWorld()), sim.WithStateDir(stateDir), sim.WithRegistryStorage(storage),
			sim.WithHTTPSAddr("127.0.0.1:0"), sim.WithIMDSAddr("127.0.0.1:0"), sim.WithAdminAddr("127.0.0.1:0"))
		require.NoError(t, err)
		require.NoError(t, s.Start(context.Background()))
		return s
	}
	admin := remote.WithAuth(&authn.Basic{Username: "azsimacr", Password: storagePassword})
	img, err := random.Image(300<<10, 4)
	require.NoError(t, err)
	want, err := img.Digest()
	require.NoError(t, err)
	ref, err := name.ParseReference("azsimacr.azurecr.io/team/app:v1")
	require.NoError(t, err)

	s1 := start()
	require.NoError(t, remote.Write(ref, img, remote.WithTransport(s1.Transport()), admin))
	s1.Close()

	// The blobs are on disk, each under its digest.
	blobs, err := filepath.Glob(filepath.Join(storage, "azsimacr.azurecr.io", "blobs", "sha256", "*"))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(blobs), 5, "4 layers and a config")
	for _, b := range blobs {
		data, err := os.ReadFile(b)
		require.NoError(t, err)
		sum := sha256.Sum256(data)
		assert.Equal(t, filepath.Base(b), hex.EncodeToString(sum[:]))
	}

	s2 := start()
	defer s2.Close()
	got, err := remote.Image(ref, remote.WithTransport(s2.Transport()), admin)
	require.NoError(t, err, "the pushed image is served after the restart")
	d, err := got.Digest()
	require.NoError(t, err)
	assert.Equal(t, want, d)
	ls, err := got.Layers()
	require.NoError(t, err)
	for _, l := range ls {
		rc, err := l.Compressed() // verifies the digest
		require.NoError(t, err)
		_, err = bytes.NewBuffer(nil).ReadFrom(rc)
		require.NoError(t, err)
		rc.Close()
	}
	hello, err := name.ParseReference("azsimacr.azurecr.io/hello:v1")
	require.NoError(t, err)
	_, err = remote.Image(hello, remote.WithTransport(s2.Transport()), admin)
	assert.NoError(t, err, "seeded images are served too")

	// A blob is known only in the repository it was pushed to.
	other, err := name.ParseReference("azsimacr.azurecr.io/other:v1")
	require.NoError(t, err)
	cfg, err := img.ConfigName()
	require.NoError(t, err)
	l, err := remote.Layer(other.Context().Digest(cfg.String()), remote.WithTransport(s2.Transport()), admin)
	if err == nil {
		_, err = l.Compressed()
	}
	assert.Error(t, err, "not linked to another repository")
}

// TestRegistryStorageUploads: chunked uploads stream to disk, a wrong
// Content-Range or digest is refused in the registry's format, and nothing
// is stored for a refused upload.
func TestRegistryStorageUploads(t *testing.T) {
	t.Parallel()
	storage := t.TempDir()
	s := simtest.Start(t, storageWorld(), sim.WithRegistryStorage(storage))
	c := s.Client()
	do := func(method, path string, body []byte, hdr ...string) *http.Response {
		req, err := http.NewRequest(method, "https://azsimacr.azurecr.io"+path, bytes.NewReader(body))
		require.NoError(t, err)
		req.SetBasicAuth("azsimacr", storagePassword)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	sum := sha256.Sum256(data)
	digest := "sha256:" + hex.EncodeToString(sum[:])

	start := do(http.MethodPost, "/v2/up/blobs/uploads/", nil)
	require.Equal(t, http.StatusAccepted, start.StatusCode)
	loc := start.Header.Get("Location")
	r := do(http.MethodPatch, loc, data[:1000], "Content-Range", "0-999", "Content-Type", "application/octet-stream")
	require.Equal(t, http.StatusAccepted, r.StatusCode)
	assert.Equal(t, "0-999", r.Header.Get("Range"))
	r = do(http.MethodPatch, loc, data[1000:2000], "Content-Range", "5-1004")
	assert.Equal(t, http.StatusRequestedRangeNotSatisfiable, r.StatusCode, "a gap is refused")
	r = do(http.MethodPatch, loc, data[1000:], "Content-Range", "1000-"+itoa(len(data)-1))
	require.Equal(t, http.StatusAccepted, r.StatusCode)
	r = do(http.MethodPut, loc+"?digest="+digest, nil)
	require.Equal(t, http.StatusCreated, r.StatusCode)
	assert.Equal(t, digest, r.Header.Get("Docker-Content-Digest"))
	r = do(http.MethodHead, "/v2/up/blobs/"+digest, nil)
	assert.Equal(t, http.StatusOK, r.StatusCode)
	assert.Equal(t, int64(len(data)), r.ContentLength)

	// A wrong digest: refused, nothing stored.
	start = do(http.MethodPost, "/v2/up/blobs/uploads/", nil)
	require.Equal(t, http.StatusAccepted, start.StatusCode)
	bad := "sha256:" + hex.EncodeToString(make([]byte, 32))
	r = do(http.MethodPut, start.Header.Get("Location")+"?digest="+bad, []byte("not the content"))
	assert.Equal(t, http.StatusBadRequest, r.StatusCode)
	_, err := os.Stat(filepath.Join(storage, "azsimacr.azurecr.io", "blobs", "sha256", hex.EncodeToString(make([]byte, 32))))
	assert.ErrorIs(t, err, os.ErrNotExist)
	left, err := os.ReadDir(filepath.Join(storage, "azsimacr.azurecr.io", "uploads"))
	require.NoError(t, err)
	assert.Empty(t, left, "no upload file is left behind")
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestRegistryStorageReopensAfterIndexWorkflows: with registry storage a
// simulator always starts again, after a graceful stop or none (the state
// kill -9 leaves), on what ordinary index workflows leave: an index whose
// child tag was overwritten, a nested index whose outer tag sorts before
// the inner one. Everything pushed is served after the restart.
func TestRegistryStorageReopensAfterIndexWorkflows(t *testing.T) {
	t.Parallel()
	for _, graceful := range []bool{true, false} {
		t.Run(map[bool]string{true: "after Close", false: "without Close"}[graceful], func(t *testing.T) {
			t.Parallel()
			stateDir, storage := t.TempDir(), t.TempDir()
			start := func() *sim.Sim {
				s, err := sim.New(sim.WithWorld(storageWorld()), sim.WithStateDir(stateDir), sim.WithRegistryStorage(storage),
					sim.WithHTTPSAddr("127.0.0.1:0"), sim.WithIMDSAddr("127.0.0.1:0"), sim.WithAdminAddr("127.0.0.1:0"))
				require.NoError(t, err)
				require.NoError(t, s.Start(context.Background()))
				t.Cleanup(s.Close)
				return s
			}
			auth := remote.WithAuth(&authn.Basic{Username: "azsimacr", Password: storagePassword})
			ref := func(s string) name.Reference {
				r, err := name.ParseReference("azsimacr.azurecr.io/team/multi:" + s)
				require.NoError(t, err)
				return r
			}
			img1, err := random.Image(1<<10, 1)
			require.NoError(t, err)
			img2, err := random.Image(1<<10, 1)
			require.NoError(t, err)
			inner := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img1})
			outer := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: inner})

			s1 := start()
			tr := remote.WithTransport(s1.Transport())
			require.NoError(t, remote.Write(ref("child"), img1, tr, auth))
			require.NoError(t, remote.WriteIndex(ref("b-inner"), inner, tr, auth))
			require.NoError(t, remote.WriteIndex(ref("a-outer"), outer, tr, auth))
			require.NoError(t, remote.Write(ref("child"), img2, tr, auth), "the child's tag moves on")
			if graceful {
				s1.Close()
			}

			s2 := start()
			tr = remote.WithTransport(s2.Transport())
			for tag, want := range map[string]interface{ Digest() (v1.Hash, error) }{"child": img2, "b-inner": inner, "a-outer": outer} {
				d, err := want.Digest()
				require.NoError(t, err)
				got, err := remote.Head(ref(tag), tr, auth)
				require.NoError(t, err, tag)
				assert.Equal(t, d, got.Digest, tag)
			}
			idx, err := remote.Index(ref("a-outer"), tr, auth)
			require.NoError(t, err)
			im, err := idx.IndexManifest()
			require.NoError(t, err)
			require.Len(t, im.Manifests, 1)
		})
	}
}
