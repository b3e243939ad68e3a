//go:build integration

package kindenv_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/kindenv/internal/docker"
)

func (w *wired) azsim(args ...string) (string, error) {
	cmd := exec.CommandContext(w.ctx, w.bin, args...)
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (w *wired) kubectl(stdin string, args ...string) (string, error) {
	a := []string{"exec"}
	if stdin != "" {
		a = append(a, "-i")
	}
	a = append(a, w.cluster()+"-control-plane", "kubectl", "--kubeconfig=/etc/kubernetes/admin.conf")
	cmd := exec.CommandContext(w.ctx, "docker", append(a, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func (w *wired) mustKubectl(stdin string, args ...string) string {
	w.t.Helper()
	out, err := w.kubectl(stdin, args...)
	require.NoError(w.t, err)
	return out
}

// changeWorld PUTs the world edited by f and restores the original when the
// (sub)test ends.
func (w *wired) changeWorld(t *testing.T, f func(m map[string]any)) {
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.world, &m))
	f(m)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, w.admin.PutWorld(w.ctx, json.RawMessage(b), nil))
	t.Cleanup(func() { require.NoError(t, w.admin.PutWorld(w.ctx, json.RawMessage(w.world), nil)) })
}

// trace returns the simulator's recorded decisions.
func (w *wired) trace() []api.Decision {
	w.t.Helper()
	ds, err := w.admin.Trace(w.ctx, 0)
	require.NoError(w.t, err)
	return ds
}

type podStatus struct {
	Status struct {
		Phase             string
		ContainerStatuses []struct {
			State struct {
				Waiting *struct{ Reason, Message string }
			}
		}
	}
}

func (w *wired) pod(ns, name string) podStatus {
	var p podStatus
	out, err := w.kubectl("", "get", "pod", "-n", ns, name, "-o", "json")
	if err == nil {
		_ = json.Unmarshal([]byte(out), &p)
	}
	return p
}

// waitPhase waits until the pod reaches one of the phases and returns it.
func (w *wired) waitPhase(t *testing.T, ns, name string, phases ...string) string {
	t.Helper()
	var got string
	require.NoError(t, docker.Poll(w.ctx, 2*time.Minute, func() (bool, string) {
		got = w.pod(ns, name).Status.Phase
		for _, p := range phases {
			if got == p {
				return true, ""
			}
		}
		return false, fmt.Sprintf("pod %s/%s is %q, want %v", ns, name, got, phases)
	}))
	return got
}

func (w *wired) logs(t *testing.T, ns, name string) string {
	t.Helper()
	return w.mustKubectl("", "logs", "-n", ns, name)
}

func (w *wired) events(ns, name string) string {
	out, _ := w.kubectl("", "get", "events", "-n", ns, "--field-selector", "involvedObject.name="+name,
		"-o", `jsonpath={range .items[*]}{.type} {.reason}: {.message}{"\n"}{end}`)
	return out
}

func (w *wired) caPEM() string {
	b, err := os.ReadFile(w.ep.CAFile)
	require.NoError(w.t, err)
	return strings.TrimSpace(string(b))
}

func indent(s, p string) string { return p + strings.ReplaceAll(s, "\n", "\n"+p) }

func (w *wired) runClient(t *testing.T, manifest, ns, name, wantPhase string) string {
	t.Helper()
	w.mustKubectl(manifest, "apply", "-f", "-")
	phase := w.waitPhase(t, ns, name, "Succeeded", "Failed")
	logs := w.logs(t, ns, name)
	t.Logf("pod %s/%s %s; log:\n%s", ns, name, phase, logs)
	require.Equal(t, wantPhase, phase)
	return logs
}
