package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/netns"
	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

// systemBundles are the CA bundle paths replaced inside the namespace.
var systemBundles = []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"}

// execChild runs inside the new namespaces: it sets up loopback and the
// files, starts the simulator on the real ports, runs the command and exits
// with its status.
func (e *env) execChild(ctx context.Context, sp execSpec) error {
	w, _, err := loadWorld(sp.Config)
	if err != nil {
		return err
	}
	ix, err := world.Compile(w, world.NewSimClock().Now())
	if err != nil {
		return usageErr("%v", err)
	}
	pool, err := pickPool(ix, sp.NodePool)
	if err != nil {
		return err
	}
	if err := netns.SetupLoopback(net.ParseIP(sim.IMDSHost)); err != nil {
		return failed(err)
	}
	opts := []sim.Option{sim.WithWorld(w), sim.WithStateDir(sp.StateDir), sim.WithHTTPSAddr("127.0.0.1:443"),
		sim.WithIMDSAddr("127.0.0.1:0"), sim.WithAdminAddr("127.0.0.1:0")}
	if pool != "" {
		opts = append(opts, sim.WithPoolIMDSAddr(pool, sim.IMDSHost+":80"))
	}
	s, err := sim.New(opts...)
	if err != nil {
		return failed(err)
	}
	env, err := prepareFiles(s, ix, sp)
	if err != nil {
		return failed(err)
	}
	if err := s.Start(ctx); err != nil {
		return failed(err)
	}
	defer s.Close()
	if sp.ServiceAccount != "" {
		more, err := webhookEnv(s, ix, sp)
		if err != nil {
			return err
		}
		env = append(env, more...)
	}
	code, runErr := runCommand(sp.Cmd, env)
	e.finishTrace(s, sp, code)
	if runErr != nil {
		return failed(runErr)
	}
	if code != 0 {
		return &exitError{code: code, err: fmt.Errorf("exit status %d", code), silent: true}
	}
	return nil
}

func pickPool(ix *world.Index, ref string) (string, error) {
	if ref == "" {
		pools := ix.NodePools()
		if len(pools) == 0 {
			return "", nil
		}
		return pools[0].Cluster.Name + "/" + pools[0].Name, nil
	}
	p, ok := ix.NodePool(ref)
	if !ok {
		return "", usageErr("--node-pool: unknown node pool %q", ref)
	}
	return p.Cluster.Name + "/" + p.Name, nil
}

// prepareFiles writes the hosts file and the CA bundle, mounts them over
// the system's, and returns the environment that points programs at them.
func prepareFiles(s *sim.Sim, ix *world.Index, sp execSpec) ([]string, error) {
	if err := netns.PrivateMounts(); err != nil {
		return nil, err
	}
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1 localhost\n::1 localhost ip6-localhost\n")
	for _, h := range ix.Hosts() {
		fmt.Fprintf(&hosts, "127.0.0.1 %s\n", h)
	}
	hostsFile := filepath.Join(sp.TmpDir, "hosts")
	if err := state.WriteFile(hostsFile, []byte(hosts.String()), 0o644); err != nil {
		return nil, err
	}
	if err := netns.BindFile(hostsFile, "/etc/hosts"); err != nil {
		return nil, err
	}
	bundle := filepath.Join(sp.TmpDir, "ca-bundle.crt")
	var data []byte
	for _, b := range systemBundles {
		if d, err := os.ReadFile(b); err == nil {
			data = append(data, d...)
			break
		}
	}
	data = append(append(data, '\n'), s.CACertPEM()...)
	if err := state.WriteFile(bundle, data, 0o644); err != nil {
		return nil, err
	}
	for _, b := range systemBundles {
		if _, err := os.Stat(b); err == nil {
			if err := netns.BindFile(bundle, b); err != nil {
				return nil, err
			}
		}
	}
	return []string{"SSL_CERT_FILE=" + bundle, "REQUESTS_CA_BUNDLE=" + bundle, "CURL_CA_BUNDLE=" + bundle}, nil
}

// webhookEnv mints a service-account token file and sets the variables the
// workload-identity webhook injects (protocols.md 5.4).
func webhookEnv(s *sim.Sim, ix *world.Index, sp execSpec) ([]string, error) {
	w, err := resolveServiceAccount(ix, sp.ServiceAccount, "")
	if err != nil {
		return nil, err
	}
	p := w.principal
	tok, _, err := s.MintServiceAccountToken(api.ServiceAccountTokenRequest{Cluster: w.cluster.Name, Namespace: w.namespace, ServiceAccount: w.name})
	if err != nil {
		return nil, failed(err)
	}
	file := filepath.Join(sp.TmpDir, "azure-identity-token")
	if err := state.WriteFile(file, []byte(tok), 0o644); err != nil {
		return nil, failed(err)
	}
	return []string{"AZURE_CLIENT_ID=" + p.ClientID, "AZURE_TENANT_ID=" + p.TenantID,
		"AZURE_FEDERATED_TOKEN_FILE=" + file, "AZURE_AUTHORITY_HOST=https://login.microsoftonline.com/"}, nil
}

// runCommand runs argv with the caller's environment plus env, forwarding
// signals, and returns its exit status.
func runCommand(argv, env []string) (int, error) {
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = append(os.Environ(), env...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := c.Start(); err != nil {
		return 127, fmt.Errorf("starting %s: %w", argv[0], err)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			_ = c.Process.Signal(sig)
		}
	}()
	err := c.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	return 0, err
}

// finishTrace writes the trace file and, when the command failed, prints
// the refused decisions with their diagnoses.
func (e *env) finishTrace(s *sim.Sim, sp execSpec, code int) {
	ds := s.Decisions(0)
	if ds == nil {
		ds = []api.Decision{}
	}
	if sp.Trace != "" {
		if b, err := json.MarshalIndent(ds, "", "  "); err == nil {
			if err := state.WriteFile(sp.Trace, append(b, '\n'), 0o644); err != nil {
				fmt.Fprintln(e.stderr, "azsim exec: writing trace:", err)
			}
		}
	}
	if code == 0 {
		return
	}
	for _, d := range ds {
		if d.Outcome != api.OutcomeAllow {
			printDecision(e.stderr, d, false)
		}
	}
}
