package conformance

import (
	"fmt"
	"io"
	"strings"
)

var statusMarks = map[Status]string{
	Unknown: "?", Disabled: "-", Skip: "~", Pass: "✓", Fail: "✗", Error: "!",
}

var statusEmoji = map[Status]string{
	Unknown: "❔", Disabled: "⚪", Skip: "⏭️", Pass: "✅", Fail: "❌", Error: "💥",
}

// WriteConsole prints the result tree, one line per node, with the message
// of every case that did not pass; verbose adds case logs.
func (r *Report) WriteConsole(w io.Writer, verbose bool) error {
	var b strings.Builder
	writeNode(&b, r.Root, 0, verbose)
	fmt.Fprintf(&b, "\n%s: %s in %s (%s)\n", r.Suite, strings.ToUpper(r.Status().String()), r.Duration.Round(1e6), r.countLine())
	for _, wn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeNode(b *strings.Builder, n *Result, depth int, verbose bool) {
	indent := strings.Repeat("  ", depth)
	name := n.Name()
	if depth == 0 {
		name = n.ID
	}
	fmt.Fprintf(b, "%s%s %-8s %s", indent, statusMarks[n.Status], n.Status, name)
	if len(n.Children) == 0 && n.Message != "" && (n.Status != Pass || verbose) {
		fmt.Fprintf(b, ": %s", n.Message)
	}
	b.WriteByte('\n')
	if verbose {
		for _, l := range n.Log {
			fmt.Fprintf(b, "%s    | %s\n", indent, l)
		}
	}
	for _, c := range n.Children {
		writeNode(b, c, depth+1, verbose)
	}
}

func (r *Report) countLine() string {
	counts := r.Counts()
	var parts []string
	for s := Error; s >= Unknown; s-- {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	if len(parts) == 0 {
		return "no cases selected"
	}
	return strings.Join(parts, ", ")
}

// WriteMarkdown writes a summary suitable for $GITHUB_STEP_SUMMARY: the
// verdict, the counts, a table of every case that did not pass or was
// disabled, and the full list in a collapsed section.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	verdict := "passed"
	if !r.OK() {
		verdict = "FAILED"
	}
	fmt.Fprintf(&b, "## %s azsim conformance: %s %s\n\n", statusEmoji[r.Status()], r.Suite, verdict)
	if r.Target != "" {
		fmt.Fprintf(&b, "Target: `%s` · %s · %s\n\n", r.Target, r.countLine(), r.Duration.Round(1e6))
	}
	b.WriteString("| status | cases |\n| --- | ---: |\n")
	counts := r.Counts()
	for s := Error; s >= Disabled; s-- {
		fmt.Fprintf(&b, "| %s %s | %d |\n", statusEmoji[s], s, counts[s])
	}
	var notable []*Result
	for _, c := range r.Cases() {
		if c.Status != Pass {
			notable = append(notable, c)
		}
	}
	if len(notable) > 0 {
		b.WriteString("\n| case | status | message |\n| --- | --- | --- |\n")
		for _, c := range notable {
			fmt.Fprintf(&b, "| `%s` | %s %s | %s |\n", c.ID, statusEmoji[c.Status], c.Status, mdCell(c.Message))
		}
	}
	b.WriteString("\n<details><summary>All cases</summary>\n\n")
	for _, c := range r.Cases() {
		fmt.Fprintf(&b, "- %s `%s` %s\n", statusEmoji[c.Status], c.ID, mdCell(c.Title))
	}
	b.WriteString("\n</details>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func mdCell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r", " ", "\n", " ").Replace(s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
