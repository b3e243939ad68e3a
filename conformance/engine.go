package conformance

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Case is one check. ID is relative to its suite ("entra/token/fic/success");
// the engine prefixes the suite name.
type Case struct {
	ID string
	// Title says in one line what the case checks.
	Title string
	// Needs lists the features the target must declare.
	Needs []Feature
	// Run performs the check through c.
	Run func(c *C)
}

// Suite is a set of cases run against one target.
type Suite struct {
	Name string
	// Target names what the suite runs against, for reports.
	Target string
	// Features are the target's features; Setup may add to them.
	Features FeatureSet
	// Setup runs once before the first selected case; an error makes every
	// selected case Error. Teardown runs after the last case when Setup ran.
	Setup    func(ctx context.Context) error
	Teardown func(ctx context.Context) error
	Cases    []Case
}

// Options tune a run.
type Options struct {
	// Filter selects cases by ID; empty runs everything.
	Filter Filter
	// CaseTimeout bounds each case (default 30 s).
	CaseTimeout time.Duration
	// Progress, when set, is called after each case.
	Progress func(r *Result)
}

// Run runs the selected cases of s one after another (cases may change the
// target's world or clock, so they never overlap) and returns the report.
func Run(ctx context.Context, s *Suite, opts Options) *Report {
	if opts.CaseTimeout == 0 {
		opts.CaseTimeout = 30 * time.Second
	}
	rep := &Report{Suite: s.Name, Target: s.Target, Started: time.Now()}
	var selected []Case
	for _, c := range s.Cases {
		if opts.Filter.Match(s.Name + "/" + c.ID) {
			selected = append(selected, c)
		}
	}
	var setupErr error
	if len(selected) > 0 && s.Setup != nil {
		setupErr = s.Setup(ctx)
		if s.Teardown != nil {
			defer func() {
				if err := s.Teardown(context.WithoutCancel(ctx)); err != nil {
					rep.Warnings = append(rep.Warnings, "teardown: "+err.Error())
				}
			}()
		}
	}
	var leaves []*Result
	for _, c := range selected {
		r := &Result{ID: s.Name + "/" + c.ID, Title: c.Title}
		switch missing := s.Features.Missing(c.Needs); {
		case setupErr != nil:
			r.Status, r.Message = Error, "setup failed: "+setupErr.Error()
		case len(missing) > 0:
			r.Status, r.Message = Disabled, "target does not declare "+strings.Join(missing, ", ")
		default:
			runCase(ctx, c, r, opts.CaseTimeout)
		}
		leaves = append(leaves, r)
		if opts.Progress != nil {
			opts.Progress(r)
		}
	}
	rep.Duration = time.Since(rep.Started)
	rep.Root = buildTree(s.Name, leaves)
	return rep
}

// stop unwinds a case after Fatalf, Skipf or Broken.
type stop struct{}

func runCase(ctx context.Context, k Case, r *Result, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := &C{ctx: ctx, res: r}
	start := time.Now()
	defer func() {
		r.Duration = time.Since(start)
		if v := recover(); v != nil {
			if _, ok := v.(stop); !ok {
				c.set(Error, fmt.Sprintf("harness panic: %v", v))
			}
		}
		if r.Status == Unknown {
			r.Status = Pass
		}
	}()
	k.Run(c)
}

// C is what a case uses to report. Failf records a divergence and lets the
// case go on; Fatalf records one and stops; Skipf stops with Skip; Broken
// stops with Error (the harness, not the target, is at fault).
type C struct {
	ctx context.Context
	res *Result
}

// Context is the case's context (with its timeout).
func (c *C) Context() context.Context { return c.ctx }

// ID is the case's full ID.
func (c *C) ID() string { return c.res.ID }

// Logf records a line in the case's log.
func (c *C) Logf(format string, args ...any) {
	c.res.Log = append(c.res.Log, fmt.Sprintf(format, args...))
}

func (c *C) set(s Status, msg string) {
	if s > c.res.Status {
		c.res.Status = s
	}
	if c.res.Message != "" {
		c.res.Message += "; "
	}
	c.res.Message += msg
}

// Failf records a divergence; the case goes on.
func (c *C) Failf(format string, args ...any) { c.set(Fail, fmt.Sprintf(format, args...)) }

// Fatalf records a divergence and stops the case.
func (c *C) Fatalf(format string, args ...any) {
	c.Failf(format, args...)
	panic(stop{})
}

// Skipf stops the case with Skip.
func (c *C) Skipf(format string, args ...any) {
	c.set(Skip, fmt.Sprintf(format, args...))
	panic(stop{})
}

// Broken stops the case with Error: the harness could not do its job.
func (c *C) Broken(format string, args ...any) {
	c.set(Error, fmt.Sprintf(format, args...))
	panic(stop{})
}

// Check records a divergence when !ok and reports ok.
func (c *C) Check(ok bool, format string, args ...any) bool {
	if !ok {
		c.Failf(format, args...)
	}
	return ok
}

// Equal checks got == want for comparable values, naming what.
func (c *C) Equal(what string, want, got any) bool {
	return c.Check(want == got, "%s: want %v, got %v", what, want, got)
}

// Must stops the case with Fail when !ok.
func (c *C) Must(ok bool, format string, args ...any) {
	if !ok {
		c.Fatalf(format, args...)
	}
}
