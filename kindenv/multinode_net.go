package kindenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/kindcluster"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/kindenv/internal/render"
)

// cniFile is node's rendered conflist in the node directory.
func cniFile(nodeDir, node string) string { return filepath.Join(nodeDir, "cni", node+".conflist") }

// writeCNIFiles renders each node's conflist (its own /24) when the nodes
// route pod subnets between them.
func writeCNIFiles(nodeDir, cni string, nodes []kindstate.NodeInfo) error {
	if cni != kindstate.CNIStaticPTPRoutes {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(nodeDir, "cni"), 0o755); err != nil {
		return fmt.Errorf("cni config dir: %w", err)
	}
	for _, n := range nodes {
		if err := state.WriteFile(cniFile(nodeDir, n.Name), render.RenderCNIConfig(render.CNINetworkName, n.PodSubnet), 0o644); err != nil {
			return fmt.Errorf("cni config of %s: %w", n.Name, err)
		}
	}
	return nil
}

// nodeRoutes are the routes node i needs: every other node's pod subnet via
// that node's address.
func nodeRoutes(nodes []kindstate.NodeInfo, i int) []render.Route {
	var out []render.Route
	for j, n := range nodes {
		if j != i && n.PodSubnet != "" {
			out = append(out, render.Route{Subnet: n.PodSubnet, Via: n.IP})
		}
	}
	return out
}

// nodeAddresses records every node's address on the kind network.
func (r *upRun) nodeAddresses(ctx context.Context) error {
	for i := range r.nodes {
		ip, err := docker.Run(ctx, "inspect", "-f", `{{with index .NetworkSettings.Networks "kind"}}{{.IPAddress}}{{end}}`, r.nodes[i].Name)
		if err != nil || ip == "" {
			return fmt.Errorf("address of node %s on the kind network: %v", r.nodes[i].Name, err)
		}
		r.nodes[i].IP = ip
	}
	return nil
}

// applyRoutes installs the routes between pod subnets on every node.
func (r *upRun) applyRoutes(ctx context.Context) error {
	for i, n := range r.nodes {
		script := render.RenderRoutesScript(n.Name, nodeRoutes(r.nodes, i))
		if _, err := docker.Exec(ctx, n.Name, bytes.NewReader(script), "sh", "-s"); err != nil {
			return fmt.Errorf("pod routes on %s: %w", n.Name, err)
		}
	}
	return nil
}

// existingNodes reads the cluster's nodes: name, role, and the pool of
// their agent-pool label.
func existingNodes(ctx context.Context, c *kindcluster.Cluster) ([]kindstate.NodeInfo, error) {
	out, err := c.Kubectl(ctx, nil, "get", "nodes", "-o", "json")
	if err != nil {
		return nil, fmt.Errorf("listing the nodes of kind cluster %s: %w", c.Name, err)
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Name   string
				Labels map[string]string
			}
		}
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("nodes of kind cluster %s: %w", c.Name, err)
	}
	var nodes []kindstate.NodeInfo
	for _, it := range list.Items {
		n := kindstate.NodeInfo{Name: it.Metadata.Name, Role: kindstate.RoleWorker, Pool: it.Metadata.Labels["kubernetes.azure.com/agentpool"]}
		if _, ok := it.Metadata.Labels["node-role.kubernetes.io/control-plane"]; ok {
			n.Role = kindstate.RoleControlPlane
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// topologyMismatch compares the nodes asked for with the nodes a cluster
// has (name, role, pool) and says how they differ ("" when they do not).
func topologyMismatch(want, have []kindstate.NodeInfo) string {
	key := func(nodes []kindstate.NodeInfo) []string {
		out := make([]string, len(nodes))
		for i, n := range nodes {
			pool := n.Pool
			if pool == "" {
				pool = "no pool"
			}
			out[i] = fmt.Sprintf("%s (%s, %s)", n.Name, n.Role, pool)
		}
		sort.Strings(out)
		return out
	}
	w, h := key(want), key(have)
	if strings.Join(w, "\n") == strings.Join(h, "\n") {
		return ""
	}
	return fmt.Sprintf("it has %s; wanted %s", strings.Join(h, ", "), strings.Join(w, ", "))
}

// mismatch says why the existing cluster cannot be reused ("" if it can):
// other nodes, pools, or node image.
func (r *upRun) mismatch(ctx context.Context) (string, error) {
	img, err := docker.Run(ctx, "inspect", "-f", "{{.Config.Image}}", r.c.ControlPlane())
	if err != nil {
		return "", err
	}
	if img != r.choice.Image {
		return fmt.Sprintf("its node image is %s; wanted %s", img, r.choice.Image), nil
	}
	have, err := existingNodes(ctx, r.c)
	if err != nil {
		return "", err
	}
	return topologyMismatch(r.nodes, have), nil
}

// relabel re-applies the agent-pool labels on a reused cluster (labels of
// clusters made by older versions converge).
func (r *upRun) relabel(ctx context.Context) error {
	for _, n := range r.nodes {
		labels := r.labels(n)
		if len(labels) == 0 {
			continue
		}
		args := []string{"label", "node", n.Name, "--overwrite"}
		keys := make([]string, 0, len(labels))
		for k := range labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			args = append(args, k+"="+labels[k])
		}
		if _, err := r.c.Kubectl(ctx, nil, args...); err != nil {
			return fmt.Errorf("labels of node %s: %w", n.Name, err)
		}
	}
	return nil
}
