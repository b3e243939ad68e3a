package kindenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/kindcluster"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/kindenv/internal/render"
	"github.com/azsim/azsim/kindenv/internal/simcontainer"
)

// ensureCluster creates the kind cluster, or reuses an existing one when
// asked to and it has the nodes (and node image) asked for; otherwise it
// recreates it and says why.
func (r *upRun) ensureCluster(ctx context.Context) error {
	kubeconfig := r.dir.File(kindstate.KubeconfigFile)
	exists, err := kindcluster.Exists(r.o.Name)
	if err != nil {
		return err
	}
	r.c = kindcluster.Open(r.o.Name, r.choice.Image, kubeconfig)
	if exists && r.o.Reuse {
		why, err := r.mismatch(ctx)
		if err != nil {
			why = err.Error()
		}
		if why == "" {
			r.logf("reusing kind cluster %s (%s)", r.o.Name, describeNodes(r.nodes))
			return r.relabel(ctx)
		}
		r.logf("recreating kind cluster %s despite --reuse: %s", r.o.Name, why)
	}
	if exists {
		if !r.o.Reuse {
			r.logf("deleting the existing kind cluster %s (pass --reuse to keep it)", r.o.Name)
		}
		if err := kindcluster.Delete(r.o.Name, kubeconfig); err != nil {
			return err
		}
	}
	return r.createCluster(ctx)
}

func (r *upRun) createCluster(ctx context.Context) error {
	r.logf("creating kind cluster %s with %s (%s): %s", r.o.Name, r.choice.Image, r.choice.Reason, describeNodes(r.nodes))
	start := time.Now()
	co, err := r.clusterOptions(r.dir.File(kindstate.NodeDirName))
	if err != nil {
		return err
	}
	c, err := kindcluster.Create(ctx, kindcluster.CreateOptions{Name: r.o.Name, Choice: r.choice, Kubeconfig: r.c.Kubeconfig, Extra: co})
	if err != nil {
		return err
	}
	r.c = c
	r.step("kind create cluster", start)
	return nil
}

// clusterOptions are the wiring of every node (azsim's files, containerd's
// registry trust, the kubelet's credential provider, the issuer) and each
// node's own part: its pool's labels, the service-account keys on the
// control plane, its CNI config when the nodes route pod subnets. nodeDir
// is the host directory of the node files.
func (r *upRun) clusterOptions(nodeDir string) (render.ClusterOptions, error) {
	binDir := render.NodeBinDir
	common := []render.Mount{
		{HostPath: nodeDir, ContainerPath: render.NodeDir, ReadOnly: true},
		{HostPath: filepath.Join(nodeDir, "certs.d"), ContainerPath: render.NodeCertsDir},
	}
	if r.o.ProviderBinDir != "" {
		abs, err := filepath.Abs(r.o.ProviderBinDir)
		if err != nil {
			return render.ClusterOptions{}, err
		}
		common = append(common, render.Mount{HostPath: abs, ContainerPath: render.NodePluginDir, ReadOnly: true})
		binDir = render.NodePluginDir
	}
	var nodes []render.NodeOptions
	for _, n := range r.nodes {
		no := render.NodeOptions{Role: n.Role, Labels: r.labels(n)}
		if n.Role == kindstate.RoleControlPlane {
			no.Mounts = append(no.Mounts,
				render.Mount{HostPath: filepath.Join(nodeDir, "sa.key"), ContainerPath: render.NodeSAKey, ReadOnly: true},
				render.Mount{HostPath: filepath.Join(nodeDir, "sa.pub"), ContainerPath: render.NodeSAPub, ReadOnly: true})
		}
		if r.cni == kindstate.CNIStaticPTPRoutes {
			no.Mounts = append(no.Mounts, render.Mount{HostPath: cniFile(nodeDir, n.Name), ContainerPath: render.NodeCNIConfig, ReadOnly: true})
		}
		nodes = append(nodes, no)
	}
	return render.ClusterOptions{Mounts: common, Nodes: nodes,
		KubeadmPatches: render.WiringPatches(render.Wiring{IssuerURL: r.wc.IssuerURL, ProviderConfig: render.NodeProviderConfig, ProviderBinDir: binDir})}, nil
}

// waitNodes waits for every node, checks they are the nodes planned and
// routes the pod subnets between nodes.
func (r *upRun) waitNodes(ctx context.Context) error {
	start := time.Now()
	if err := r.c.WaitNodeReady(ctx, 3*time.Minute); err != nil {
		return fmt.Errorf("nodes not Ready: %w", err)
	}
	have, err := existingNodes(ctx, r.c)
	if err != nil {
		return err
	}
	if why := topologyMismatch(r.nodes, have); why != "" {
		return fmt.Errorf("kind cluster %s is not what was asked for: %s", r.o.Name, why)
	}
	r.step("node Ready", start)
	start = time.Now()
	if err := r.nodeAddresses(ctx); err != nil {
		return err
	}
	if r.cni == kindstate.CNIStaticPTPRoutes {
		if err := r.applyRoutes(ctx); err != nil {
			return err
		}
		r.step("pod routes between nodes", start)
	}
	return nil
}

// startSimulator runs the simulator on the kind network.
func (r *upRun) startSimulator(ctx context.Context) error {
	start := time.Now()
	ep, ip, err := simcontainer.Start(ctx, kindstate.ContainerName(r.o.Name), r.ix, r.stateDir, r.token, r.ix.NodePools(), r.imdsPort)
	if err != nil {
		return err
	}
	r.ep, r.simIP = ep, ip
	r.step("simulator container healthy", start)
	return nil
}

// wireNodes points each node's 169.254.169.254 at its pool's IMDS, writes
// the CA ConfigMaps and loads azsim's image into every node.
func (r *upRun) wireNodes(ctx context.Context) error {
	start := time.Now()
	for i := range r.nodes {
		n := &r.nodes[i]
		n.IMDS = net.JoinHostPort(r.simIP, strconv.Itoa(r.imdsPort[r.wc.Name+"/"+n.IMDSPool]))
		if _, err := docker.Exec(ctx, n.Name, bytes.NewReader(render.RenderIMDSScript(n.IMDS)), "sh", "-s"); err != nil {
			return fmt.Errorf("IMDS DNAT on %s: %w", n.Name, err)
		}
	}
	ca, err := os.ReadFile(r.dir.File("ca.crt"))
	if err != nil {
		return err
	}
	for _, ns := range []string{"default", "kube-system"} {
		if _, err := r.c.Kubectl(ctx, bytes.NewReader(simcontainer.CAConfigMap(ns, ca)), "apply", "-f", "-"); err != nil {
			return fmt.Errorf("CA ConfigMap: %w", err)
		}
	}
	if err := kindcluster.LoadImage(ctx, r.o.Name, r.img, kindstate.SimImage); err != nil {
		return err
	}
	r.step("node wiring", start)
	return nil
}

// describeNodes is "name (pool), ..." for the log.
func describeNodes(nodes []kindstate.NodeInfo) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		what := n.Pool
		if what == "" {
			what = "dedicated control plane, IMDS of " + n.IMDSPool
		}
		parts[i] = fmt.Sprintf("%s (%s)", n.Name, what)
	}
	return strings.Join(parts, ", ")
}
