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
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"sigs.k8s.io/kind/pkg/cluster"

	"github.com/azsim/azsim/internal/platform/ociimage"
	"github.com/azsim/azsim/internal/platform/state"
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
	return ociimage.Load(ctx, img, SimImage)
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
	return dockerEnv(ctx, nil, args...)
}

// dockerEnv runs docker with env added to its environment: secrets go
// there (`-e NAME` takes the value from it), never into the arguments,
// which `ps` shows and errors quote.
func dockerEnv(ctx context.Context, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(out.String()), nil
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
