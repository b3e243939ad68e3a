package fakeacr

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHelloELFHeader(t *testing.T) {
	t.Parallel()
	bin := HelloELF()
	f, err := elf.NewFile(bytes.NewReader(bin))
	require.NoError(t, err)
	assert.Equal(t, elf.ELFCLASS64, f.Class)
	assert.Equal(t, elf.ELFDATA2LSB, f.Data)
	assert.Equal(t, elf.ET_EXEC, f.Type)
	assert.Equal(t, elf.EM_X86_64, f.Machine)
	assert.Equal(t, uint64(0x400078), f.Entry)
	require.Len(t, f.Progs, 1)
	p := f.Progs[0]
	assert.Equal(t, elf.PT_LOAD, p.Type)
	assert.Equal(t, elf.PF_R|elf.PF_X, p.Flags)
	assert.Equal(t, uint64(len(bin)), p.Filesz)
	assert.Equal(t, uint64(len(bin)), p.Memsz)
	assert.True(t, bytes.HasSuffix(bin, []byte("Hello from azsim\n")))
	// The lea's displacement points at the message right after the code.
	assert.Equal(t, 64+56+len(helloCode), len(bin)-len(helloMessage))
}

// TestHelloImageRuns extracts /hello from the seeded image's layer and, on
// linux/amd64, runs it.
func TestHelloImageRuns(t *testing.T) {
	t.Parallel()
	img, err := HelloImage()
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "linux", cf.OS)
	assert.Equal(t, "amd64", cf.Architecture)
	assert.Equal(t, []string{"/hello"}, cf.Config.Entrypoint)
	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 1)
	rc, err := layers[0].Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	require.NoError(t, err)
	assert.Equal(t, "hello", hdr.Name)
	assert.Equal(t, int64(0o755), hdr.Mode)
	bin, err := io.ReadAll(tr)
	require.NoError(t, err)
	assert.Equal(t, HelloELF(), bin)

	// Same image, same digest on every run.
	again, err := HelloImage()
	require.NoError(t, err)
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	assert.Equal(t, d1, d2)

	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("cannot run a linux/amd64 program on %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	path := filepath.Join(t.TempDir(), "hello")
	require.NoError(t, os.WriteFile(path, bin, 0o755))
	out, err := exec.Command(path).Output()
	require.NoError(t, err)
	assert.Equal(t, "Hello from azsim\n", string(out))
}

func TestRandomImage(t *testing.T) {
	t.Parallel()
	a, err := RandomImage("seed", 3, 1000)
	require.NoError(t, err)
	b, err := RandomImage("seed", 3, 1000)
	require.NoError(t, err)
	c, err := RandomImage("other", 3, 1000)
	require.NoError(t, err)
	da, _ := a.Digest()
	db, _ := b.Digest()
	dc, _ := c.Digest()
	assert.Equal(t, da, db, "seeded: same digest")
	assert.NotEqual(t, da, dc)
	layers, err := a.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 3)
	rc, err := layers[1].Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	require.NoError(t, err)
	assert.Equal(t, "random-1", hdr.Name)
	assert.Equal(t, int64(1000), hdr.Size)
}
