package state

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openDir(t *testing.T) *Dir {
	t.Helper()
	d, err := Open(filepath.Join(t.TempDir(), "state"))
	require.NoError(t, err)
	return d
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b")
	d, err := Open(path)
	require.NoError(t, err)
	assert.Equal(t, path, d.Path())
	assert.Equal(t, filepath.Join(path, "ca.crt"), d.File("ca.crt"))
	fi, err := os.Stat(filepath.Join(path, "keys"))
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	_, err = Open(path)
	require.NoError(t, err, "opening twice is fine")

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = Open(file)
	require.ErrorContains(t, err, "opening state directory")
}

func TestDefaultPath(t *testing.T) {
	// Not parallel: it sets environment variables.
	t.Setenv("XDG_STATE_HOME", "/xdg/state")
	assert.Equal(t, "/xdg/state/azsim", DefaultPath())
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/someone")
	assert.Equal(t, "/home/someone/.local/state/azsim", DefaultPath())
}

func TestRingIsCreatedOnceAndSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state")
	d, err := Open(path)
	require.NoError(t, err)
	ring, err := d.Ring("entra")
	require.NoError(t, err)
	require.Len(t, ring, 1)
	assert.Equal(t, KeyBits, ring[0].N.BitLen())

	again, err := d.Ring("entra")
	require.NoError(t, err)
	require.Len(t, again, 1)
	assert.True(t, ring[0].Equal(again[0]), "the same key, not a new one")

	// A new process opening the same directory.
	d2, err := Open(path)
	require.NoError(t, err)
	reopened, err := d2.Ring("entra")
	require.NoError(t, err)
	require.Len(t, reopened, 1)
	assert.True(t, ring[0].Equal(reopened[0]), "restart keeps keys")

	other, err := d2.Ring("oidc-aks1")
	require.NoError(t, err)
	assert.False(t, ring[0].Equal(other[0]), "rings are independent")

	fi, err := os.Stat(filepath.Join(path, "keys", "entra.json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "private keys are private")
}

func TestRotate(t *testing.T) {
	t.Parallel()
	d := openDir(t)
	first, err := d.Ring("r")
	require.NoError(t, err)

	ring, err := d.Rotate("r", 2)
	require.NoError(t, err)
	require.Len(t, ring, 2)
	assert.True(t, first[0].Equal(ring[0]), "the old key stays, oldest first")
	second := ring[1]

	ring, err = d.Rotate("r", 2)
	require.NoError(t, err)
	require.Len(t, ring, 2, "at most keep keys")
	assert.True(t, second.Equal(ring[0]), "the oldest key goes")
	assert.False(t, first[0].Equal(ring[0]))
	assert.False(t, first[0].Equal(ring[1]))

	loaded, err := d.Ring("r")
	require.NoError(t, err)
	require.Len(t, loaded, 2)
	for i := range ring {
		assert.True(t, ring[i].Equal(loaded[i]), "the rotated ring is persisted")
	}

	ring, err = d.Rotate("r", 1)
	require.NoError(t, err)
	require.Len(t, ring, 1)

	ring, err = d.Rotate("fresh", 3)
	require.NoError(t, err)
	assert.Len(t, ring, 2, "rotating a missing ring creates its first key, then rotates")

	for range 3 {
		ring, err = d.Rotate("unbounded", 0)
		require.NoError(t, err)
	}
	assert.Len(t, ring, 4, "keep <= 0 keeps every key")
}

func TestRingNames(t *testing.T) {
	t.Parallel()
	d := openDir(t)
	for _, name := range []string{"", "../escape", "a/b", ".hidden", "-dash", "with space", strings.Repeat("n", 129), "nul\x00"} {
		_, err := d.Ring(name)
		assert.ErrorContains(t, err, "invalid key ring name", "%q", name)
		_, err = d.Rotate(name, 2)
		assert.ErrorContains(t, err, "invalid key ring name", "%q", name)
	}
	assert.Empty(t, entries(t, filepath.Join(d.Path(), "keys")), "nothing written for invalid names")
	assert.ElementsMatch(t, []string{"keys"}, entries(t, d.Path()))
	for _, name := range []string{"a", "entra-v1", "oidc_aks1.eastus", strings.Repeat("n", 128)} {
		_, err := d.Ring(name)
		assert.NoError(t, err, name)
	}
}

func TestCorruptRing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content, want string
	}{
		{"not JSON", "{", "reading key ring"},
		{"not PEM", `{"keys":["hello"]}`, "key 0 is not PEM"},
		{"not a key", `{"keys":["-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"]}`, "key 0 is not an RSA private key"},
		{"EC key", `{"keys": ["-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQYJqOEAtxOf53qvO\nh055Gw+2F5iHffuaTUuzoiCGHkGhRANCAAQmwOzTtJ2ATrlVlY0zkVghYz4YuBt+\n6y5tS1FiqsdRHIcyVLXSxepI9kyTPGl/EthJ57d/I3gHOvnFdhHJ1Nyt\n-----END PRIVATE KEY-----\n"]}`, "key 0 is not an RSA private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := openDir(t)
			p := filepath.Join(d.Path(), "keys", "r.json")
			require.NoError(t, os.WriteFile(p, []byte(tt.content), 0o600))
			_, err := d.Ring("r")
			require.ErrorContains(t, err, tt.want)
			assert.ErrorContains(t, err, p, "the error names the file")
			_, err = d.Rotate("r", 2)
			require.ErrorContains(t, err, tt.want)
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.Equal(t, tt.content, string(data), "a corrupt ring is not overwritten")
		})
	}

	t.Run("empty ring gets a key", func(t *testing.T) {
		t.Parallel()
		d := openDir(t)
		p := filepath.Join(d.Path(), "keys", "r.json")
		require.NoError(t, os.WriteFile(p, []byte(`{"keys":[]}`), 0o600))
		ring, err := d.Ring("r")
		require.NoError(t, err)
		assert.Len(t, ring, 1)
	})
	t.Run("unreadable", func(t *testing.T) {
		t.Parallel()
		d := openDir(t)
		require.NoError(t, os.Mkdir(filepath.Join(d.Path(), "keys", "r.json"), 0o700))
		_, err := d.Ring("r")
		require.Error(t, err)
	})
}

func TestWriteFileIsAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "endpoints.json")
	require.NoError(t, WriteFile(p, []byte("one"), 0o644))
	require.NoError(t, WriteFile(p, []byte("two"), 0o600))
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "two", string(data))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Equal(t, []string{"endpoints.json"}, entries(t, dir), "no temporary files are left")

	err = WriteFile(filepath.Join(dir, "missing", "f"), []byte("x"), 0o600)
	require.ErrorContains(t, err, "writing")

	// Renaming onto a directory fails; the temporary file is removed.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "x"), nil, 0o600))
	err = WriteFile(filepath.Join(dir, "sub"), []byte("x"), 0o600)
	require.Error(t, err)
	assert.ElementsMatch(t, []string{"endpoints.json", "sub"}, entries(t, dir), "no temporary files are left after a failure")
}

func TestWriteFileConcurrently(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			assert.NoError(t, WriteFile(p, []byte(strings.Repeat(string(rune('a'+i)), 4096)), 0o600))
		})
	}
	wg.Wait()
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Len(t, data, 4096)
	assert.Equal(t, strings.Repeat(string(data[0]), 4096), string(data), "never a torn mix of two writes")
	assert.Equal(t, []string{"f"}, entries(t, dir))
}

func TestRingFileFormat(t *testing.T) {
	t.Parallel()
	d := openDir(t)
	_, err := d.Rotate("r", 0)
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(d.Path(), "keys", "r.json"))
	require.NoError(t, err)
	var rf struct {
		Keys []string `json:"keys"`
	}
	require.NoError(t, json.Unmarshal(data, &rf))
	require.Len(t, rf.Keys, 2)
	for _, k := range rf.Keys {
		assert.True(t, strings.HasPrefix(k, "-----BEGIN PRIVATE KEY-----\n"))
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	d := openDir(t)
	// Rotating a ring nobody used yet creates its first key, then rotates.
	ring, err := d.Rotate("r", 0)
	require.NoError(t, err)
	keys, err := Keys(ring)
	require.NoError(t, err)
	require.Len(t, keys, 2)
	for i, k := range keys {
		assert.Same(t, ring[i], k.Private)
		assert.Len(t, k.KID, 43)
	}
	assert.NotEqual(t, keys[0].KID, keys[1].KID)

	again, err := Keys(ring)
	require.NoError(t, err)
	assert.Equal(t, keys[1].KID, again[1].KID, "key IDs are stable")

	empty, err := Keys(nil)
	require.NoError(t, err)
	assert.Empty(t, empty)
}
