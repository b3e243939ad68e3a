package cli

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/internal/platform/ociimage"
	"github.com/azsim/azsim/kindenv"
)

func (e *env) kindCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kind",
		Short: "A kind cluster wired to the simulator (issuer, CA, IMDS, kubelet credential provider)",
	}
	cmd.AddCommand(e.kindUpCmd(), e.kindDownCmd(), e.kindLoadCmd(), e.kindE2ECmd(), e.kindPodPullCmd(), e.kindPodStepCmd())
	return cmd
}

type kindUpFlags struct {
	name, config, stateDir, cluster, pool, providerConfig, providerBinDir string
	nodePools                                                             string
	reuse, nodePoolsSet                                                   bool
}

func (e *env) kindUpCmd() *cobra.Command {
	var f kindUpFlags
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create (or reuse) a kind cluster wired to a simulator container on the kind network",
		Long: `up starts azsim in a container on the kind Docker network, answering for every Azure
host name of the world (network aliases; HTTPS on 443, one IMDS port per node pool), and
creates a kind cluster whose kube-apiserver issues service-account tokens as the world
cluster's AKS OIDC issuer with the world's issuer key, whose containerd trusts azsim's CA
for every registry, whose nodes reach their pool's IMDS at 169.254.169.254 and whose
kubelet pulls ACR images through an image credential provider (azsim credential-provider
with the pool's kubelet identity unless --credential-provider-config is given).

By default the cluster has one node playing one node pool (--node-pool). --node-pools
POOL[=COUNT],... lays it out as AKS does: a dedicated control-plane node (tainted, no
agent-pool labels) plus COUNT worker nodes (default 1) per listed pool, each with its
pool's AKS node labels and its pool's IMDS.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.nodePoolsSet = cmd.Flags().Changed("node-pools")
			return e.kindUp(cmd.Context(), f)
		},
	}
	addKindUpFlags(cmd, &f)
	cmd.Flags().BoolVar(&f.reuse, "reuse", false, "keep an existing cluster of that name and re-apply the wiring")
	return cmd
}

// addKindUpFlags defines the flags `kind up` and `kind e2e` share.
func addKindUpFlags(cmd *cobra.Command, f *kindUpFlags) {
	cmd.Flags().StringVar(&f.name, "name", "azsim", "kind cluster name")
	cmd.Flags().StringVar(&f.config, "config", "", "world file (default: the built-in default world)")
	cmd.Flags().StringVar(&f.stateDir, "state-dir", "", "state directory (CA, keys, admin token, kubeconfig); default "+kindenv.DefaultStateDir("<name>"))
	cmd.Flags().StringVar(&f.cluster, "cluster", "", "world cluster the kind cluster plays (default: the first)")
	cmd.Flags().StringVar(&f.pool, "node-pool", "", "node pool of the node (default: the cluster's first)")
	cmd.Flags().StringVar(&f.nodePools, "node-pools", "", "multi-node: POOL[=COUNT],... worker nodes per node pool of the cluster, plus a dedicated control plane (e.g. nodepool1,userpool=2)")
	cmd.Flags().StringVar(&f.providerConfig, "credential-provider-config", "", "use this kubelet CredentialProviderConfig file instead of azsim's")
	cmd.Flags().StringVar(&f.providerBinDir, "credential-provider-bin-dir", "", "mount this directory of provider binaries as the kubelet's --image-credential-provider-bin-dir")
}

func (e *env) kindUp(ctx context.Context, f kindUpFlags) error {
	w, worldName, err := loadWorld(f.config)
	if err != nil {
		return err
	}
	pools, err := kindNodePools(w, f)
	if err != nil {
		return err
	}
	if f.stateDir == "" {
		f.stateDir = kindenv.DefaultStateDir(f.name)
	}
	start := time.Now()
	bin, how, err := staticBinary(ctx, f.stateDir)
	if err != nil {
		return failed(err)
	}
	fmt.Fprintf(e.stdout, "azsim binary for the simulator image and the nodes: %s (%s)\n", bin, how)
	ev, err := kindenv.Up(ctx, kindenv.UpOptions{Name: f.name, World: w, WorldName: worldName, Cluster: f.cluster, NodePool: f.pool, NodePools: pools,
		StateDir: f.stateDir, Binary: bin, Reuse: f.reuse, ProviderConfig: f.providerConfig, ProviderBinDir: f.providerBinDir, Log: e.stdout})
	if err != nil {
		return failed(err)
	}
	plays := "node pool " + ev.NodePool
	if len(ev.NodePools) > 0 {
		plays = "node pools " + kindenv.FormatNodePools(ev.NodePools)
	}
	fmt.Fprintf(e.stdout, "kind cluster %s is wired to azsim (world %s, cluster %s, %s) in %s\n",
		ev.Name, worldName, ev.WorldCluster, plays, time.Since(start).Round(100*time.Millisecond))
	fmt.Fprintf(e.stdout, "  node image     %s (pod network: %s)\n", ev.NodeImage, ev.CNI)
	printKindNodes(e.stdout, ev)
	fmt.Fprintf(e.stdout, "  issuer         %s (kid %s)\n", ev.IssuerURL, ev.KID)
	fmt.Fprintf(e.stdout, "  simulator      container %s at %s on the kind network (image %s)\n", ev.Container, ev.SimIP, kindenv.SimImage)
	fmt.Fprintf(e.stdout, "  admin API      http://%s (token in %s)\n", ev.Endpoints.Admin, filepath.Join(ev.StateDir, kindenv.AdminTokenFile))
	fmt.Fprintf(e.stdout, "  CA             ConfigMap azsim-ca (default, kube-system); %s\n", ev.Endpoints.CAFile)
	fmt.Fprintf(e.stdout, "Use it:\n  export KUBECONFIG=%s\n  azsim trace --state-dir %s\n", ev.Kubeconfig, ev.StateDir)
	return nil
}

func (e *env) kindDownCmd() *cobra.Command {
	var name, stateDir string
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Delete the kind cluster and its simulator container (the state directory is kept)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := kindenv.Down(cmd.Context(), name, stateDir); err != nil {
				return failed(err)
			}
			fmt.Fprintf(e.stdout, "kind cluster %s and container %s deleted\n", name, kindenv.ContainerName(name))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "azsim", "kind cluster name")
	cmd.Flags().StringVar(&stateDir, "state-dir", "", "state directory (default "+kindenv.DefaultStateDir("<name>")+")")
	return cmd
}

func (e *env) kindLoadCmd() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "load IMAGE",
		Short: "Load an image of the Docker engine into every node (through an image archive)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			if err := kindenv.LoadDockerImage(cmd.Context(), name, args[0]); err != nil {
				return failed(err)
			}
			fmt.Fprintf(e.stdout, "loaded %s into kind cluster %s in %s\n", args[0], name, time.Since(start).Round(100*time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "azsim", "kind cluster name")
	return cmd
}

// staticBinary returns a static linux/amd64 azsim: the running executable
// when it is one, else a build of the module found from the working
// directory (CGO_ENABLED=0) into stateDir/bin.
func staticBinary(ctx context.Context, stateDir string) (string, string, error) {
	exe, err := os.Executable()
	if err == nil && isStatic(exe) && !strings.HasSuffix(exe, ".test") {
		return exe, "the running executable is static", nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", "", err
	}
	root, err := kindenv.FindRepoRoot(wd)
	if err != nil {
		return "", "", fmt.Errorf("the running azsim is not a static binary and no azsim source tree is here to build one: run a static build (CGO_ENABLED=0 go build ./cmd/azsim): %w", err)
	}
	dir := filepath.Join(stateDir, "bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	out, err := ociimage.StaticBinary(ctx, root, dir)
	if err != nil {
		return "", "", err
	}
	return out, "built from " + root + " with CGO_ENABLED=0", nil
}

// isStatic reports whether path is an ELF executable with no interpreter.
func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return false
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}
