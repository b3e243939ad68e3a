package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// KubeletCase is one scenario of the clients suite: in World, the kubelet
// of NodePool (whose identity is KubeletClientID) pulls Image; the pull
// must succeed, or be denied when Denied.
type KubeletCase struct {
	ID              string
	Title           string
	World           []byte
	NodePool        string
	TenantID        string
	KubeletClientID string
	Image           string
	Denied          bool
	Hint            string
}

// ClientsConfig configures the clients suite.
type ClientsConfig struct {
	Plugin Plugin
	// Azsim is the azsim binary that runs each case in `azsim exec`.
	Azsim string
	// StateDir is shared by the cases' simulators (keys are made once).
	StateDir string
	Cases    []KubeletCase
}

// KubeletSpec is what the harness hands `azsim __kubelet` inside the namespace.
type KubeletSpec struct {
	Plugin Plugin   `json:"plugin"`
	Env    []string `json:"env,omitempty"`
	Image  string   `json:"image"`
}

// ClientsSuite plays the kubelet against the plugin in every case: the
// plugin runs inside `azsim exec` for the case's world and node pool, its
// answer is checked against its protocol, and the image is pulled with it.
func ClientsSuite(cfg ClientsConfig) *Suite {
	s := &Suite{Name: "clients", Target: cfg.Plugin.Driver + " " + cfg.Plugin.Path}
	for _, k := range cfg.Cases {
		k := k
		s.Cases = append(s.Cases, Case{ID: cfg.Plugin.Driver + "/" + k.ID, Title: k.Title, Run: func(c *C) { runKubeletCase(c, cfg, k) }})
	}
	return s
}

func runKubeletCase(c *C, cfg ClientsConfig, k KubeletCase) {
	dir, err := os.MkdirTemp("", "azsim-clients-")
	c.Must(err == nil, "temporary directory: %v", err)
	defer os.RemoveAll(dir)
	spec := KubeletSpec{Plugin: cfg.Plugin, Image: k.Image}
	switch cfg.Plugin.Driver {
	case DriverCredentialProvider:
		azureJSON := filepath.Join(dir, "azure.json")
		b, _ := json.Marshal(map[string]any{"tenantId": k.TenantID, "useManagedIdentityExtension": true, "userAssignedIdentityID": k.KubeletClientID})
		c.Must(os.WriteFile(azureJSON, b, 0o644) == nil, "writing azure.json")
		spec.Plugin.Args = append(append([]string(nil), spec.Plugin.Args...), azureJSON)
	case DriverExec:
		spec.Env = []string{"AZURE_CLIENT_ID=" + k.KubeletClientID, "AZURE_TENANT_ID=" + k.TenantID}
	}
	res, err := playInNamespace(c.Context(), cfg, k, dir, spec)
	if err != nil {
		c.Broken("%v", err)
		return
	}
	judge(c, k, res)
}

func playInNamespace(ctx context.Context, cfg ClientsConfig, k KubeletCase, dir string, spec KubeletSpec) (*KubeletResult, error) {
	worldFile, specFile := filepath.Join(dir, "world.yaml"), filepath.Join(dir, "spec.json")
	b, _ := json.Marshal(spec)
	if err := os.WriteFile(worldFile, k.World, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(specFile, b, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, cfg.Azsim, "exec", "--config", worldFile, "--state-dir", cfg.StateDir,
		"--node-pool", k.NodePool, "--", cfg.Azsim, "__kubelet", specFile)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("azsim exec: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	var res KubeletResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("reading the kubelet result %q: %v", out.String(), err)
	}
	return &res, nil
}

// judge compares what happened with what the scenario expects.
func judge(c *C, k KubeletCase, r *KubeletResult) {
	for _, p := range r.Problems {
		c.Failf("protocol: %s", p)
	}
	if r.PluginStderr != "" {
		c.Logf("plugin stderr: %s", r.PluginStderr)
	}
	if !k.Denied {
		c.Check(r.PluginExit == 0, "the plugin exited %d: %s", r.PluginExit, r.PluginStderr)
		c.Check(r.PullError == "", "the pull must succeed: %s", r.PullError)
		return
	}
	if r.PullError == "" {
		c.Failf("the pull must be denied (%s), it succeeded with username %q", k.Hint, r.Username)
		return
	}
	c.Check(r.PullStatus == 401 || r.PullStatus == 403, "the denial must be the registry's 401, got %d: %s", r.PullStatus, r.PullError)
}
