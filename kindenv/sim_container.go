package kindenv

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// startSim (re)starts the simulator container on the kind network, waits
// for it, and rewrites endpoints.json with the addresses published on the
// host's loopback, so `azsim trace`, `pull`, `env` reach it.
func startSim(ctx context.Context, ctr string, ix *world.Index, stateDir, token string, pools []*world.NodePoolInfo, ports map[string]int) (api.Endpoints, string, error) {
	_, _ = docker(ctx, "rm", "-f", ctr)
	args := []string{"run", "-d", "--name", ctr, "--network", "kind", "--restart", "unless-stopped",
		"--label", "io.azsim.kind=" + strings.TrimPrefix(ctr, "azsim-sim-"),
		"-v", stateDir + ":" + stateMount, "-e", "AZSIM_ADMIN_TOKEN",
		"-p", fmt.Sprintf("127.0.0.1::%d", SimHTTPSPort), "-p", fmt.Sprintf("127.0.0.1::%d", SimAdminPort)}
	for _, h := range ix.Hosts() {
		args = append(args, "--network-alias", h)
	}
	for _, p := range pools {
		args = append(args, "-p", fmt.Sprintf("127.0.0.1::%d", ports[p.Cluster.Name+"/"+p.Name]))
	}
	args = append(args, SimImage, "up", "--config", stateMount+"/"+worldFile, "--state-dir", stateMount,
		"--https-addr", fmt.Sprintf("0.0.0.0:%d", SimHTTPSPort), "--admin-addr", fmt.Sprintf("0.0.0.0:%d", SimAdminPort),
		"--imds-addr", fmt.Sprintf("0.0.0.0:%d", SimIMDSBasePort))
	if _, err := dockerEnv(ctx, []string{"AZSIM_ADMIN_TOKEN=" + token}, args...); err != nil {
		return api.Endpoints{}, "", err
	}
	return simEndpoints(ctx, ctr, ix, stateDir, ports)
}

// simEndpoints waits until the simulator container answers /healthz and
// writes endpoints.json with the addresses it publishes on the host's
// loopback (the container's own `up` writes its in-container view there
// when it starts). It returns them and the container's kind address.
func simEndpoints(ctx context.Context, ctr string, ix *world.Index, stateDir string, ports map[string]int) (api.Endpoints, string, error) {
	ep := api.Endpoints{IMDS: map[string]string{}, CAFile: filepath.Join(stateDir, "ca.crt"), Hosts: ix.Hosts()}
	if len(ix.Tenants) > 0 {
		ep.TenantID = ix.Tenants[0].ID
	}
	var err error
	if ep.Admin, err = publishedPort(ctx, ctr, SimAdminPort); err != nil {
		return ep, "", err
	}
	if err := poll(ctx, time.Minute, func() (bool, string) {
		resp, err := http.Get("http://" + ep.Admin + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	}); err != nil {
		logs, _ := docker(ctx, "logs", "--tail", "30", ctr)
		return ep, "", fmt.Errorf("simulator container %s is not healthy: %v\n%s", ctr, err, logs)
	}
	ip, err := docker(ctx, "inspect", "-f", `{{with index .NetworkSettings.Networks "kind"}}{{.IPAddress}}{{end}}`, ctr)
	if err != nil || ip == "" {
		return ep, "", fmt.Errorf("address of %s on the kind network: %v", ctr, err)
	}
	if ep.HTTPS, err = publishedPort(ctx, ctr, SimHTTPSPort); err != nil {
		return ep, "", err
	}
	for _, p := range ix.NodePools() {
		ref := p.Cluster.Name + "/" + p.Name
		if ep.IMDS[ref], err = publishedPort(ctx, ctr, ports[ref]); err != nil {
			return ep, "", err
		}
	}
	return ep, ip, writeEndpoints(stateDir, ep)
}

// imdsPorts gives every node pool of the world its IMDS port in the
// container: SimIMDSBasePort + its index in world order.
func imdsPorts(ix *world.Index) map[string]int {
	ports := map[string]int{}
	for i, p := range ix.NodePools() {
		ports[p.Cluster.Name+"/"+p.Name] = SimIMDSBasePort + i
	}
	return ports
}

// publishedPort is where the container's port is published on 127.0.0.1.
func publishedPort(ctx context.Context, ctr string, port int) (string, error) {
	out, err := docker(ctx, "port", ctr, fmt.Sprintf("%d/tcp", port))
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

func caConfigMap(ns string, ca []byte) []byte {
	b, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "azsim-ca", "namespace": ns, "labels": map[string]string{"app.kubernetes.io/managed-by": "azsim"}},
		"data":     map[string]string{"ca.crt": string(ca)},
	})
	return b
}

// CheckIssuer asks the cluster's TokenRequest API for a token and checks
// that kube-apiserver signs as the world's issuer with the world's key.
func CheckIssuer(ctx context.Context, c *Cluster, issuer, kid string) error {
	var out []byte
	// The service-account controller creates "default" shortly after the
	// control plane is up.
	if err := poll(ctx, time.Minute, func() (bool, string) {
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
