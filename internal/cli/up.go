package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

type upFlags struct {
	config, stateDir, httpsAddr, imdsAddr, adminAddr, adminToken, logLevel, registryStorage string
	fresh                                                                                   bool
}

func (e *env) upCmd() *cobra.Command {
	var f upFlags
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Serve every fake until interrupted",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return e.up(cmd.Context(), f) },
	}
	cmd.Flags().StringVar(&f.config, "config", "", "world file (default: the built-in default world)")
	stateDirFlag(cmd, &f.stateDir)
	cmd.Flags().StringVar(&f.httpsAddr, "https-addr", "127.0.0.1:8443", "HTTPS listen address for every Azure host name")
	cmd.Flags().StringVar(&f.imdsAddr, "imds-addr", "127.0.0.1:8079", "IMDS listen address of the first node pool")
	cmd.Flags().StringVar(&f.adminAddr, "admin-addr", "127.0.0.1:8078", "admin API listen address")
	cmd.Flags().StringVar(&f.adminToken, "admin-token", os.Getenv("AZSIM_ADMIN_TOKEN"), "bearer token for the admin API (required off loopback; default $AZSIM_ADMIN_TOKEN)")
	cmd.Flags().StringVar(&f.registryStorage, "registry-storage", "", "keep registry blobs and manifests in this directory (images larger than memory; pushes survive restarts); default in memory")
	cmd.Flags().StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().BoolVar(&f.fresh, "fresh", false, "start from the world file and the wall clock, dropping the world and clock the admin API left in the state directory")
	return cmd
}

// loadWorld reads --config or returns the default world; errors are exit 2.
func loadWorld(path string) (*world.World, string, error) {
	if path == "" {
		return world.Default(), "default", nil
	}
	w, err := world.Load(path)
	if err != nil {
		return nil, "", usageErr("%v", err)
	}
	if _, err := world.Compile(w, world.NewSimClock().Now()); err != nil {
		return nil, "", usageErr("world %q is invalid:\n%v", path, err)
	}
	return w, path, nil
}

func (e *env) up(ctx context.Context, f upFlags) error {
	w, name, err := loadWorld(f.config)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usageErr("--log-level %q: want debug, info, warn or error", f.logLevel)
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	opts := []sim.Option{sim.WithWorld(w), sim.WithStateDir(f.stateDir), sim.WithHTTPSAddr(f.httpsAddr),
		sim.WithIMDSAddr(f.imdsAddr), sim.WithAdminAddr(f.adminAddr), sim.WithAdminToken(f.adminToken), sim.WithLogger(logger)}
	if f.registryStorage != "" {
		opts = append(opts, sim.WithRegistryStorage(f.registryStorage))
	}
	if f.fresh {
		opts = append(opts, sim.WithFreshState())
	}
	s, err := sim.New(opts...)
	var ce *sim.ConfigError
	switch {
	case errors.As(err, &ce):
		return usageErr("%v", err)
	case err != nil:
		return failed(err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := s.Start(ctx); err != nil {
		return failed(err)
	}
	if err := s.WriteEndpoints(); err != nil {
		s.Close()
		return failed(err)
	}
	defer os.Remove(s.StateFile("endpoints.json"))
	printEndpoints(e.stdout, s, name)
	<-ctx.Done()
	s.Close()
	fmt.Fprintln(e.stdout, "azsim stopped")
	return nil
}

func printEndpoints(out io.Writer, s *sim.Sim, worldName string) {
	ix := s.World().Snapshot()
	ep := s.Endpoints()
	_, port := splitPort(ep.HTTPS)
	fmt.Fprintf(out, "azsim is up (world: %s)\n", worldName)
	for _, t := range ix.Tenants {
		fmt.Fprintf(out, "  Entra ID      https://%s%s/%s/v2.0  (tenant %s)\n", world.EntraHost, port, t.ID, t.Name)
	}
	for _, c := range ix.Clusters {
		fmt.Fprintf(out, "  OIDC issuer   %s  (cluster %s)\n", c.IssuerURL, c.Name)
	}
	for _, r := range ix.Registries {
		fmt.Fprintf(out, "  ACR           https://%s%s\n", r.LoginServer, port)
	}
	for _, p := range ix.NodePools() {
		ref := p.Cluster.Name + "/" + p.Name
		fmt.Fprintf(out, "  IMDS          http://%s  (node pool %s)\n", ep.IMDS[ref], ref)
	}
	fmt.Fprintf(out, "  HTTPS         %s  (every Azure host name above)\n", ep.HTTPS)
	fmt.Fprintf(out, "  Admin API     http://%s\n", ep.Admin)
	fmt.Fprintf(out, "  CA            %s\n", ep.CAFile)
	fmt.Fprintf(out, "Point a shell at it: eval \"$(azsim env --state-dir %s)\"\n", s.StateDir())
}
