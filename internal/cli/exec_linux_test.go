//go:build linux

package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/world"
)

// The exec tests run real, unmodified programs (curl, crane, a Go program
// using azidentity's default options) inside `azsim exec`, as root and as
// the unprivileged user nobody.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// binaries builds azsim and the azidentity client and installs crane from
// the Go module proxy into one world-readable directory.
func binaries(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "azsim-exec-bin-")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		for _, c := range [][]string{
			{"go", "build", "-o", filepath.Join(dir, "azsim"), "github.com/azsim/azsim/cmd/azsim"},
			{"go", "build", "-o", filepath.Join(dir, "azclient"), "./testdata/azclient"},
			{"go", "install", "github.com/google/go-containerregistry/cmd/crane@v0.22.1"},
		} {
			if err != nil {
				break
			}
			cmd := exec.Command(c[0], c[1:]...)
			cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=")
			if out, cerr := cmd.CombinedOutput(); cerr != nil {
				err = &exitError{code: 1, err: errorsJoin(cerr, string(out))}
			}
		}
		binDir, binErr = dir, err
	})
	require.NoError(t, binErr)
	return binDir
}

func errorsJoin(err error, out string) error { return &wrapped{err: err, out: out} }

type wrapped struct {
	err error
	out string
}

func (w *wrapped) Error() string { return w.err.Error() + ": " + w.out }

type execUser struct {
	name string
	cred *syscall.Credential
}

// users lists root (when the test runs as root) and nobody.
func users(t *testing.T) []execUser {
	t.Helper()
	if os.Geteuid() != 0 {
		return []execUser{{name: "current user"}}
	}
	return []execUser{{name: "root"}, {name: "nobody", cred: &syscall.Credential{Uid: 65534, Gid: 65534}}}
}

// azsimExec runs `azsim exec ARGS` as u and returns stdout, stderr, exit code.
func azsimExec(t *testing.T, u execUser, args ...string) (string, string, int) {
	t.Helper()
	bin := binaries(t)
	state, err := os.MkdirTemp("", "azsim-exec-state-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(state) })
	require.NoError(t, os.Chmod(state, 0o777))
	cmd := exec.Command(filepath.Join(bin, "azsim"), append([]string{"exec", "--state-dir", filepath.Join(state, "s")}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+state, "PATH="+bin+":/usr/local/bin:/usr/bin:/bin")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: u.cred}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	if strings.Contains(errb.String(), "does not let") {
		t.Skipf("the kernel forbids the namespaces azsim exec needs for %s: %s", u.name, errb.String())
	}
	return out.String(), errb.String(), code
}

func needCurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (apt-get install curl); .ci/run installs it")
	}
}

func TestExecCurlReachesIMDSAndEntra(t *testing.T) {
	t.Parallel()
	needCurl(t)
	ix, err := world.Compile(world.Default(), world.NewSimClock().Now())
	require.NoError(t, err)
	kubelet, _ := ix.PrincipalByName("aks1-agentpool")
	script := `curl -sS -H Metadata:true "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://containerregistry.azure.net&client_id=` + kubelet.ClientID + `" && echo &&
curl -sS --fail https://login.microsoftonline.com/` + ix.Tenants[0].ID + `/v2.0/.well-known/openid-configuration`
	for _, u := range users(t) {
		out, errs, code := azsimExec(t, u, "--", "sh", "-c", script)
		require.Equal(t, 0, code, "%s: %s", u.name, errs)
		lines := strings.SplitN(out, "\n", 2)
		require.Len(t, lines, 2, out)
		var tok map[string]string
		require.NoError(t, json.Unmarshal([]byte(lines[0]), &tok), lines[0])
		assert.Equal(t, kubelet.ClientID, tok["client_id"], u.name)
		assert.NotEmpty(t, tok["access_token"], u.name)
		var doc map[string]any
		require.NoError(t, json.Unmarshal([]byte(lines[1]), &doc), lines[1])
		assert.Equal(t, "https://login.microsoftonline.com/"+ix.Tenants[0].ID+"/v2.0", doc["issuer"], u.name)
	}
}

func TestExecAzidentityDefaultOptions(t *testing.T) {
	t.Parallel()
	ix, err := world.Compile(world.Default(), world.NewSimClock().Now())
	require.NoError(t, err)
	kubelet, _ := ix.PrincipalByName("aks1-agentpool")
	puller, _ := ix.PrincipalByName("app-puller")
	for _, u := range users(t) {
		out, errs, code := azsimExec(t, u, "--", "azclient", "managed-identity", kubelet.ClientID)
		require.Equal(t, 0, code, "%s: %s", u.name, errs)
		assert.Equal(t, kubelet.ObjectID, strings.TrimSpace(out), u.name)
		out, errs, code = azsimExec(t, u, "--env-from-service-account", "default/app-puller", "--", "azclient", "workload-identity")
		require.Equal(t, 0, code, "%s: %s", u.name, errs)
		assert.Equal(t, puller.ObjectID, strings.TrimSpace(out), u.name)
	}
}
