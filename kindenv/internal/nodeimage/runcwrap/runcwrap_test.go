package runcwrap

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSpecFiles(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--root", "/run/runc", "create", "--bundle", "/b", "--pid-file", "p", "id"}, []string{"/b/config.json"}},
		{[]string{"create", "--bundle=/b", "id"}, []string{"/b/config.json"}},
		{[]string{"exec", "--process", "/tmp/p.json", "--detach", "id"}, []string{"/tmp/p.json"}},
		{[]string{"exec", "-p", "/tmp/p.json", "id"}, []string{"/tmp/p.json"}},
		{[]string{"state", "id"}, nil},
		{[]string{"--bundle"}, nil},
	} {
		require.Equal(t, tc.want, SpecFiles(tc.args), "%v", tc.args)
	}
}

func TestStripConfig(t *testing.T) {
	in := `{"ociVersion":"1.0.2","process":{"args":["sh"],"capabilities":{"bounding":["CAP_CHOWN","CAP_SYS_RESOURCE"],"effective":["CAP_SYS_RESOURCE"],"permitted":["CAP_SYS_RESOURCE","CAP_KILL"]}},"root":{"path":"rootfs"}}`
	out, changed, err := Strip([]byte(in), "CAP_SYS_RESOURCE")
	require.NoError(t, err)
	require.True(t, changed)
	var doc struct {
		OCIVersion string `json:"ociVersion"`
		Process    struct {
			Args []string            `json:"args"`
			Caps map[string][]string `json:"capabilities"`
		} `json:"process"`
		Root map[string]string `json:"root"`
	}
	require.NoError(t, json.Unmarshal(out, &doc))
	require.Equal(t, "1.0.2", doc.OCIVersion)
	require.Equal(t, []string{"sh"}, doc.Process.Args)
	require.Equal(t, map[string][]string{"bounding": {"CAP_CHOWN"}, "effective": {}, "permitted": {"CAP_KILL"}}, doc.Process.Caps)
	require.Equal(t, "rootfs", doc.Root["path"])
}

func TestStripProcessFile(t *testing.T) {
	in := `{"args":["ls"],"capabilities":{"bounding":["CAP_SYS_RESOURCE","CAP_NET_ADMIN"]}}`
	out, changed, err := Strip([]byte(in), "CAP_SYS_RESOURCE")
	require.NoError(t, err)
	require.True(t, changed)
	require.JSONEq(t, `{"args":["ls"],"capabilities":{"bounding":["CAP_NET_ADMIN"]}}`, string(out))

	same := `{"args":["ls"],"capabilities":{"bounding":["CAP_NET_ADMIN"]}}`
	out, changed, err = Strip([]byte(same), "CAP_SYS_RESOURCE")
	require.NoError(t, err)
	require.False(t, changed)
	require.Equal(t, same, string(out))

	_, _, err = Strip([]byte("{"), "CAP_SYS_RESOURCE")
	require.Error(t, err)
}

func TestStripFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	require.NoError(t, os.WriteFile(p, []byte(`{"process":{"capabilities":{"bounding":["CAP_SYS_RESOURCE"]}}}`), 0o600))
	require.NoError(t, StripFile(p, "CAP_SYS_RESOURCE"))
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	require.JSONEq(t, `{"process":{"capabilities":{"bounding":[]}}}`, string(got))
	require.NoError(t, StripFile(filepath.Join(dir, "missing.json"), "CAP_SYS_RESOURCE"))
}
