package ociimage

import (
	"archive/tar"
	"context"
	"io"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildIsReproducibleAndRunnable(t *testing.T) {
	t.Parallel()
	a, err := Build([]byte("#!fake binary"), "up", "--https-addr", "0.0.0.0:443")
	require.NoError(t, err)
	b, err := Build([]byte("#!fake binary"), "up", "--https-addr", "0.0.0.0:443")
	require.NoError(t, err)
	da, _ := a.Digest()
	db, _ := b.Digest()
	assert.Equal(t, da, db, "same binary, same image")

	cf, err := a.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, []string{Binary}, cf.Config.Entrypoint)
	assert.Equal(t, []string{"up", "--https-addr", "0.0.0.0:443"}, cf.Config.Cmd)
	assert.Equal(t, "linux", cf.OS)
	assert.Equal(t, "amd64", cf.Architecture)

	layers, err := a.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 1)
	rc, err := layers[0].Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	tr := tar.NewReader(rc)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if "/"+h.Name == Binary {
			found = true
			assert.Equal(t, int64(0o755), h.Mode)
			body, _ := io.ReadAll(tr)
			assert.Equal(t, "#!fake binary", string(body))
		}
	}
	assert.True(t, found, "the binary is in the layer")
}

func TestLoadIntoDocker(t *testing.T) {
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("no Docker engine answers (`docker info` failed); hack/docker-bootstrap.sh starts one")
	}
	img, err := Build([]byte("x"))
	require.NoError(t, err)
	require.NoError(t, Load(context.Background(), img, "azsim-simimage-test:latest"))
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{json .Config.Entrypoint}}", "azsim-simimage-test:latest").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), Binary)
	_ = exec.Command("docker", "image", "rm", "azsim-simimage-test:latest").Run()
}
