package cli

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/internal/flow"
)

// kindPodPullCmd is the client that runs inside a pod of a wired kind
// cluster (azsim's image is loaded into the nodes): with the environment
// the workload-identity webhook injects it runs the federated flow, without
// AZURE_FEDERATED_TOKEN_FILE (or with --imds) the managed-identity flow
// through 169.254.169.254 (the node's DNAT to its pool's IMDS). Real names,
// real network, CA from SSL_CERT_FILE; each hop and the exact error bodies
// go to stdout, so they are in the pod's log.
func (e *env) kindPodPullCmd() *cobra.Command {
	var imds bool
	cmd := &cobra.Command{
		Use:    "pod-pull IMAGE",
		Short:  "Pull IMAGE from inside a pod, as the workload-identity webhook's environment or IMDS allows",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := &flow.Client{HTTP: &http.Client{Timeout: 2 * time.Minute}, AuthorityHost: os.Getenv("AZURE_AUTHORITY_HOST")}
			tenant, clientID := os.Getenv("AZURE_TENANT_ID"), os.Getenv("AZURE_CLIENT_ID")
			tokenFile := os.Getenv("AZURE_FEDERATED_TOKEN_FILE")
			var res *flow.Result
			if tokenFile != "" && !imds {
				tok, err := os.ReadFile(tokenFile)
				if err != nil {
					return failed(fmt.Errorf("reading AZURE_FEDERATED_TOKEN_FILE: %w", err))
				}
				fmt.Fprintf(e.stdout, "federated pull of %s as client_id %s (tenant %s, authority %s)\n", args[0], clientID, tenant, c.AuthorityHost)
				res = c.Federated(cmd.Context(), tenant, clientID, strings.TrimSpace(string(tok)), args[0])
			} else {
				fmt.Fprintf(e.stdout, "managed-identity pull of %s through IMDS (client_id %q)\n", args[0], clientID)
				res = c.VMSS(cmd.Context(), tenant, clientID, args[0])
			}
			return report(e.stdout, res)
		},
	}
	cmd.Flags().BoolVar(&imds, "imds", false, "use IMDS (managed identity) even when a federated token file is set")
	return cmd
}
