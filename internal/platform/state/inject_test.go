package state

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteFileInjectedFailures makes every step of the atomic writer fail
// in turn (a full disk half-way through the data, a failed fsync, close,
// chmod or rename): the file keeps its previous content, no temporary file
// is left, and the error names the file. Not parallel: it sets failAt.
func TestWriteFileInjectedFailures(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "keys.json")
	require.NoError(t, WriteFile(p, []byte(`{"keys":["old"]}`), 0o600))
	boom := errors.New("injected failure")
	for _, s := range []string{"create", "write", "sync", "close", "chmod", "rename"} {
		t.Run(s, func(t *testing.T) {
			failAt = func(step string) error {
				if step == s {
					return boom
				}
				return nil
			}
			defer func() { failAt = nil }()
			err := WriteFile(p, []byte(`{"keys":["old","new, much longer than the old content"]}`), 0o600)
			require.ErrorIs(t, err, boom)
			assert.ErrorContains(t, err, p)
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.Equal(t, `{"keys":["old"]}`, string(data), "the previous content, never a partial write")
			assert.Equal(t, []string{"keys.json"}, entries(t, dir), "no temporary file is left")
		})
	}
}

// TestRotateInjectedFailure: a key rotation whose write fails leaves the
// ring as it was, loadable, with the same keys.
func TestRotateInjectedFailure(t *testing.T) {
	d, err := Open(t.TempDir())
	require.NoError(t, err)
	before, err := d.Ring("issuer-aks1")
	require.NoError(t, err)
	failAt = func(step string) error {
		if step == "write" {
			return errors.New("disk full")
		}
		return nil
	}
	_, err = d.Rotate("issuer-aks1", 2)
	failAt = nil
	require.ErrorContains(t, err, "disk full")
	after, err := d.Ring("issuer-aks1")
	require.NoError(t, err)
	require.Len(t, after, 1)
	assert.True(t, before[0].Equal(after[0]), "the ring is unchanged")
}
