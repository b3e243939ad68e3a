package kindenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/kindcluster"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/kindenv/internal/render"
)

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

// writeNodeFiles fills the directory mounted at render.NodeDir (and the sa key
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
	provider := render.RenderCredentialProviderConfig(render.AzsimProvider(logins))
	if o.ProviderConfig != "" {
		if provider, err = os.ReadFile(o.ProviderConfig); err != nil {
			return fmt.Errorf("credential provider config: %w", err)
		}
	}
	files := map[string][]byte{
		"ca.crt":                   ca,
		"azure.json":               render.RenderAzureJSON(tenant, kubeletClientID),
		"credential-provider.yaml": provider,
		"sa.key":                   pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub":                   pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	}
	for _, host := range logins {
		if err := os.MkdirAll(filepath.Join(nodeDir, "certs.d", host), 0o755); err != nil {
			return err
		}
		files[filepath.Join("certs.d", host, "hosts.toml")] = render.RenderRegistryHostsCA(host, render.NodeCAFile)
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

// Down deletes the kind cluster and the simulator container; the state
// directory (CA, keys) is kept.
func Down(ctx context.Context, name, stateDir string) error {
	if stateDir == "" {
		stateDir = DefaultStateDir(name)
	}
	_, _ = docker.Run(ctx, "rm", "-f", kindstate.ContainerName(name))
	_ = os.Remove(filepath.Join(stateDir, "endpoints.json"))
	return kindcluster.Delete(name, filepath.Join(stateDir, kindstate.KubeconfigFile))
}
