package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/kindenv"
	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/scenarios/embedded"
)

func (e *env) scenarioCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "scenario", Short: "List, show and run the pitfall scenarios"}
	cmd.AddCommand(&cobra.Command{
		Use: "list", Short: "List the scenarios", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			all, err := catalogue()
			if err != nil {
				return err
			}
			for _, sc := range all {
				fmt.Fprintf(e.stdout, "%-34s %s\n", sc.ID, sc.Title)
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use: "show ID", Short: "Show a scenario: story, fix, world and steps", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			sc, err := findScenario(args[0])
			if err != nil {
				return err
			}
			showScenario(e.stdout, sc)
			return nil
		},
	})
	cmd.AddCommand(e.scenarioRunCmd())
	return cmd
}

type scenarioRunFlags struct {
	all                    bool
	target, name, stateDir string
}

func (e *env) scenarioRunCmd() *cobra.Command {
	var f scenarioRunFlags
	run := &cobra.Command{
		Use:   "run ID... | --all",
		Short: "Run scenarios and check their expected outcomes",
		Long: `run executes scenarios and checks every step's expected outcome.

--target embedded (default) starts a fresh simulator in this process per scenario.
--target kind runs them on the wired kind cluster of ` + "`azsim kind up`" + ` (--name, --state-dir):
the simulator container takes each scenario's world; node-pool pulls are made by the
node's kubelet through its credential provider, every other client step runs in a pod
with the cluster's own service-account tokens and the node's IMDS. Steps a target cannot
perform say why (notIn) and count neither as passed nor failed.`,
		RunE: func(cmd *cobra.Command, args []string) error { return e.runScenarios(cmd.Context(), args, f) },
	}
	run.Flags().BoolVar(&f.all, "all", false, "run every scenario")
	run.Flags().StringVar(&f.target, "target", "embedded", "where to run: embedded or kind")
	run.Flags().StringVar(&f.name, "name", "azsim", "kind cluster name (--target kind)")
	run.Flags().StringVar(&f.stateDir, "state-dir", "", "state directory of `azsim kind up` (--target kind; default "+kindenv.DefaultStateDir("<name>")+")")
	return run
}

func catalogue() ([]*scenarios.Scenario, error) {
	all, err := scenarios.Catalogue()
	if err != nil {
		return nil, failed(fmt.Errorf("loading the scenario catalogue: %w", err))
	}
	return all, nil
}

func findScenario(id string) (*scenarios.Scenario, error) {
	all, err := catalogue()
	if err != nil {
		return nil, err
	}
	sc, ok := scenarios.Find(all, id)
	if !ok {
		return nil, usageErr("unknown scenario %q (see `azsim scenario list`)", id)
	}
	return sc, nil
}

func showScenario(out io.Writer, sc *scenarios.Scenario) {
	fmt.Fprintf(out, "%s — %s\n\n%s\nFix: %s\n\nSteps:\n", sc.ID, sc.Title, strings.TrimSpace(sc.Story), sc.Fix)
	for i, st := range sc.Steps {
		want := "succeeds"
		if st.Expect.Fail {
			want = fmt.Sprintf("fails at %s (%d) with %q", st.Expect.Hop, st.Expect.Status, st.Expect.Error)
		}
		fmt.Fprintf(out, "  %d. %-15s %s — %s\n", i+1, st.Action(), st.Name, want)
	}
}

func (e *env) runScenarios(ctx context.Context, ids []string, f scenarioRunFlags) error {
	if f.all == (len(ids) > 0) {
		return usageErr("name scenario IDs or pass --all")
	}
	if f.target != "embedded" && f.target != "kind" {
		return usageErr("--target %q: want embedded or kind", f.target)
	}
	list, err := catalogue()
	if err != nil {
		return err
	}
	if !f.all {
		list = nil
		for _, id := range ids {
			sc, err := findScenario(id)
			if err != nil {
				return err
			}
			list = append(list, sc)
		}
	}
	target, done, err := e.scenarioTarget(ctx, f)
	if err != nil {
		return err
	}
	defer done()
	pass, notRun := 0, 0
	for _, sc := range list {
		rep := scenarios.Run(ctx, sc, scenarios.RunOptions{Target: target})
		printReport(e.stdout, rep)
		if rep.Pass() {
			pass++
		}
		notRun += rep.NotRun()
	}
	fmt.Fprintf(e.stdout, "\n%d passed, %d failed on %s", pass, len(list)-pass, target.Name())
	if notRun > 0 {
		fmt.Fprintf(e.stdout, " (%d step(s) not applicable there)", notRun)
	}
	fmt.Fprintln(e.stdout)
	if pass != len(list) {
		return failed(fmt.Errorf("%d scenario(s) did not behave as expected", len(list)-pass))
	}
	return nil
}

// scenarioTarget opens the target of f and returns what releases it.
func (e *env) scenarioTarget(ctx context.Context, f scenarioRunFlags) (scenarios.Target, func(), error) {
	if f.target == "kind" {
		dir := f.stateDir
		if dir == "" {
			dir = kindenv.DefaultStateDir(f.name)
		}
		t, err := kindenv.NewScenarioTarget(dir, e.stdout)
		if err != nil {
			return nil, nil, failed(err)
		}
		fmt.Fprintf(e.stdout, "running on kind cluster %s (node image %s, simulator %s)\n\n", t.Env().Name, t.Env().NodeImage, t.Env().Container)
		return t, func() {
			if err := t.Close(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintf(e.stderr, "restoring the kind world: %v\n", err)
			}
		}, nil
	}
	dir, err := os.MkdirTemp("", "azsim-scenarios-")
	if err != nil {
		return nil, nil, failed(err)
	}
	return embedded.New(dir), func() { os.RemoveAll(dir) }, nil
}

func printReport(out io.Writer, rep *scenarios.Report) {
	mark := "PASS"
	if !rep.Pass() {
		mark = "FAIL"
	}
	fmt.Fprintf(out, "%s %s — %s (%s)\n", mark, rep.Scenario.ID, rep.Scenario.Title, rep.Took.Round(100*time.Millisecond))
	if rep.Err != nil {
		fmt.Fprintf(out, "  error: %v\n", rep.Err)
	}
	for _, st := range rep.Steps {
		if st.NotRun != "" {
			fmt.Fprintf(out, "  %d. %-15s %s\n     not applicable on %s: %s\n", st.Index+1, st.Action, st.Name, rep.Target, st.NotRun)
			continue
		}
		outcome := "ok"
		if st.HasFailed {
			outcome = fmt.Sprintf("failed at %s (%d): %s", st.Failed.Name, st.Failed.Status, oneLine(st.Failed.Detail))
		}
		fmt.Fprintf(out, "  %d. %-15s %s\n     %s\n", st.Index+1, st.Action, st.Name, outcome)
		if st.By != "" {
			fmt.Fprintf(out, "     by: %s\n", st.By)
		}
		if st.Decision != nil && st.Decision.Hint != nil {
			fmt.Fprintf(out, "     diagnosis: %s\n", st.Decision.Hint.String())
		}
		for _, p := range st.Problems {
			fmt.Fprintf(out, "     UNEXPECTED: %s\n", p)
		}
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}
