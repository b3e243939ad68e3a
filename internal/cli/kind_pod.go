package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/scenarios"
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

// kindPodStepCmd runs one scenario step inside a pod of a wired kind
// cluster (scenario run --target kind): the action comes as JSON in
// AZSIM_STEP (scenarios.PodAction); the hops go to stdout, human-readable
// and as one JSON line after scenarios.PodResultPrefix for the target.
func (e *env) kindPodStepCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "pod-step",
		Short:  "Run the scenario step given in AZSIM_STEP from inside a pod",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var a scenarios.PodAction
			if err := json.Unmarshal([]byte(os.Getenv("AZSIM_STEP")), &a); err != nil {
				return usageErr("AZSIM_STEP: %v", err)
			}
			hops, err := a.Run(cmd.Context(), &http.Client{Timeout: 2 * time.Minute})
			if err != nil {
				return failed(fmt.Errorf("running the step: %w", err))
			}
			failedHop := ""
			for _, h := range hops {
				mark := "ok  "
				if !h.OK {
					mark = "FAIL"
					if failedHop == "" {
						failedHop = h.Name
					}
				}
				fmt.Fprintf(e.stdout, "  %s %-10s %s\n", mark, h.Name, h.Detail)
			}
			b, _ := json.Marshal(hops)
			fmt.Fprintf(e.stdout, "%s%s\n", scenarios.PodResultPrefix, b)
			if failedHop != "" {
				return failed(fmt.Errorf("%s failed at hop %q", a.Action, failedHop))
			}
			return nil
		},
	}
}
