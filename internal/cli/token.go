package cli

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/sim"
)

func (e *env) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Mint tokens from the running simulator"}
	var stateDir string
	var req sim.ServiceAccountTokenRequest
	var aud []string
	var exp time.Duration
	sa := &cobra.Command{
		Use:   "sa",
		Short: "Print a service-account JWT signed by the cluster's issuer key",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if req.Namespace == "" || req.ServiceAccount == "" {
				return usageErr("--namespace and --service-account are required")
			}
			req.Audiences, req.Expiration = aud, exp.String()
			tok, err := e.mintSA(stateDir, req)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, tok.Token)
			return nil
		},
	}
	stateDirFlag(sa, &stateDir)
	sa.Flags().StringVar(&req.Cluster, "cluster", "", "cluster whose issuer signs the token (default: the first cluster)")
	sa.Flags().StringVar(&req.Namespace, "namespace", "", "service account namespace")
	sa.Flags().StringVar(&req.ServiceAccount, "service-account", "", "service account name")
	sa.Flags().StringSliceVar(&aud, "audience", []string{"api://AzureADTokenExchange"}, "token audience (repeatable)")
	sa.Flags().DurationVar(&exp, "expiration", time.Hour, "token lifetime (10m to 24h)")
	cmd.AddCommand(sa)
	return cmd
}

func (e *env) mintSA(stateDir string, req sim.ServiceAccountTokenRequest) (sim.ServiceAccountToken, error) {
	var tok sim.ServiceAccountToken
	a, err := connect(stateDir)
	if err != nil {
		return tok, err
	}
	err = a.do(http.MethodPost, "/api/tokens/serviceaccount", req, &tok)
	return tok, err
}

// splitNSName parses "namespace/name".
func splitNSName(s string) (string, string, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return "", "", usageErr("%q: want NAMESPACE/NAME", s)
	}
	return ns, name, nil
}
