package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIsStatic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "not-elf")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755))
	require.False(t, isStatic(p))
	require.False(t, isStatic(filepath.Join(t.TempDir(), "missing")))
	if _, err := os.Stat("/bin/sh"); err == nil {
		require.False(t, isStatic("/bin/sh"), "a dynamically linked binary has an interpreter")
	}
}

func TestKindCommandsRegistered(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main([]string{"kind", "--help"}, nil, &out, &errb)
	require.Equal(t, ExitOK, code, errb.String())
	for _, c := range []string{"up", "down", "load", "e2e"} {
		require.Contains(t, out.String(), c)
	}
}

// kind e2e checks its input before it builds or starts anything.
func TestKindE2EBadWorld(t *testing.T) {
	var out, errb bytes.Buffer
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	code := Main([]string{"kind", "e2e", "--config", missing, "--state-dir", t.TempDir()}, nil, &out, &errb)
	require.Equal(t, ExitUsage, code)
	require.Contains(t, errb.String(), missing)
}
