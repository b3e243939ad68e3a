package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/conformance"
	"github.com/azsim/azsim/sim"
)

type conformanceFlags struct {
	suite, target, stateDir, filter, junit, report, json, driver, plugin string
	pluginArgs                                                           []string
	verbose                                                              bool
	// acrpullbinding driver
	install, uninstall, namespace, kubeconfig string
}

func (e *env) conformanceCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "conformance", Short: "Check an implementation against the wire behaviour azsim simulates"}
	var f conformanceFlags
	run := &cobra.Command{
		Use:   "run --suite providers [--target FILE | --state-dir DIR]",
		Short: "Run a conformance suite and report (exit 1 when a case fails or errors)",
		Long: `Run a conformance suite.

The providers suite checks implementations of the endpoints (Entra ID, IMDS,
the AKS OIDC issuer, ACR). Its target is --target FILE (a YAML target
description), else the running simulator of --state-dir, else a simulator
started in-process for the run. Statuses: disabled (the target does not
declare a feature) and skip are fine; fail (the implementation diverges) and
error (the harness broke) make the exit code 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.conformanceRun(cmd.Context(), f, cmd.Flags().Changed("state-dir"))
		},
	}
	fl := run.Flags()
	fl.StringVar(&f.suite, "suite", "providers", "suite to run: providers or clients")
	fl.StringVar(&f.target, "target", "", "target description (YAML); default: a running simulator (--state-dir) or one started for the run")
	stateDirFlag(run, &f.stateDir)
	fl.StringVar(&f.filter, "filter", "", "comma-separated case ID prefixes or globs (\"providers/imds\", \"**/fic/*\")")
	fl.StringVar(&f.junit, "junit", "", "write JUnit XML to FILE")
	fl.StringVar(&f.report, "report", "", "write a Markdown summary to FILE (e.g. $GITHUB_STEP_SUMMARY)")
	fl.StringVar(&f.json, "json", "", "write the results as JSON to FILE")
	fl.StringVar(&f.driver, "driver", "", "clients suite driver: credential-provider (kubelet exec plugin protocol), exec (prints a Docker config JSON) or acrpullbinding (a controller of acrpull.microsoft.com/v1beta2 AcrPullBinding in a cluster from `azsim kind up`; --state-dir is its state directory)")
	fl.StringVar(&f.plugin, "plugin", "", "clients suite: the program under test")
	fl.StringArrayVar(&f.pluginArgs, "plugin-arg", nil, "clients suite: an argument for the plugin (repeatable; credential providers also get the rendered azure.json last)")
	fl.StringVar(&f.install, "install", "", "acrpullbinding driver: shell command that installs the controller under test")
	fl.StringVar(&f.uninstall, "uninstall", "", "acrpullbinding driver: shell command that removes it after the run")
	fl.StringVar(&f.namespace, "namespace", "azsim-apb", "acrpullbinding driver: namespace the harness creates for its bindings and pods")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "acrpullbinding driver: kubeconfig of the wired cluster (default: kubectl's)")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print every case's message and request log")
	cmd.AddCommand(run)
	return cmd
}

func (e *env) conformanceRun(ctx context.Context, f conformanceFlags, useRunning bool) error {
	switch f.suite {
	case "providers":
		if f.driver != "" {
			return usageErr("--driver applies to the clients suite only")
		}
	case "clients":
		return e.clientsRun(ctx, f)
	default:
		return usageErr("--suite %q: want providers or clients", f.suite)
	}
	target, cleanup, err := e.conformanceTarget(ctx, f, useRunning)
	if err != nil {
		return err
	}
	defer cleanup()
	suite, err := conformance.ProvidersSuite(target)
	if err != nil {
		return usageErr("target: %v", err)
	}
	rep := conformance.Run(ctx, suite, conformance.Options{Filter: conformance.ParseFilter(f.filter)})
	return e.finishConformance(rep, f)
}

// finishConformance prints and writes the reports and turns the verdict
// into the exit code.
func (e *env) finishConformance(rep *conformance.Report, f conformanceFlags) error {
	if len(rep.Cases()) == 0 {
		return usageErr("--filter %q selects no case", f.filter)
	}
	if err := rep.WriteConsole(e.stdout, f.verbose); err != nil {
		return failed(err)
	}
	if err := writeReports(rep, f); err != nil {
		return failed(err)
	}
	if !rep.OK() {
		return failed(fmt.Errorf("conformance: %d failed, %d errored", rep.Counts()[conformance.Fail], rep.Counts()[conformance.Error]))
	}
	return nil
}

// conformanceTarget loads --target, or describes the running simulator of
// --state-dir, or starts a simulator for the run.
func (e *env) conformanceTarget(ctx context.Context, f conformanceFlags, useRunning bool) (*conformance.Target, func(), error) {
	noop := func() {}
	if f.target != "" {
		t, err := conformance.LoadTarget(f.target)
		if err != nil {
			return nil, noop, usageErr("%v", err)
		}
		return t, noop, nil
	}
	if useRunning {
		ep, err := client.ReadEndpoints(f.stateDir)
		if err != nil {
			return nil, noop, failed(err)
		}
		t, err := conformance.TargetFromEndpoints(ctx, endpointsOf(ep), client.StateDirToken(f.stateDir))
		if err != nil {
			return nil, noop, failed(fmt.Errorf("describing the simulator at %s (is `azsim up` running?): %w", ep.Admin, err))
		}
		return t, noop, nil
	}
	return e.ownSimulator(ctx)
}

// ownSimulator starts an in-process simulator on ephemeral loopback ports
// with a temporary state directory.
func (e *env) ownSimulator(ctx context.Context) (*conformance.Target, func(), error) {
	dir, err := os.MkdirTemp("", "azsim-conformance-")
	if err != nil {
		return nil, func() {}, failed(err)
	}
	s, err := sim.New(sim.WithStateDir(dir), sim.WithHTTPSAddr("127.0.0.1:0"), sim.WithIMDSAddr("127.0.0.1:0"), sim.WithAdminAddr("127.0.0.1:0"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, func() {}, failed(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	cleanup := func() {
		cancel()
		s.Close()
		os.RemoveAll(dir)
	}
	if err := s.Start(ctx); err != nil {
		cleanup()
		return nil, func() {}, failed(err)
	}
	fmt.Fprintf(e.stderr, "conformance: started a simulator for the run (HTTPS %s, admin %s)\n", s.HTTPSAddr(), s.AdminAddr())
	t, err := conformance.TargetFromEndpoints(ctx, endpointsOf(s.Endpoints()), "")
	if err != nil {
		cleanup()
		return nil, func() {}, failed(err)
	}
	return t, cleanup, nil
}

func endpointsOf(ep api.Endpoints) api.Endpoints {
	return api.Endpoints{HTTPS: ep.HTTPS, Admin: ep.Admin, IMDS: ep.IMDS, CAFile: ep.CAFile, TenantID: ep.TenantID, Hosts: ep.Hosts}
}

func writeReports(rep *conformance.Report, f conformanceFlags) error {
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{{f.junit, rep.WriteJUnit}, {f.report, rep.WriteMarkdown}, {f.json, rep.WriteJSON}} {
		if out.path == "" {
			continue
		}
		if err := writeFile(out.path, out.write); err != nil {
			return err
		}
	}
	return nil
}

// writeFile appends to an existing GitHub step summary file, and creates
// (or truncates) any other file.
func writeFile(path string, write func(io.Writer) error) error {
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if path == os.Getenv("GITHUB_STEP_SUMMARY") {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	fh, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if err := write(fh); err != nil {
		fh.Close()
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	return nil
}
