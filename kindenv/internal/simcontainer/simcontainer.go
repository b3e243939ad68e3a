// Package simcontainer runs the simulator in a container on the kind
// network: its world, image, ports and the endpoints it publishes.
package simcontainer

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/internal/platform/ociimage"
	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/world"
)

// Start (re)starts the simulator container on the kind network, waits
// for it, and rewrites endpoints.json with the addresses published on the
// host's loopback, so `azsim trace`, `pull`, `env` reach it.
func Start(ctx context.Context, ctr string, ix *world.Index, stateDir, token string, pools []*world.NodePoolInfo, ports map[string]int) (api.Endpoints, string, error) {
	_, _ = docker.Run(ctx, "rm", "-f", ctr)
	args := []string{"run", "-d", "--name", ctr, "--network", "kind", "--restart", "unless-stopped",
		"--label", "io.azsim.kind=" + strings.TrimPrefix(ctr, "azsim-sim-"),
		"-v", stateDir + ":" + kindstate.StateMount, "-e", "AZSIM_ADMIN_TOKEN",
		"-p", fmt.Sprintf("127.0.0.1::%d", kindstate.SimHTTPSPort), "-p", fmt.Sprintf("127.0.0.1::%d", kindstate.SimAdminPort)}
	for _, h := range ix.Hosts() {
		args = append(args, "--network-alias", h)
	}
	for _, p := range pools {
		args = append(args, "-p", fmt.Sprintf("127.0.0.1::%d", ports[p.Cluster.Name+"/"+p.Name]))
	}
	args = append(args, kindstate.SimImage, "up", "--config", kindstate.StateMount+"/"+kindstate.WorldFile, "--state-dir", kindstate.StateMount,
		"--https-addr", fmt.Sprintf("0.0.0.0:%d", kindstate.SimHTTPSPort), "--admin-addr", fmt.Sprintf("0.0.0.0:%d", kindstate.SimAdminPort),
		"--imds-addr", fmt.Sprintf("0.0.0.0:%d", kindstate.SimIMDSBasePort))
	if _, err := docker.RunEnv(ctx, []string{"AZSIM_ADMIN_TOKEN=" + token}, args...); err != nil {
		return api.Endpoints{}, "", err
	}
	return Endpoints(ctx, ctr, ix, stateDir, ports)
}

// Endpoints waits until the simulator container answers /healthz and
// writes endpoints.json with the addresses it publishes on the host's
// loopback (the container's own `up` writes its in-container view there
// when it starts). It returns them and the container's kind address.
func Endpoints(ctx context.Context, ctr string, ix *world.Index, stateDir string, ports map[string]int) (api.Endpoints, string, error) {
	ep := api.Endpoints{IMDS: map[string]string{}, CAFile: filepath.Join(stateDir, "ca.crt"), Hosts: ix.Hosts()}
	if len(ix.Tenants) > 0 {
		ep.TenantID = ix.Tenants[0].ID
	}
	var err error
	if ep.Admin, err = publishedPort(ctx, ctr, kindstate.SimAdminPort); err != nil {
		return ep, "", err
	}
	// /healthz needs no token; only ctx bounds a call.
	ac := client.New(ep.Admin, client.WithTimeout(0))
	if err := docker.Poll(ctx, time.Minute, func() (bool, string) {
		if err := ac.Healthz(ctx); err != nil {
			return false, err.Error()
		}
		return true, ""
	}); err != nil {
		logs, _ := docker.Run(ctx, "logs", "--tail", "30", ctr)
		return ep, "", fmt.Errorf("simulator container %s is not healthy: %v\n%s", ctr, err, logs)
	}
	ip, err := docker.Run(ctx, "inspect", "-f", `{{with index .NetworkSettings.Networks "kind"}}{{.IPAddress}}{{end}}`, ctr)
	if err != nil || ip == "" {
		return ep, "", fmt.Errorf("address of %s on the kind network: %v", ctr, err)
	}
	if ep.HTTPS, err = publishedPort(ctx, ctr, kindstate.SimHTTPSPort); err != nil {
		return ep, "", err
	}
	for _, p := range ix.NodePools() {
		ref := p.Cluster.Name + "/" + p.Name
		if ep.IMDS[ref], err = publishedPort(ctx, ctr, ports[ref]); err != nil {
			return ep, "", err
		}
	}
	return ep, ip, WriteEndpoints(stateDir, ep)
}

// IMDSPorts gives every node pool of the world its IMDS port in the
// container: kindstate.SimIMDSBasePort + its index in world order.
func IMDSPorts(ix *world.Index) map[string]int {
	ports := map[string]int{}
	for i, p := range ix.NodePools() {
		ports[p.Cluster.Name+"/"+p.Name] = kindstate.SimIMDSBasePort + i
	}
	return ports
}

// publishedPort is where the container's port is published on 127.0.0.1.
func publishedPort(ctx context.Context, ctr string, port int) (string, error) {
	out, err := docker.Run(ctx, "port", ctr, fmt.Sprintf("%d/tcp", port))
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "127.0.0.1:") {
			return l, nil
		}
	}
	return "", fmt.Errorf("port %d of %s is not published on 127.0.0.1: %q", port, ctr, out)
}

// CAConfigMap is the azsim-ca ConfigMap of namespace ns holding ca.
func CAConfigMap(ns string, ca []byte) []byte {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "azsim-ca", "namespace": ns, "labels": map[string]string{"app.kubernetes.io/managed-by": "azsim"}},
		"data":     map[string]string{"ca.crt": string(ca)},
	})
	return b
}

// WorldForContainer is the world with every pool's IMDS on its container
// port (all interfaces), as JSON (a YAML subset).
func WorldForContainer(w *world.World, ports map[string]int) ([]byte, error) {
	b, err := json.Marshal(w)
	if err != nil {
		return nil, err
	}
	var cp world.World
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, err
	}
	for ci := range cp.Clusters {
		for pi := range cp.Clusters[ci].NodePools {
			ref := cp.Clusters[ci].Name + "/" + cp.Clusters[ci].NodePools[pi].Name
			if port, ok := ports[ref]; ok {
				cp.Clusters[ci].NodePools[pi].IMDSAddress = "0.0.0.0:" + strconv.Itoa(port)
			}
		}
	}
	return json.MarshalIndent(&cp, "", "  ")
}

// LoadImage `docker load`s img as kindstate.SimImage unless the engine
// already has that exact image under the tag (the image is reproducible:
// same binary, same ID).
func LoadImage(ctx context.Context, img v1.Image) error {
	id, err := img.ConfigName()
	if err != nil {
		return err
	}
	if have, err := docker.Run(ctx, "image", "inspect", "-f", "{{.Id}}", kindstate.SimImage); err == nil && have == id.String() {
		return nil
	}
	return ociimage.Load(ctx, img, kindstate.SimImage)
}

// WriteEndpoints writes ep as dir's endpoints.json.
func WriteEndpoints(dir string, ep api.Endpoints) error {
	b, _ := json.MarshalIndent(ep, "", "  ")
	return state.WriteFile(filepath.Join(dir, "endpoints.json"), append(b, '\n'), 0o644)
}
