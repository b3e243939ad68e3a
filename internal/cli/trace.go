package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
)

func (e *env) traceCmd() *cobra.Command {
	var stateDir string
	var follow, asJSON bool
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Show the decisions of a running simulator, with diagnoses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := connect(stateDir)
			if err != nil {
				return err
			}
			return e.trace(cmd.Context(), c, follow, asJSON)
		},
	}
	stateDirFlag(cmd, &stateDir)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "stream new decisions")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON decision per line")
	return cmd
}

func (e *env) trace(ctx context.Context, c *client.Client, follow, asJSON bool) error {
	if !follow {
		ds, err := c.Trace(ctx, 0)
		if err != nil {
			return adminErr(err)
		}
		for _, d := range ds {
			printDecision(e.stdout, d, asJSON)
		}
		return nil
	}
	err := c.FollowTrace(ctx, 0, func(d api.Decision) error {
		printDecision(e.stdout, d, asJSON)
		return nil
	})
	if err != nil && ctx.Err() == nil {
		return adminErr(err)
	}
	return nil
}

func printDecision(out io.Writer, d api.Decision, asJSON bool) {
	if asJSON {
		b, _ := json.Marshal(d)
		fmt.Fprintln(out, string(b))
		return
	}
	who := d.Principal
	if who == "" {
		who = "-"
	}
	fmt.Fprintf(out, "%s %-4s %-8s %-5s %d %s %s%s principal=%s", d.Time.Format("15:04:05"), d.Flow, d.Service, d.Outcome, d.Status,
		d.Method, d.Host, d.Path, who)
	if d.Error != "" {
		fmt.Fprintf(out, " error=%q", d.Error)
	}
	if d.Repeats > 0 {
		fmt.Fprintf(out, " (×%d since %s)", d.Repeats+1, d.FirstTime.Format("15:04:05"))
	}
	fmt.Fprintln(out)
	switch {
	case d.Hint != nil:
		fmt.Fprintf(out, "    diagnosis: %s\n", strings.TrimSpace(d.Hint.String()))
	case d.Outcome != api.OutcomeAllow && d.Reason != "":
		fmt.Fprintf(out, "    reason: %s\n", strings.TrimSpace(d.Reason))
	}
}
