package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/api"
)

func (e *env) traceCmd() *cobra.Command {
	var stateDir string
	var follow, asJSON bool
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Show the decisions of a running simulator, with diagnoses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := connect(stateDir)
			if err != nil {
				return err
			}
			return e.trace(cmd.Context(), a, follow, asJSON)
		},
	}
	stateDirFlag(cmd, &stateDir)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "stream new decisions")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON decision per line")
	return cmd
}

func (e *env) trace(ctx context.Context, a *adminClient, follow, asJSON bool) error {
	path := "/api/trace"
	if follow {
		path += "?follow=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.ep.Admin+path, nil)
	if err != nil {
		return failed(err)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	client := &http.Client{}
	resp, err := client.Do(req)
	if err != nil {
		return failed(fmt.Errorf("the simulator at %s does not answer: %w", a.ep.Admin, err))
	}
	defer resp.Body.Close()
	if !follow {
		var ds []api.Decision
		if err := json.NewDecoder(resp.Body).Decode(&ds); err != nil {
			return failed(err)
		}
		for _, d := range ds {
			printDecision(e.stdout, d, asJSON)
		}
		return nil
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var d api.Decision
		if json.Unmarshal(sc.Bytes(), &d) == nil {
			printDecision(e.stdout, d, asJSON)
		}
	}
	if ctx.Err() != nil {
		return nil
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
