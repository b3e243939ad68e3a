package world

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		w, err := Parse([]byte(`{"apiVersion":"azsim.dev/v1alpha1","kind":"World","tenants":[{"name":"t"}]}`))
		require.NoError(t, err)
		assert.Equal(t, "t", w.Tenants[0].Name)
	})
	t.Run("too large", func(t *testing.T) {
		t.Parallel()
		_, err := Parse(make([]byte, MaxWorldSize+1))
		require.ErrorContains(t, err, "more than the limit")
	})
	t.Run("unknown field", func(t *testing.T) {
		t.Parallel()
		_, err := Parse([]byte("apiVersion: azsim.dev/v1alpha1\nkind: World\ntenant: []\n"))
		require.ErrorContains(t, err, `unknown field "tenant"`)
	})
	t.Run("duplicate key", func(t *testing.T) {
		t.Parallel()
		_, err := Parse([]byte("kind: World\nkind: World\n"))
		require.Error(t, err)
	})
	t.Run("durations", func(t *testing.T) {
		t.Parallel()
		w, err := Parse([]byte("roleAssignments:\n- {effectiveAfter: 90s}\n- {effectiveAfter: 30}\n"))
		require.NoError(t, err)
		assert.Equal(t, Duration(90*time.Second), w.RoleAssignments[0].EffectiveAfter)
		assert.Equal(t, Duration(30*time.Second), w.RoleAssignments[1].EffectiveAfter)
		_, err = Parse([]byte("roleAssignments:\n- {effectiveAfter: soon}\n"))
		require.ErrorContains(t, err, `invalid duration "soon"`)
		_, err = Parse([]byte("roleAssignments:\n- {effectiveAfter: [1]}\n"))
		require.ErrorContains(t, err, "duration must be a string")
	})
	t.Run("load missing file", func(t *testing.T) {
		t.Parallel()
		_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
		require.ErrorContains(t, err, "loading world")
	})
	t.Run("load invalid file", func(t *testing.T) {
		t.Parallel()
		p := filepath.Join(t.TempDir(), "w.yaml")
		require.NoError(t, os.WriteFile(p, []byte("bogus: 1\n"), 0o600))
		_, err := Load(p)
		require.ErrorContains(t, err, `unknown field "bogus"`)
	})
}

func TestParseCertificatePEM(t *testing.T) {
	t.Parallel()
	_, err := ParseCertificatePEM("")
	require.ErrorContains(t, err, "no PEM CERTIFICATE block found")
	_, err = ParseCertificatePEM("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
	require.ErrorContains(t, err, "no PEM CERTIFICATE block found")
	_, err = ParseCertificatePEM("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	require.ErrorContains(t, err, "parsing certificate")
}
