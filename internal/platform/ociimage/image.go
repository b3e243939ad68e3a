// Package ociimage builds the container image that runs azsim next to a
// kind cluster: one layer holding a static azsim binary, assembled with
// go-containerregistry (no registry, no Dockerfile, no base image), and loads
// it into the Docker engine with `docker load`.
package ociimage

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Binary is where the image keeps azsim.
const Binary = "/usr/local/bin/azsim"

// epoch makes the image reproducible: same binary, same digest.
var epoch = time.Unix(0, 0).UTC()

// Build returns a linux/amd64 image whose entrypoint is the static azsim
// binary bin; cmd is its default command (for example "up" and flags).
func Build(bin []byte, cmd ...string) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"usr/", "usr/local/", "usr/local/bin/", "tmp/", "var/", "var/lib/", "var/lib/azsim/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: Binary[1:], Mode: 0o755, Size: int64(len(bin)), ModTime: epoch}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.DockerLayer))
	if err != nil {
		return nil, fmt.Errorf("building the azsim layer: %w", err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = "amd64", "linux", v1.Time{Time: epoch}
	cf.Config.Entrypoint = []string{Binary}
	cf.Config.Cmd = cmd
	cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "XDG_STATE_HOME=/var/lib"}
	return mutate.ConfigFile(img, cf)
}

// BuildFromFile is Build with the binary read from path.
func BuildFromFile(path string, cmd ...string) (v1.Image, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the azsim binary: %w", err)
	}
	return Build(bin, cmd...)
}

// StaticBinary builds azsim with CGO disabled into dir and returns its path.
func StaticBinary(ctx context.Context, moduleDir, dir string) (string, error) {
	out := dir + "/azsim"
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/azsim")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building a static azsim: %v: %s", err, b)
	}
	return out, nil
}

// Load writes img as tag into the Docker engine (`docker load`).
func Load(ctx context.Context, img v1.Image, tag string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("image tag %q: %w", tag, err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarball.Write(ref, img, pw)) }()
	cmd := exec.CommandContext(ctx, "docker", "load")
	cmd.Stdin = pr
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker load: %v: %s", err, b)
	}
	return nil
}
