package kindenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	gcrname "github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	"github.com/azsim/azsim/internal/jwtx"
	"github.com/azsim/azsim/internal/simimage"
	"github.com/azsim/azsim/internal/state"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

// Ports of the simulator container (on the kind network).
const (
	SimHTTPSPort = 443
	SimAdminPort = 8078
	// SimIMDSBasePort is the IMDS port of the world's first node pool; the
	// i-th pool (world order) listens on SimIMDSBasePort+i.
	SimIMDSBasePort = 8079
	// SimImage is the tag of azsim's own image in the engine and the nodes.
	SimImage = "azsim:kind"
	// stateMount is where the container sees the state directory.
	stateMount = "/var/lib/azsim"
)

// Files of a kind state directory (besides the simulator's own).
const (
	AdminTokenFile = "admin-token"
	KubeconfigFile = "kubeconfig"
	KindInfoFile   = "kind.json"
	worldFile      = "kind-world.json"
	nodeDirName    = "kind-node"
)

// worldForContainer is the world with every pool's IMDS on its container
// port (all interfaces), as JSON (a YAML subset).
func worldForContainer(w *world.World, ports map[string]int) ([]byte, error) {
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

func adminToken(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), nil
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(buf)
	return tok, state.WriteFile(path, []byte(tok+"\n"), 0o600)
}

// writeNodeFiles fills the directory mounted at NodeDir (and the sa key
// pair, and certs.d) for the node.
func writeNodeFiles(nodeDir, caFile string, o UpOptions, key *rsa.PrivateKey, tenant, kubeletClientID string, logins []string) error {
	for _, d := range []string{nodeDir, filepath.Join(nodeDir, "bin"), filepath.Join(nodeDir, "certs.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return fmt.Errorf("reading the azsim binary: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	provider := RenderCredentialProviderConfig(AzsimProvider(logins))
	if o.ProviderConfig != "" {
		if provider, err = os.ReadFile(o.ProviderConfig); err != nil {
			return fmt.Errorf("credential provider config: %w", err)
		}
	}
	files := map[string][]byte{
		"ca.crt":                   ca,
		"azure.json":               RenderAzureJSON(tenant, kubeletClientID),
		"credential-provider.yaml": provider,
		"sa.key":                   pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub":                   pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	}
	for _, host := range logins {
		if err := os.MkdirAll(filepath.Join(nodeDir, "certs.d", host), 0o755); err != nil {
			return err
		}
		files[filepath.Join("certs.d", host, "hosts.toml")] = RenderRegistryHostsCA(host, NodeCAFile)
	}
	for name, data := range files {
		mode := os.FileMode(0o644)
		if name == "sa.key" {
			mode = 0o600
		}
		if err := state.WriteFile(filepath.Join(nodeDir, name), data, mode); err != nil {
			return err
		}
	}
	return state.WriteFile(filepath.Join(nodeDir, "bin", "azsim"), bin, 0o755)
}

// loadIfChanged `docker load`s img as SimImage unless the engine already
// has that exact image under the tag (the image is reproducible: same
// binary, same ID).
func loadIfChanged(ctx context.Context, img v1.Image) error {
	id, err := img.ConfigName()
	if err != nil {
		return err
	}
	if have, err := docker(ctx, "image", "inspect", "-f", "{{.Id}}", SimImage); err == nil && have == id.String() {
		return nil
	}
	return simimage.Load(ctx, img, SimImage)
}

func clusterExists(name string) (bool, error) {
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

// nodeNames lists the cluster's node containers.
func (c *Cluster) nodeNames(ctx context.Context) []string {
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

func dockerExec(ctx context.Context, node string, stdin io.Reader, args ...string) ([]byte, error) {
	a := []string{"exec"}
	if stdin != nil {
		a = append(a, "-i")
	}
	cmd := exec.CommandContext(ctx, "docker", append(append(a, node), args...)...)
	cmd.Stdin = stdin
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

func docker(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// startSim (re)starts the simulator container on the kind network, waits
// for it, and rewrites endpoints.json with the addresses published on the
// host's loopback, so `azsim trace`, `pull`, `env` reach it.
func startSim(ctx context.Context, ctr string, ix *world.Index, stateDir, token string, pools []*world.NodePoolInfo, ports map[string]int) (sim.Endpoints, string, error) {
	var ep sim.Endpoints
	_, _ = docker(ctx, "rm", "-f", ctr)
	args := []string{"run", "-d", "--name", ctr, "--network", "kind", "--restart", "unless-stopped",
		"--label", "io.azsim.kind=" + strings.TrimPrefix(ctr, "azsim-sim-"),
		"-v", stateDir + ":" + stateMount, "-e", "AZSIM_ADMIN_TOKEN=" + token,
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
	if _, err := docker(ctx, args...); err != nil {
		return ep, "", err
	}
	published := func(port int) (string, error) {
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
	admin, err := published(SimAdminPort)
	if err != nil {
		return ep, "", err
	}
	if err := Poll(ctx, time.Minute, func() (bool, string) {
		resp, err := http.Get("http://" + admin + "/healthz")
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
	https, err := published(SimHTTPSPort)
	if err != nil {
		return ep, "", err
	}
	ep = sim.Endpoints{HTTPS: https, Admin: admin, IMDS: map[string]string{}, CAFile: filepath.Join(stateDir, "ca.crt"),
		Hosts: ix.Hosts()}
	if len(ix.Tenants) > 0 {
		ep.TenantID = ix.Tenants[0].ID
	}
	for _, p := range pools {
		ref := p.Cluster.Name + "/" + p.Name
		a, err := published(ports[ref])
		if err != nil {
			return ep, "", err
		}
		ep.IMDS[ref] = a
	}
	b, _ := json.MarshalIndent(ep, "", "  ")
	return ep, ip, state.WriteFile(filepath.Join(stateDir, "endpoints.json"), append(b, '\n'), 0o644)
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

// LoadImage loads img (tagged tag) into every node of cluster name through
// an image archive (the offline node image has no crictl).
func LoadImage(ctx context.Context, name string, img v1.Image, tag string) error {
	ref, err := gcrname.NewTag(tag)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "azsim-image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tmp.Close()
	if err := tarball.WriteToFile(tmp.Name(), ref, img); err != nil {
		return err
	}
	return loadArchive(name, tmp.Name(), tag)
}

func loadArchive(name, archive, image string) error {
	p := cluster.NewProvider(cluster.ProviderWithDocker())
	nodes, err := p.ListInternalNodes(name)
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		return fmt.Errorf("kind cluster %q has no nodes", name)
	}
	for _, n := range nodes {
		f, err := os.Open(archive)
		if err != nil {
			return err
		}
		err = nodeutils.LoadImageArchive(n, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("loading %s into %s: %w", image, n.String(), err)
		}
	}
	return nil
}

// LoadDockerImage saves image from the engine and loads it into every node.
func LoadDockerImage(ctx context.Context, name, image string) error {
	tmp, err := os.CreateTemp("", "azsim-image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tmp.Close()
	if _, err := docker(ctx, "save", "-o", tmp.Name(), image); err != nil {
		return err
	}
	return loadArchive(name, tmp.Name(), image)
}

// Down deletes the kind cluster and the simulator container; the state
// directory (CA, keys) is kept.
func Down(ctx context.Context, name, stateDir string) error {
	if stateDir == "" {
		stateDir = DefaultStateDir(name)
	}
	_, _ = docker(ctx, "rm", "-f", ContainerName(name))
	_ = os.Remove(filepath.Join(stateDir, "endpoints.json"))
	return DeleteCluster(name, filepath.Join(stateDir, KubeconfigFile))
}

// WaitCoreDNS polls until every CoreDNS pod is Running and ready.
func (c *Cluster) WaitCoreDNS(ctx context.Context, timeout time.Duration) error {
	return poll(ctx, timeout, func() (bool, string) {
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
