package cli

import (
	"github.com/spf13/cobra"

	"github.com/azsim/azsim/kindenv"
)

// kindE2ECmd is `azsim kind e2e`: a wired cluster (created, or reused and
// re-wired) and every scenario run on it.
func (e *env) kindE2ECmd() *cobra.Command {
	var f kindUpFlags
	cmd := &cobra.Command{
		Use:   "e2e",
		Short: "Bring up (or reuse) the wired kind cluster and run every scenario on it",
		Long: `e2e is ` + "`azsim kind up --reuse`" + ` followed by ` + "`azsim scenario run --all --target kind`" + `:
the kubelet pulls through its credential provider, pods run the workload-identity and
IMDS clients, and every pitfall must fail exactly as the catalogue says. It takes the
flags of kind up: give the same --node-pools as the cluster has, or it is recreated.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.stateDir == "" {
				f.stateDir = kindenv.DefaultStateDir(f.name)
			}
			f.reuse, f.nodePoolsSet = true, cmd.Flags().Changed("node-pools")
			if err := e.kindUp(cmd.Context(), f); err != nil {
				return err
			}
			return e.runScenarios(cmd.Context(), nil, scenarioRunFlags{all: true, target: "kind", name: f.name, stateDir: f.stateDir})
		},
	}
	addKindUpFlags(cmd, &f)
	return cmd
}
