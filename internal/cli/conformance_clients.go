package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/conformance"
	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/world"
)

// clientsRun runs the clients suite: every kubelet-shaped scenario, with the
// plugin under test running inside `azsim exec` for the scenario's world.
func (e *env) clientsRun(ctx context.Context, f conformanceFlags) error {
	switch f.driver {
	case conformance.DriverCredentialProvider, conformance.DriverExec:
	case conformance.DriverAcrPullBinding:
		return e.acrPullBindingRun(ctx, f)
	default:
		return usageErr("--driver %q: want credential-provider, exec or acrpullbinding (token credentials: the Go API conformancetest.TestTokenCredential)", f.driver)
	}
	if f.plugin == "" {
		return usageErr("--plugin is required for the clients suite")
	}
	plugin, err := filepath.Abs(f.plugin)
	if err != nil {
		return usageErr("--plugin: %v", err)
	}
	if _, err := os.Stat(plugin); err != nil {
		return usageErr("--plugin: %v", err)
	}
	cases, err := kubeletCases()
	if err != nil {
		return failed(err)
	}
	self, err := os.Executable()
	if err != nil {
		return failed(err)
	}
	dir, err := os.MkdirTemp("", "azsim-clients-state-")
	if err != nil {
		return failed(err)
	}
	defer os.RemoveAll(dir)
	suite := conformance.ClientsSuite(conformance.ClientsConfig{Azsim: self, StateDir: dir, Cases: cases,
		Plugin: conformance.Plugin{Driver: f.driver, Path: plugin, Args: f.pluginArgs}})
	rep := conformance.Run(ctx, suite, conformance.Options{Filter: conformance.ParseFilter(f.filter), CaseTimeout: 2 * time.Minute})
	return e.finishConformance(rep, f)
}

// kubeletCases turns the scenario catalogue into clients-suite cases.
func kubeletCases() ([]conformance.KubeletCase, error) {
	all, err := scenarios.Catalogue()
	if err != nil {
		return nil, err
	}
	ks, err := scenarios.KubeletCases(all)
	if err != nil {
		return nil, err
	}
	var out []conformance.KubeletCase
	for _, k := range ks {
		w, err := world.Parse(k.World)
		if err != nil {
			return nil, err
		}
		ix, err := world.Compile(w, time.Now())
		if err != nil {
			return nil, err
		}
		np, ok := ix.NodePool(k.NodePool)
		if !ok || np.Cluster.Kubelet == nil {
			return nil, fmt.Errorf("scenario %s: node pool %s has no kubelet identity", k.ID, k.NodePool)
		}
		out = append(out, conformance.KubeletCase{ID: k.ID, Title: k.Title, World: k.World,
			NodePool: np.Cluster.Name + "/" + np.Name, TenantID: np.Cluster.TenantID,
			KubeletClientID: np.Cluster.Kubelet.ClientID, Image: k.Image, Denied: k.Denied, Hint: k.Hint})
	}
	return out, nil
}

// kubeletCmd is the hidden half of the clients suite that runs inside the
// namespace: it plays the kubelet and prints the result as JSON.
func (e *env) kubeletCmd() *cobra.Command {
	return &cobra.Command{
		Use: "__kubelet SPEC", Hidden: true, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			var spec conformance.KubeletSpec
			if err := json.Unmarshal(b, &spec); err != nil {
				return usageErr("%s: %v", args[0], err)
			}
			res := conformance.PlayKubelet(cmd.Context(), spec.Plugin, spec.Env, spec.Image)
			return json.NewEncoder(e.stdout).Encode(res)
		},
	}
}

// acrPullBindingRun runs the acrpullbinding driver against the cluster of
// `azsim kind up` whose state directory is --state-dir.
func (e *env) acrPullBindingRun(ctx context.Context, f conformanceFlags) error {
	if f.install == "" {
		return usageErr("--install is required for the acrpullbinding driver")
	}
	ep, err := client.ReadEndpoints(f.stateDir)
	if err != nil {
		return failed(fmt.Errorf("the acrpullbinding driver needs the simulator of `azsim kind up` (--state-dir): %w", err))
	}
	target, err := conformance.TargetFromEndpoints(ctx, endpointsOf(ep), client.StateDirToken(f.stateDir))
	if err != nil {
		return failed(fmt.Errorf("describing the simulator at %s: %w", ep.Admin, err))
	}
	kubectl := []string{"kubectl"}
	if f.kubeconfig != "" {
		kubectl = append(kubectl, "--kubeconfig", f.kubeconfig)
	}
	suite := conformance.AcrPullBindingSuite(conformance.AcrPullBindingConfig{Install: f.install, Uninstall: f.uninstall,
		Kubectl: kubectl, Namespace: f.namespace, Target: target})
	rep := conformance.Run(ctx, suite, conformance.Options{Filter: conformance.ParseFilter(f.filter), CaseTimeout: 4 * time.Minute})
	return e.finishConformance(rep, f)
}
