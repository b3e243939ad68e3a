package hack

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// capCheck runs docker-bootstrap.sh's needs_sysres_wrapper on a sample
// /proc/<pid>/status and returns the function's exit status.
func capCheck(t *testing.T, status string) int {
	t.Helper()
	p := filepath.Join(t.TempDir(), "status")
	require.NoError(t, os.WriteFile(p, []byte(status), 0o644))
	cmd := exec.Command("bash", "-c", `source ./docker-bootstrap.sh && needs_sysres_wrapper "$1"`, "test", p)
	cmd.Env = append(os.Environ(), "AZSIM_BOOTSTRAP_SOURCE_ONLY=1")
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	require.NoError(t, err)
	return 0
}

func TestDockerBootstrapCapabilityCheck(t *testing.T) {
	const head = "Name:\tbash\nUmask:\t0022\nState:\tR (running)\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"
	for _, tc := range []struct {
		name   string
		status string
		want   int // 0: wrapper needed, 1: not needed, 2: unreadable
	}{
		{"CI VM: bit 24 clear", head + "CapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n", 0},
		{"full bounding set", head + "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n", 1},
		{"old kernel, 38 caps", head + "CapBnd:\t0000003fffffffff\n", 1},
		{"only CAP_SYS_RESOURCE", head + "CapBnd:\t0000000001000000\n", 1},
		{"everything but CAP_SYS_RESOURCE", head + "CapBnd:\tfffffffffeffffff\n", 0},
		{"empty bounding set", head + "CapBnd:\t0000000000000000\n", 0},
		{"no CapBnd line", head, 2},
		{"garbage", "CapBnd:\tzz\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, capCheck(t, tc.status))
		})
	}
}

func TestDockerBootstrapCapabilityCheckThisHost(t *testing.T) {
	got := capCheck(t, mustRead(t, "/proc/self/status"))
	require.Contains(t, []int{0, 1}, got, "the host's own status must parse")
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}
