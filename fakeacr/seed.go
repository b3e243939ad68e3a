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

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/azsim/azsim/world"
)

// Seed builds the world images of every registry into its backend, with no
// network (DESIGN.md "The world"). It is idempotent: each backend is
// created and seeded once, on first use; New calls it.
func (a *ACR) Seed(ctx context.Context) error {
	for _, reg := range a.store.Snapshot().Registries {
		if _, err := a.backend(ctx, reg); err != nil {
			return err
		}
	}
	return nil
}

// seedImage writes one image into the backend h with go-containerregistry,
// through an in-process transport.
func seedImage(ctx context.Context, h http.Handler, reg *world.RegistryInfo, im world.Image) error {
	var (
		img v1.Image
		err error
	)
	switch im.Source {
	case "", "hello":
		img, err = HelloImage()
	case "random":
		img, err = RandomImage(reg.LoginServer+"/"+im.Repository+":"+im.Tag, im.Layers, im.LayerSize)
	default:
		err = fmt.Errorf("unknown image source %q", im.Source)
	}
	if err != nil {
		return err
	}
	ref, err := name.NewTag(reg.LoginServer + "/" + im.Repository + ":" + im.Tag)
	if err != nil {
		return err
	}
	return remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuth(authn.Anonymous),
		remote.WithTransport(inproc{h}))
}

// HelloImage is the runnable linux/amd64 image of source "hello": one
// layer holding the static program /hello (HelloELF), Entrypoint ["/hello"].
// Its digest is the same on every run.
func HelloImage() (v1.Image, error) {
	layerTar, err := tarOf("hello", HelloELF(), 0o755)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(opener(layerTar), tarball.WithCompressionLevel(gzip.BestCompression))
	if err != nil {
		return nil, err
	}
	return imageOf([]v1.Layer{layer}, []string{"/hello"})
}

// RandomImage is the image of source "random": layers layers, each a tar
// holding one file of size pseudo-random bytes drawn from a generator
// seeded with seed, so the same world yields the same digests. Layer
// content is generated as it is read, never held in memory, so seeding a
// large declared layer costs its size in time, not in memory.
func RandomImage(seed string, layers int, size int64) (v1.Image, error) {
	var ls []v1.Layer
	for i := range layers {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s#%d", seed, i))
		layer, err := tarball.LayerFromOpener(randomTar(fmt.Sprintf("random-%d", i), sum, size),
			tarball.WithCompressionLevel(gzip.NoCompression))
		if err != nil {
			return nil, err
		}
		ls = append(ls, layer)
	}
	return imageOf(ls, nil)
}

// randomTar opens, each time afresh, a tar archive holding one file of
// size bytes drawn from ChaCha8 seeded with seed, written as it is read.
func randomTar(name string, seed [32]byte, size int64) tarball.Opener {
	return func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			tw := tar.NewWriter(pw)
			hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size, Format: tar.FormatPAX}
			err := tw.WriteHeader(hdr)
			if err == nil {
				_, err = io.Copy(tw, io.LimitReader(rand.NewChaCha8(seed), size))
			}
			if err == nil {
				err = tw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
}

func imageOf(layers []v1.Layer, entrypoint []string) (v1.Image, error) {
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = entrypoint
	cf.Config.Env = []string{"PATH=/"}
	return mutate.ConfigFile(img, cf)
}

// tarOf is a tar archive with one regular file.
func tarOf(name string, data []byte, mode int64) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func opener(b []byte) tarball.Opener {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}
