package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/scenarios"
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
	var all bool
	var target string
	run := &cobra.Command{
		Use: "run ID... | --all", Short: "Run scenarios and check their expected outcomes",
		RunE: func(cmd *cobra.Command, args []string) error {
			if target != "embedded" {
				return usageErr("--target %q: only embedded is available here (kind needs `azsim kind up`)", target)
			}
			return e.runScenarios(cmd.Context(), args, all)
		},
	}
	run.Flags().BoolVar(&all, "all", false, "run every scenario")
	run.Flags().StringVar(&target, "target", "embedded", "where to run: embedded")
	cmd.AddCommand(run)
	return cmd
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

func (e *env) runScenarios(ctx context.Context, ids []string, all bool) error {
	if all == (len(ids) > 0) {
		return usageErr("name scenario IDs or pass --all")
	}
	list, err := catalogue()
	if err != nil {
		return err
	}
	if !all {
		list = nil
		for _, id := range ids {
			sc, err := findScenario(id)
			if err != nil {
				return err
			}
			list = append(list, sc)
		}
	}
	dir, err := os.MkdirTemp("", "azsim-scenarios-")
	if err != nil {
		return failed(err)
	}
	defer os.RemoveAll(dir)
	pass := 0
	for _, sc := range list {
		rep := scenarios.Run(ctx, sc, scenarios.RunOptions{StateDir: dir})
		printReport(e.stdout, rep)
		if rep.Pass() {
			pass++
		}
	}
	fmt.Fprintf(e.stdout, "\n%d passed, %d failed\n", pass, len(list)-pass)
	if pass != len(list) {
		return failed(fmt.Errorf("%d scenario(s) did not behave as expected", len(list)-pass))
	}
	return nil
}

func printReport(out io.Writer, rep *scenarios.Report) {
	mark := "PASS"
	if !rep.Pass() {
		mark = "FAIL"
	}
	fmt.Fprintf(out, "%s %s — %s\n", mark, rep.Scenario.ID, rep.Scenario.Title)
	if rep.Err != nil {
		fmt.Fprintf(out, "  error: %v\n", rep.Err)
		return
	}
	for _, st := range rep.Steps {
		outcome := "ok"
		if st.HasFailed {
			outcome = fmt.Sprintf("failed at %s (%d): %s", st.Failed.Name, st.Failed.Status, oneLine(st.Failed.Detail))
		}
		fmt.Fprintf(out, "  %d. %-15s %s\n     %s\n", st.Index+1, st.Action, st.Name, outcome)
		if st.Decision != nil && st.Decision.Hint != "" {
			fmt.Fprintf(out, "     diagnosis: %s\n", st.Decision.Hint)
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
