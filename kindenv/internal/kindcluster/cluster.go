// Package kindcluster drives kind clusters through sigs.k8s.io/kind: it
// chooses the node image, creates, inspects and deletes clusters, runs
// commands on their nodes and loads images into them.
package kindcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/cluster"
	kindcmd "sigs.k8s.io/kind/pkg/cmd"
	kindexec "sigs.k8s.io/kind/pkg/exec"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/render"
)

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
	Extra render.ClusterOptions
}

// Cluster is a kind cluster created by Create.
type Cluster struct {
	Name       string
	Image      string
	Kubeconfig string
	Config     []byte // the rendered kind config
	Took       time.Duration
	provider   *cluster.Provider
}

// Create renders the kind config for the chosen image and host and
// creates the cluster through sigs.k8s.io/kind/pkg/cluster (provider
// docker). kind only warns when its readiness wait times out, so readiness
// must be checked by the caller (WaitNodeReady).
func Create(ctx context.Context, o CreateOptions) (*Cluster, error) {
	if err := docker.Answers(ctx); err != nil {
		return nil, err
	}
	v1, err := docker.HostCgroupV1(ctx)
	if err != nil {
		return nil, err
	}
	if o.Wait == 0 {
		o.Wait = 3 * time.Minute
	}
	co := o.Extra
	co.Name, co.Offline, co.CgroupV1 = o.Name, o.Choice.Offline, v1
	raw := render.RenderClusterConfig(co)
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

// Open is the existing kind cluster name (its nodes of image, its
// kubeconfig at kubeconfig).
func Open(name, image, kubeconfig string) *Cluster {
	return &Cluster{Name: name, Image: image, Kubeconfig: kubeconfig, provider: cluster.NewProvider(cluster.ProviderWithDocker())}
}

// Delete deletes the cluster.
func (c *Cluster) Delete() error { return c.provider.Delete(c.Name, c.Kubeconfig) }

// Delete deletes a kind cluster by name if it exists.
func Delete(name, kubeconfig string) error {
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
	return docker.Poll(ctx, timeout, func() (bool, string) {
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

// TrustRegistry writes a certs.d hosts.toml on the node so containerd pulls
// from the plain-HTTP registry at hostPort (kind-offline.md 9). No restart is needed.
func (c *Cluster) TrustRegistry(ctx context.Context, hostPort string) error {
	dir := "/etc/containerd/certs.d/" + hostPort
	_, err := c.Exec(ctx, bytes.NewReader(render.RenderRegistryHosts(hostPort)),
		"sh", "-c", "mkdir -p '"+dir+"' && cat > '"+dir+"/hosts.toml'")
	return err
}

// Exists reports whether a kind cluster is called name.
func Exists(name string) (bool, error) {
	names, err := cluster.NewProvider(cluster.ProviderWithDocker()).List()
	if err != nil {
		return false, err
	}
	for _, n := range names {
		if n == name {
			return true, nil
		}
	}
	return false, nil
}

// NodeNames lists the cluster's node containers.
func (c *Cluster) NodeNames(ctx context.Context) []string {
	nodes, err := c.provider.ListNodes(c.Name)
	if err != nil || len(nodes) == 0 {
		return []string{c.ControlPlane()}
	}
	var out []string
	for _, n := range nodes {
		out = append(out, n.String())
	}
	sort.Strings(out)
	return out
}

// WaitCoreDNS polls until every CoreDNS pod is Running and ready.
func (c *Cluster) WaitCoreDNS(ctx context.Context, timeout time.Duration) error {
	return docker.Poll(ctx, timeout, func() (bool, string) {
		out, err := c.Kubectl(ctx, nil, "-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-dns",
			"-o", `jsonpath={range .items[*]}{.status.phase}/{.status.containerStatuses[0].ready} {end}`)
		if err != nil {
			return false, err.Error()
		}
		states := strings.Fields(string(out))
		if len(states) == 0 {
			return false, "no CoreDNS pods"
		}
		for _, s := range states {
			if s != "Running/true" {
				return false, "CoreDNS pods: " + string(out)
			}
		}
		return true, ""
	})
}

// CheckIssuer asks the cluster's TokenRequest API for a token and checks
// that kube-apiserver signs as the world's issuer with the world's key.
func CheckIssuer(ctx context.Context, c *Cluster, issuer, kid string) error {
	var out []byte
	// The service-account controller creates "default" shortly after the
	// control plane is up.
	if err := docker.Poll(ctx, time.Minute, func() (bool, string) {
		var err error
		out, err = c.Kubectl(ctx, nil, "create", "token", "default", "-n", "default", "--audience", "api://AzureADTokenExchange")
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	}); err != nil {
		return fmt.Errorf("kubectl create token: %w", err)
	}
	tok, err := jwtx.Parse(strings.TrimSpace(string(out)))
	if err != nil {
		return fmt.Errorf("token from the cluster: %w", err)
	}
	var claims struct {
		Iss string `json:"iss"`
	}
	if err := tok.Claims(&claims); err != nil {
		return err
	}
	if claims.Iss != issuer || tok.KID != kid {
		return fmt.Errorf("kube-apiserver signs service-account tokens as iss %q kid %q; want the world's issuer %q and kid %q", claims.Iss, tok.KID, issuer, kid)
	}
	return nil
}
