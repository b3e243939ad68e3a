// Package cli implements the azsim command line (DESIGN.md "CLI contract").
// It is the only package that imports cobra; commands turn flags into
// library options.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/internal/platform/state"
)

// Exit codes (DESIGN.md "CLI contract").
const (
	ExitOK     = 0
	ExitFailed = 1 // a check or flow failed
	ExitUsage  = 2 // bad usage or bad input
)

// exitError carries an exit code with its message.
type exitError struct {
	code   int
	err    error
	silent bool // the code speaks for itself (a child's exit status)
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks bad usage or bad input (exit 2).
func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// failed marks a failed check or flow (exit 1).
func failed(err error) error { return &exitError{code: ExitFailed, err: err} }

type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// Main runs the command line and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return MainContext(context.Background(), args, stdin, stdout, stderr)
}

// MainContext is Main with a context; cancelling it stops long-running
// commands such as `up`.
func MainContext(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := e.root()
	root.SetContext(ctx)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.silent {
			fmt.Fprintln(stderr, "azsim:", err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "azsim:", err)
	// cobra's own flag and argument errors are usage errors.
	return ExitUsage
}

func (e *env) root() *cobra.Command {
	root := &cobra.Command{
		Use:           "azsim",
		Short:         "Offline simulator of Entra ID, IMDS, the AKS OIDC issuer and ACR",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })
	root.AddCommand(e.upCmd(), e.envCmd(), e.tokenCmd(), e.pullCmd(), e.scenarioCmd(), e.traceCmd(), e.execCmd(), e.execChildCmd(), e.credentialProviderCmd(), e.kubeletCmd(), e.conformanceCmd(), e.kindCmd())
	return root
}

// stateDirFlag registers --state-dir.
func stateDirFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "state-dir", state.DefaultPath(), "state directory (CA, signing keys, endpoints.json)")
}
