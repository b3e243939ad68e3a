package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/api"
)

func (e *env) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Mint tokens from the running simulator"}
	var stateDir string
	var req api.ServiceAccountTokenRequest
	var aud []string
	var exp time.Duration
	sa := &cobra.Command{
		Use:   "sa",
		Short: "Print a service-account JWT signed by the cluster's issuer key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Namespace == "" || req.ServiceAccount == "" {
				return usageErr("--namespace and --service-account are required")
			}
			req.Audiences, req.Expiration = aud, exp.String()
			c, _, err := connect(stateDir)
			if err != nil {
				return err
			}
			tok, err := mintSA(cmd.Context(), c, req)
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

// splitNSName parses "namespace/name".
func splitNSName(s string) (string, string, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return "", "", usageErr("%q: want NAMESPACE/NAME", s)
	}
	return ns, name, nil
}
