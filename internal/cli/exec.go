package cli

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"
)

// execSpec is what the parent hands the namespaced child (as JSON in
// AZSIM_EXEC_SPEC).
type execSpec struct {
	Config         string   `json:"config,omitempty"`
	StateDir       string   `json:"stateDir"`
	NodePool       string   `json:"nodePool,omitempty"`
	ServiceAccount string   `json:"serviceAccount,omitempty"`
	Trace          string   `json:"trace,omitempty"`
	TmpDir         string   `json:"tmpDir"`
	Cmd            []string `json:"cmd"`
}

const execSpecEnv = "AZSIM_EXEC_SPEC"

func (e *env) execCmd() *cobra.Command {
	var sp execSpec
	cmd := &cobra.Command{
		Use:   "exec [--node-pool NAME] [--env-from-service-account NS/NAME] -- CMD [ARGS...]",
		Short: "Run an unmodified program where the Azure host names, 443 and 169.254.169.254 reach the fakes",
		Long: `exec runs CMD in private user (unless root), network and mount namespaces with a
simulator of its own: HTTPS on 443 for every Azure host name of the world, IMDS of the node
pool on 169.254.169.254:80, /etc/hosts and the CA bundle replaced for CMD only. Nothing on
the host changes. CMD's exit status is exec's.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if _, _, err := loadWorld(sp.Config); err != nil {
				return err
			}
			if sp.ServiceAccount != "" {
				if _, _, err := splitNSName(sp.ServiceAccount); err != nil {
					return err
				}
			}
			sp.Cmd = args
			return e.execParent(sp)
		},
	}
	cmd.Flags().StringVar(&sp.Config, "config", "", "world file (default: the built-in default world)")
	stateDirFlag(cmd, &sp.StateDir)
	cmd.Flags().StringVar(&sp.NodePool, "node-pool", "", "node pool whose IMDS answers on 169.254.169.254 (default: the first)")
	cmd.Flags().StringVar(&sp.ServiceAccount, "env-from-service-account", "", "act like the workload-identity webhook for NAMESPACE/NAME: token file and AZURE_* variables")
	cmd.Flags().StringVar(&sp.Trace, "trace", "", "write the run's decision trace (JSON) to this file")
	return cmd
}

// execChildCmd is the hidden entry point of the namespaced child.
func (e *env) execChildCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "__exec-child",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var sp execSpec
			if err := json.Unmarshal([]byte(os.Getenv(execSpecEnv)), &sp); err != nil {
				return usageErr("__exec-child is internal to azsim exec: %v", err)
			}
			return e.execChild(cmd.Context(), sp)
		},
	}
}
