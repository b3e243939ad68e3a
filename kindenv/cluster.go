package kindenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/cluster"
	kindcmd "sigs.k8s.io/kind/pkg/cmd"
	kindexec "sigs.k8s.io/kind/pkg/exec"
	"sigs.k8s.io/kind/pkg/log"
)

// DockerAnswers reports whether a Docker engine answers. kind's provider
// detection only runs `docker -v`, which succeeds without a daemon (ref §2).
func DockerAnswers(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "docker", "info", "-f", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker info: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// HostCgroupV1 reports whether the Docker engine runs on cgroup v1.
func HostCgroupV1(ctx context.Context) (bool, error) {
	out, err := exec.CommandContext(ctx, "docker", "info", "-f", "{{.CgroupVersion}}").Output()
	if err != nil {
		return false, fmt.Errorf("docker info: %w", err)
	}
	return strings.TrimSpace(string(out)) == "1", nil
}

// CreateOptions describe a cluster to create.
type CreateOptions struct {
	Name       string
	Choice     Choice        // node image (ChooseNodeImage)
	Kubeconfig string        // where kind writes the kubeconfig
	Wait       time.Duration // CreateWithWaitForReady (default 3m)
	Retain     bool          // keep nodes on failure, for debugging
	Verbosity  log.Level
	// Extra adds node labels, mounts and kubeadm patches to the rendered
	// config (Name, Offline and CgroupV1 are ignored).
	Extra ClusterOptions
}

// Cluster is a kind cluster created by CreateCluster.
type Cluster struct {
	Name       string
	Image      string
	Kubeconfig string
	Config     []byte // the rendered kind config
	Took       time.Duration
	provider   *cluster.Provider
}

// CreateCluster renders the kind config for the chosen image and host and
// creates the cluster through sigs.k8s.io/kind/pkg/cluster (provider
// docker). kind only warns when its readiness wait times out, so readiness
// must be checked by the caller (WaitNodeReady).
func CreateCluster(ctx context.Context, o CreateOptions) (*Cluster, error) {
	if err := DockerAnswers(ctx); err != nil {
		return nil, err
	}
	v1, err := HostCgroupV1(ctx)
	if err != nil {
		return nil, err
	}
	if o.Wait == 0 {
		o.Wait = 3 * time.Minute
	}
	co := o.Extra
	co.Name, co.Offline, co.CgroupV1 = o.Name, o.Choice.Offline, v1
	raw := RenderClusterConfig(co)
	logger := kindcmd.NewLogger()
	if l, ok := logger.(interface{ SetVerbosity(log.Level) }); ok {
		l.SetVerbosity(o.Verbosity)
	}
	p := cluster.NewProvider(cluster.ProviderWithLogger(logger), cluster.ProviderWithDocker())
	c := &Cluster{Name: o.Name, Image: o.Choice.Image, Kubeconfig: o.Kubeconfig, Config: raw, provider: p}
	start := time.Now()
	err = p.Create(o.Name,
		cluster.CreateWithRawConfig(raw),
		cluster.CreateWithNodeImage(o.Choice.Image),
		cluster.CreateWithWaitForReady(o.Wait),
		cluster.CreateWithKubeconfigPath(o.Kubeconfig),
		cluster.CreateWithRetain(o.Retain),
		cluster.CreateWithDisplayUsage(false),
		cluster.CreateWithDisplaySalutation(false),
	)
	c.Took = time.Since(start)
	if err != nil {
		msg := err.Error()
		if re := kindexec.RunErrorForError(err); re != nil {
			msg += "\n" + string(re.Output)
		}
		return nil, fmt.Errorf("kind create cluster %q with %s: %s", o.Name, o.Choice.Image, msg)
	}
	return c, nil
}

// Delete deletes the cluster.
func (c *Cluster) Delete() error { return c.provider.Delete(c.Name, c.Kubeconfig) }

// DeleteCluster deletes a kind cluster by name if it exists.
func DeleteCluster(name, kubeconfig string) error {
	p := cluster.NewProvider(cluster.ProviderWithDocker())
	names, err := p.List()
	if err != nil {
		return err
	}
	for _, n := range names {
		if n == name {
			return p.Delete(name, kubeconfig)
		}
	}
	return nil
}

// ControlPlane is the name of the cluster's (single) node container.
func (c *Cluster) ControlPlane() string { return c.Name + "-control-plane" }

// Exec runs a command on the control-plane node.
func (c *Cluster) Exec(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	a := []string{"exec"}
	if stdin != nil {
		a = append(a, "-i")
	}
	cmd := exec.CommandContext(ctx, "docker", append(append(a, c.ControlPlane()), args...)...)
	cmd.Stdin = stdin
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

// Kubectl runs kubectl on the node with the admin kubeconfig.
func (c *Cluster) Kubectl(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	return c.Exec(ctx, stdin, append([]string{"kubectl", "--kubeconfig=/etc/kubernetes/admin.conf"}, args...)...)
}

// WaitNodeReady polls until every node reports Ready.
func (c *Cluster) WaitNodeReady(ctx context.Context, timeout time.Duration) error {
	return poll(ctx, timeout, func() (bool, string) {
		out, err := c.Kubectl(ctx, nil, "get", "nodes", "-o", "json")
		if err != nil {
			return false, err.Error()
		}
		var list struct {
			Items []struct {
				Metadata struct{ Name string }
				Status   struct {
					Conditions []struct{ Type, Status string }
				}
			}
		}
		if err := json.Unmarshal(out, &list); err != nil {
			return false, err.Error()
		}
		if len(list.Items) == 0 {
			return false, "no nodes"
		}
		for _, n := range list.Items {
			ready := false
			for _, cond := range n.Status.Conditions {
				if cond.Type == "Ready" && cond.Status == "True" {
					ready = true
				}
			}
			if !ready {
				return false, "node " + n.Metadata.Name + " not Ready"
			}
		}
		return true, ""
	})
}

// NetworkGateway returns the IPv4 gateway of the docker network kind uses.
func NetworkGateway(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", "network", "inspect", "kind", "-f",
		"{{range .IPAM.Config}}{{.Gateway}} {{end}}").Output()
	if err != nil {
		return "", fmt.Errorf("docker network inspect kind: %w", err)
	}
	for _, gw := range strings.Fields(string(out)) {
		if !strings.Contains(gw, ":") {
			return gw, nil
		}
	}
	return "", errors.New("kind network has no IPv4 gateway")
}

// TrustRegistry writes a certs.d hosts.toml on the node so containerd pulls
// from the plain-HTTP registry at hostPort (ref §9). No restart is needed.
func (c *Cluster) TrustRegistry(ctx context.Context, hostPort string) error {
	dir := "/etc/containerd/certs.d/" + hostPort
	_, err := c.Exec(ctx, bytes.NewReader(RenderRegistryHosts(hostPort)),
		"sh", "-c", "mkdir -p '"+dir+"' && cat > '"+dir+"/hosts.toml'")
	return err
}

// poll calls f every second until it reports done or timeout passes.
func poll(ctx context.Context, timeout time.Duration, f func() (bool, string)) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		done, why := f()
		if done {
			return nil
		}
		last = why
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s: %s", timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Poll is poll for callers outside the package (the integration test).
func Poll(ctx context.Context, timeout time.Duration, f func() (bool, string)) error {
	return poll(ctx, timeout, f)
}
