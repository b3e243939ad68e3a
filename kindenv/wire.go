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
	"errors"
	"fmt"
	"io"
	"net"
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

	"github.com/azsim/azsim/internal/certs"
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

// UpOptions describe `azsim kind up`.
type UpOptions struct {
	// Name is the kind cluster's name (default "azsim").
	Name string
	// World is the simulated estate; WorldName labels it in messages.
	World     *world.World
	WorldName string
	// Cluster is the world cluster the kind cluster plays (default: first).
	Cluster string
	// NodePool is the pool the (single) node belongs to (default: the
	// cluster's first).
	NodePool string
	// StateDir holds the CA, keys, admin token, kubeconfig (default:
	// DefaultStateDir(Name)).
	StateDir string
	// Binary is a static linux/amd64 azsim binary: it becomes the
	// simulator's image and the nodes' credential provider.
	Binary string
	// Reuse keeps an existing cluster of that name (re-applying the wiring)
	// instead of recreating it.
	Reuse bool
	// Choice is the node image (default: ChooseNodeImage).
	Choice *Choice
	// ProviderConfig replaces the rendered CredentialProviderConfig (a host
	// file); ProviderBinDir is a host directory of plugin binaries mounted
	// at NodePluginDir and used as the kubelet's bin dir.
	ProviderConfig, ProviderBinDir string
	// Log receives progress (default: discard).
	Log io.Writer
}

// DefaultStateDir is where `azsim kind up --name NAME` keeps its state.
func DefaultStateDir(name string) string {
	return filepath.Join(state.DefaultPath(), "kind", name)
}

// Env is a wired cluster and its simulator, as recorded in kind.json.
type Env struct {
	Name       string `json:"name"`
	StateDir   string `json:"stateDir"`
	Kubeconfig string `json:"kubeconfig"`
	NodeImage  string `json:"nodeImage"`
	// Container is the simulator's container; SimIP its address on the
	// kind network.
	Container string `json:"container"`
	SimIP     string `json:"simIP"`
	// WorldCluster and NodePool are what the kind cluster plays.
	WorldCluster string `json:"worldCluster"`
	NodePool     string `json:"nodePool"`
	IssuerURL    string `json:"issuerURL"`
	// KID is the service-account signing key's kid (JWKS of the issuer).
	KID string `json:"kid"`
	// Endpoints as seen from the host (published on loopback).
	Endpoints sim.Endpoints `json:"endpoints"`
	// AdminToken authenticates the admin API.
	AdminToken string `json:"-"`
	// Timings of the steps, for the README.
	Timings map[string]string `json:"timings"`
}

// ContainerName is the simulator container of kind cluster name.
func ContainerName(name string) string { return "azsim-sim-" + name }

// Up creates (or reuses) a kind cluster wired to a simulator container.
func Up(ctx context.Context, o UpOptions) (*Env, error) {
	if o.Name == "" {
		o.Name = "azsim"
	}
	if o.StateDir == "" {
		o.StateDir = DefaultStateDir(o.Name)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.World == nil {
		o.World = world.Default()
	}
	logf := func(format string, args ...any) { fmt.Fprintf(o.Log, format+"\n", args...) }
	timings := map[string]string{}
	step := func(name string, start time.Time) {
		d := time.Since(start).Round(100 * time.Millisecond)
		timings[name] = d.String()
		logf("  %-28s %s", name, d)
	}
	if err := DockerAnswers(ctx); err != nil {
		return nil, err
	}
	stateDir, err := filepath.Abs(o.StateDir)
	if err != nil {
		return nil, err
	}

	// 1. The world: which cluster and pool the kind cluster plays.
	ix, err := world.Compile(o.World, time.Now())
	if err != nil {
		return nil, fmt.Errorf("world: %w", err)
	}
	wc, pool, err := pickClusterPool(ix, o.Cluster, o.NodePool)
	if err != nil {
		return nil, err
	}
	if !wc.IssuerEnabled() {
		return nil, fmt.Errorf("world cluster %s has its OIDC issuer disabled; the kind cluster needs one", wc.Name)
	}
	pools := ix.NodePools()
	imdsPort := map[string]int{}
	for i, p := range pools {
		imdsPort[p.Cluster.Name+"/"+p.Name] = SimIMDSBasePort + i
	}
	kindWorld, err := worldForContainer(o.World, imdsPort)
	if err != nil {
		return nil, err
	}

	// 2. State: CA, issuer key, admin token, node files.
	start := time.Now()
	dir, err := state.Open(stateDir)
	if err != nil {
		return nil, err
	}
	if _, err := certs.LoadOrCreateCA(dir.File("ca.crt"), dir.File("ca.key"), time.Now()); err != nil {
		return nil, err
	}
	ring, err := dir.Ring("issuer-" + wc.Name)
	if err != nil {
		return nil, err
	}
	active := ring[len(ring)-1]
	jk, err := jwtx.NewKey(active)
	if err != nil {
		return nil, err
	}
	token, err := adminToken(dir.File(AdminTokenFile))
	if err != nil {
		return nil, err
	}
	if err := state.WriteFile(dir.File(worldFile), kindWorld, 0o644); err != nil {
		return nil, err
	}
	nodeDir := dir.File(nodeDirName)
	var logins []string
	for _, r := range ix.Registries {
		logins = append(logins, r.LoginServer)
	}
	if wc.Kubelet == nil {
		return nil, fmt.Errorf("world cluster %s has no kubelet identity", wc.Name)
	}
	if err := writeNodeFiles(nodeDir, dir.File("ca.crt"), o, active, wc.TenantID, wc.Kubelet.ClientID, logins); err != nil {
		return nil, err
	}
	step("state (CA, keys, node files)", start)

	// 3. The simulator's image.
	start = time.Now()
	img, err := simimage.BuildFromFile(o.Binary)
	if err != nil {
		return nil, err
	}
	if err := loadIfChanged(ctx, img); err != nil {
		return nil, err
	}
	step("simulator image", start)

	// 4. The kind cluster.
	kubeconfig := dir.File(KubeconfigFile)
	exists, err := clusterExists(o.Name)
	if err != nil {
		return nil, err
	}
	choice := o.Choice
	if choice == nil {
		c := ChooseNodeImage(ctx, ChooseOptions{})
		choice = &c
	}
	c := &Cluster{Name: o.Name, Image: choice.Image, Kubeconfig: kubeconfig, provider: cluster.NewProvider(cluster.ProviderWithDocker())}
	if exists && o.Reuse {
		logf("reusing kind cluster %s", o.Name)
	} else {
		if exists {
			logf("deleting the existing kind cluster %s (pass --reuse to keep it)", o.Name)
			if err := DeleteCluster(o.Name, kubeconfig); err != nil {
				return nil, err
			}
		}
		logf("creating kind cluster %s with %s (%s)", o.Name, choice.Image, choice.Reason)
		start = time.Now()
		providerConfig, binDir := NodeProviderConfig, NodeBinDir
		mounts := []Mount{
			{HostPath: nodeDir, ContainerPath: NodeDir, ReadOnly: true},
			{HostPath: filepath.Join(nodeDir, "certs.d"), ContainerPath: NodeCertsDir},
			{HostPath: filepath.Join(nodeDir, "sa.key"), ContainerPath: NodeSAKey, ReadOnly: true},
			{HostPath: filepath.Join(nodeDir, "sa.pub"), ContainerPath: NodeSAPub, ReadOnly: true},
		}
		if o.ProviderBinDir != "" {
			abs, err := filepath.Abs(o.ProviderBinDir)
			if err != nil {
				return nil, err
			}
			mounts = append(mounts, Mount{HostPath: abs, ContainerPath: NodePluginDir, ReadOnly: true})
			binDir = NodePluginDir
		}
		cc, err := CreateCluster(ctx, CreateOptions{Name: o.Name, Choice: *choice, Kubeconfig: kubeconfig, Extra: ClusterOptions{
			NodeLabels:     map[string]string{"agentpool": pool.Name, "kubernetes.azure.com/agentpool": pool.Name, "kubernetes.azure.com/cluster": wc.Name},
			Mounts:         mounts,
			KubeadmPatches: WiringPatches(Wiring{IssuerURL: wc.IssuerURL, ProviderConfig: providerConfig, ProviderBinDir: binDir}),
		}})
		if err != nil {
			return nil, err
		}
		c = cc
		step("kind create cluster", start)
	}
	start = time.Now()
	if err := c.WaitNodeReady(ctx, 3*time.Minute); err != nil {
		return nil, fmt.Errorf("node not Ready: %w", err)
	}
	step("node Ready", start)
	// Pods resolve the Azure names through CoreDNS (which forwards to
	// Docker's DNS, where the simulator's aliases live).
	start = time.Now()
	if err := c.WaitCoreDNS(ctx, 3*time.Minute); err != nil {
		return nil, fmt.Errorf("CoreDNS not ready: %w", err)
	}
	step("CoreDNS ready", start)

	// 5. The simulator on the kind network.
	start = time.Now()
	ctr := ContainerName(o.Name)
	ep, simIP, err := startSim(ctx, ctr, ix, stateDir, token, pools, imdsPort)
	if err != nil {
		return nil, err
	}
	step("simulator container healthy", start)

	// 6. Node wiring that needs the simulator's address, the CA ConfigMap,
	// azsim's image in the nodes.
	start = time.Now()
	target := net.JoinHostPort(simIP, strconv.Itoa(imdsPort[wc.Name+"/"+pool.Name]))
	for _, node := range c.nodeNames(ctx) {
		if _, err := dockerExec(ctx, node, bytes.NewReader(RenderIMDSScript(target)), "sh", "-s"); err != nil {
			return nil, fmt.Errorf("IMDS DNAT on %s: %w", node, err)
		}
	}
	ca, err := os.ReadFile(dir.File("ca.crt"))
	if err != nil {
		return nil, err
	}
	for _, ns := range []string{"default", "kube-system"} {
		if _, err := c.Kubectl(ctx, bytes.NewReader(caConfigMap(ns, ca)), "apply", "-f", "-"); err != nil {
			return nil, fmt.Errorf("CA ConfigMap: %w", err)
		}
	}
	if err := LoadImage(ctx, o.Name, img, SimImage); err != nil {
		return nil, err
	}
	step("node wiring", start)

	// 7. The proof: a token from the cluster's TokenRequest API carries the
	// world's issuer and the kid of the issuer's JWKS.
	if err := CheckIssuer(ctx, c, wc.IssuerURL, jk.KID); err != nil {
		return nil, err
	}
	env := &Env{Name: o.Name, StateDir: stateDir, Kubeconfig: kubeconfig, NodeImage: c.Image, Container: ctr, SimIP: simIP,
		WorldCluster: wc.Name, NodePool: pool.Name, IssuerURL: wc.IssuerURL, KID: jk.KID, Endpoints: ep, AdminToken: token, Timings: timings}
	b, _ := json.MarshalIndent(env, "", "  ")
	if err := state.WriteFile(dir.File(KindInfoFile), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return env, nil
}

func pickClusterPool(ix *world.Index, clusterName, poolName string) (*world.ClusterInfo, *world.NodePoolInfo, error) {
	if len(ix.Clusters) == 0 {
		return nil, nil, errors.New("the world has no cluster")
	}
	wc := ix.Clusters[0]
	if clusterName != "" {
		c, ok := ix.Cluster(clusterName)
		if !ok {
			return nil, nil, fmt.Errorf("the world has no cluster %q", clusterName)
		}
		wc = c
	}
	if len(wc.Pools) == 0 {
		return nil, nil, fmt.Errorf("world cluster %s has no node pool", wc.Name)
	}
	pool := wc.Pools[0]
	if poolName != "" {
		pool = nil
		for _, p := range wc.Pools {
			if p.Name == poolName {
				pool = p
			}
		}
		if pool == nil {
			return nil, nil, fmt.Errorf("world cluster %s has no node pool %q", wc.Name, poolName)
		}
	}
	return wc, pool, nil
}

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
