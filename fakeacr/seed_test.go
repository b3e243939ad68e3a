package fakeacr

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/fakeacr/internal/ocistore"
	"github.com/azsim/azsim/world"
)

// TestRandomImageDigestsAreTheLayersOfOneBuffer: the streamed layers are
// byte for byte the tar of the whole pseudo-random file, so a world keeps
// its image digests.
func TestRandomImageDigestsAreTheLayersOfOneBuffer(t *testing.T) {
	t.Parallel()
	const seed, size = "reg.azurecr.io/app:v1", 100_003
	img, err := RandomImage(seed, 2, size)
	require.NoError(t, err)
	ls, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, ls, 2)
	for i, l := range ls {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s#%d", seed, i))
		data := make([]byte, size)
		_, _ = rand.NewChaCha8(sum).Read(data)
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("random-%d", i), Mode: 0o644, Size: size, Format: tar.FormatPAX}))
		_, err := tw.Write(data)
		require.NoError(t, err)
		require.NoError(t, tw.Close())
		want, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil },
			tarball.WithCompressionLevel(gzip.NoCompression))
		require.NoError(t, err)
		assertSameDigests(t, want, l)
	}
}

func assertSameDigests(t *testing.T, want, got v1.Layer) {
	t.Helper()
	wd, err := want.Digest()
	require.NoError(t, err)
	gd, err := got.Digest()
	require.NoError(t, err)
	assert.Equal(t, wd, gd)
	wdi, err := want.DiffID()
	require.NoError(t, err)
	gdi, err := got.DiffID()
	require.NoError(t, err)
	assert.Equal(t, wdi, gdi)
}

// TestSeedingALargeLayerStreams: seeding a world image with a 256 MiB
// declared layer allocates a small fraction of the layer's size into
// registry storage on disk (the content is generated as it is read and
// streamed to disk), and the layer once, not a multiple of it, in memory.
// Not parallel: TotalAlloc counts the whole process.
func TestSeedingALargeLayerStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test generates and hashes 256 MiB several times; run without -short (make test does)")
	}
	const size = 256 << 20
	for _, tc := range []struct {
		name  string
		dir   string
		bound uint64
	}{
		{"disk", t.TempDir(), size / 16},
		{"memory", "", size + size/8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r, err := ocistore.Open(ctx, tc.dir, "big.azurecr.io")
			require.NoError(t, err)
			reg := &world.RegistryInfo{Registry: world.Registry{LoginServer: "big.azurecr.io"}}
			im := world.Image{Repository: "big", Tag: "v1", Source: "random", Layers: 1, LayerSize: size}

			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			require.NoError(t, seedImage(ctx, r, reg, im))
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("seeding a %d MiB layer allocated %d KiB", size>>20, allocated>>10)
			assert.Less(t, allocated, tc.bound)

			// The image is served whole.
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v2/big/manifests/v1", nil))
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			m, err := v1.ParseManifest(rec.Body)
			require.NoError(t, err)
			require.Len(t, m.Layers, 1)
			assert.Greater(t, m.Layers[0].Size, int64(size))
		})
	}
}
