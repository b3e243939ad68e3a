package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

func (e *env) pullCmd() *cobra.Command {
	var stateDir, pool, sa, cluster string
	cmd := &cobra.Command{
		Use:   "pull [--node-pool NAME | --service-account NS/NAME] IMAGE",
		Short: "Pull an image through the real flow, as a node (kubelet) or as a pod",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (pool == "") == (sa == "") {
				return usageErr("set exactly one of --node-pool or --service-account")
			}
			return e.pull(cmd.Context(), stateDir, pool, sa, cluster, args[0])
		},
	}
	stateDirFlag(cmd, &stateDir)
	cmd.Flags().StringVar(&pool, "node-pool", "", "pull as this node pool's kubelet (VMSS flow)")
	cmd.Flags().StringVar(&sa, "service-account", "", "pull as a pod with this service account, NAMESPACE/NAME (federated flow)")
	cmd.Flags().StringVar(&cluster, "cluster", "", "cluster of the service account (default: the first cluster)")
	return cmd
}

func (e *env) pull(ctx context.Context, stateDir, pool, sa, cluster, image string) error {
	a, ep, err := connect(stateDir)
	if err != nil {
		return err
	}
	ix, err := compiledWorld(ctx, a)
	if err != nil {
		return err
	}
	var res *flow.Result
	if pool != "" {
		p, ok := ix.NodePool(pool)
		if !ok {
			return usageErr("unknown node pool %q", pool)
		}
		if p.Cluster.Kubelet == nil {
			return usageErr("cluster %s has no kubelet identity", p.Cluster.Name)
		}
		ref := p.Cluster.Name + "/" + p.Name
		c, err := flowClient(ep, ref)
		if err != nil {
			return failed(err)
		}
		fmt.Fprintf(e.stdout, "pull %s as node pool %s (kubelet identity %s, client_id %s)\n", image, ref, p.Cluster.Kubelet.Name, p.Cluster.Kubelet.ClientID)
		res = c.VMSS(ctx, p.Cluster.TenantID, p.Cluster.Kubelet.ClientID, image)
	} else {
		if res, err = e.pullAsPod(ctx, a, ep, ix, sa, cluster, image); err != nil {
			return err
		}
	}
	return report(e.stdout, res)
}

func (e *env) pullAsPod(ctx context.Context, a *client.Client, ep api.Endpoints, ix *world.Index, sa, cluster, image string) (*flow.Result, error) {
	w, err := resolveServiceAccount(ix, sa, cluster)
	if err != nil {
		return nil, err
	}
	p := w.principal
	tok, err := mintSA(ctx, a, api.ServiceAccountTokenRequest{Cluster: w.cluster.Name, Namespace: w.namespace, ServiceAccount: w.name})
	if err != nil {
		return nil, err
	}
	c, err := flowClient(ep, "")
	if err != nil {
		return nil, failed(err)
	}
	fmt.Fprintf(e.stdout, "pull %s as service account %s/%s of cluster %s (identity %s, client_id %s)\n", image, w.namespace, w.name, w.cluster.Name, p.Name, p.ClientID)
	return c.Federated(ctx, p.TenantID, p.ClientID, tok.Token, image), nil
}

func report(out io.Writer, res *flow.Result) error {
	for _, h := range res.Hops {
		mark := "ok  "
		if !h.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(out, "  %s %-9s %s\n", mark, h.Name, h.Detail)
	}
	if h, bad := res.Failed(); bad {
		return failed(fmt.Errorf("pull failed at hop %q (status %d)", h.Name, h.Status))
	}
	fmt.Fprintf(out, "pulled %s\n", res.Digest)
	return nil
}

// flowClient reaches a running simulator by the real names: every host to
// the HTTPS listener, 169.254.169.254 to the node pool's IMDS.
func flowClient(ep api.Endpoints, pool string) (*flow.Client, error) {
	ca, err := os.ReadFile(ep.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading the simulator CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s holds no certificate", ep.CAFile)
	}
	imds := ep.IMDS[pool]
	if imds == "" {
		for _, v := range ep.IMDS {
			imds = v
			break
		}
	}
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, _, _ := net.SplitHostPort(addr); host == sim.IMDSHost {
				return d.DialContext(ctx, network, imds)
			}
			return d.DialContext(ctx, network, ep.HTTPS)
		},
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}
	return &flow.Client{HTTP: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}, nil
}
