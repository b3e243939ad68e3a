package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/world"
)

func (e *env) envCmd() *cobra.Command {
	var stateDir, pool, sa, cluster string
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print shell exports and /etc/hosts lines that point a shell at a running simulator",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pool != "" && sa != "" {
				return usageErr("--node-pool and --service-account are mutually exclusive")
			}
			return e.env(cmd.Context(), stateDir, pool, sa, cluster)
		},
	}
	stateDirFlag(cmd, &stateDir)
	cmd.Flags().StringVar(&pool, "node-pool", "", "node pool whose kubelet identity to use (CLUSTER/POOL or POOL)")
	cmd.Flags().StringVar(&sa, "service-account", "", "service account (NAMESPACE/NAME) to act as, like the workload-identity webhook")
	cmd.Flags().StringVar(&cluster, "cluster", "", "cluster of the service account (default: the first cluster)")
	return cmd
}

func (e *env) env(ctx context.Context, stateDir, pool, sa, cluster string) error {
	a, ep, err := connect(stateDir)
	if err != nil {
		return err
	}
	ix, err := compiledWorld(ctx, a)
	if err != nil {
		return err
	}
	_, port := splitPort(ep.HTTPS)
	out := e.stdout
	fmt.Fprintf(out, "export SSL_CERT_FILE=%s\n", shellQuote(ep.CAFile))
	fmt.Fprintf(out, "export AZURE_AUTHORITY_HOST=https://%s%s/\n", world.EntraHost, port)
	tenant := ep.TenantID
	switch {
	case sa != "":
		if err := e.envServiceAccount(ctx, out, a, ix, stateDir, sa, cluster, &tenant); err != nil {
			return err
		}
	case pool != "":
		p, ok := ix.NodePool(pool)
		if !ok {
			return usageErr("unknown node pool %q", pool)
		}
		if p.Cluster.Kubelet != nil {
			fmt.Fprintf(out, "export AZURE_CLIENT_ID=%s\n", p.Cluster.Kubelet.ClientID)
		}
		ref := p.Cluster.Name + "/" + p.Name
		fmt.Fprintf(out, "export AZSIM_IMDS_ENDPOINT=http://%s\n", ep.IMDS[ref])
		fmt.Fprintf(out, "# IMDS is hard-coded to 169.254.169.254 in the Azure SDKs: use `azsim exec --node-pool %s` to reach it there.\n", ref)
	}
	fmt.Fprintf(out, "export AZURE_TENANT_ID=%s\n", tenant)
	host, _ := splitPort(ep.HTTPS)
	fmt.Fprintf(out, "# Add to /etc/hosts (the fakes listen on %s):\n", ep.HTTPS)
	for _, h := range ix.Hosts() {
		fmt.Fprintf(out, "# %s %s\n", host, h)
	}
	if port != "" {
		fmt.Fprintf(out, "# The HTTPS port is %s, not 443: clients must use it in URLs, and azidentity needs DisableInstanceDiscovery (or use `azsim exec`).\n", port[1:])
	}
	return nil
}

// envServiceAccount writes a fresh token file and the workload-identity
// variables, as the webhook would inject them (protocols.md 5.4).
func (e *env) envServiceAccount(ctx context.Context, out io.Writer, a *client.Client, ix *world.Index, stateDir, sa, cluster string, tenant *string) error {
	w, err := resolveServiceAccount(ix, sa, cluster)
	if err != nil {
		return err
	}
	ns, name, p := w.namespace, w.name, w.principal
	tok, err := mintSA(ctx, a, api.ServiceAccountTokenRequest{Cluster: w.cluster.Name, Namespace: ns, ServiceAccount: name})
	if err != nil {
		return err
	}
	dir := filepath.Join(stateDir, "tokens", ns, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return failed(err)
	}
	file := filepath.Join(dir, "azure-identity-token")
	if err := state.WriteFile(file, []byte(tok.Token), 0o600); err != nil {
		return failed(err)
	}
	*tenant = p.TenantID
	fmt.Fprintf(out, "export AZURE_CLIENT_ID=%s\n", p.ClientID)
	fmt.Fprintf(out, "export AZURE_FEDERATED_TOKEN_FILE=%s\n", shellQuote(file))
	return nil
}

// workload is a service account of a cluster with the identity federated
// with it.
type workload struct {
	namespace, name string
	cluster         *world.ClusterInfo
	principal       *world.Principal
}

// resolveServiceAccount finds the cluster (default: the first) and the
// identity whose federated credential names NS/NAME on its issuer.
func resolveServiceAccount(ix *world.Index, sa, cluster string) (*workload, error) {
	ns, name, err := splitNSName(sa)
	if err != nil {
		return nil, err
	}
	cl := ix.Clusters
	if cluster != "" {
		c, ok := ix.Cluster(cluster)
		if !ok {
			return nil, usageErr("unknown cluster %q", cluster)
		}
		cl = []*world.ClusterInfo{c}
	}
	if len(cl) == 0 {
		return nil, usageErr("the world has no cluster")
	}
	subject := "system:serviceaccount:" + ns + ":" + name
	p := federatedPrincipal(ix, cl[0].IssuerURL, subject)
	if p == nil {
		return nil, failed(fmt.Errorf("no identity has a federated credential for issuer %s and subject %s: the Entra exchange would fail with AADSTS700211/700213", cl[0].IssuerURL, subject))
	}
	return &workload{namespace: ns, name: name, cluster: cl[0], principal: p}, nil
}

// federatedPrincipal finds the identity or application with a federated
// credential for issuer and subject.
func federatedPrincipal(ix *world.Index, issuer, subject string) *world.Principal {
	for _, p := range ix.Principals {
		for _, f := range p.FederatedCredentials {
			if f.Issuer == issuer && f.Subject == subject {
				return p
			}
		}
	}
	return nil
}

func shellQuote(s string) string {
	return "'" + filepathReplace(s) + "'"
}

func filepathReplace(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, `'\''`...)
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}
