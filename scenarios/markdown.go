package scenarios

import (
	"fmt"
	"strings"
)

// Markdown renders the catalogue as the README's "Reproducing pitfalls"
// table, so the README is generated from the scenario data.
func Markdown(all []*Scenario) string {
	var b strings.Builder
	b.WriteString("| scenario | pitfall | what you see | fix |\n| --- | --- | --- | --- |\n")
	for _, sc := range all {
		seen := "works"
		for _, st := range sc.Steps {
			if st.Expect.Fail {
				seen = fmt.Sprintf("%s %d", st.Expect.Hop, st.Expect.Status)
				if st.Expect.Error != "" {
					seen += ": " + shorten(st.Expect.Error, 70)
				}
				break
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", sc.ID, cell(sc.Title), cell(seen), cell(sc.Fix))
	}
	return b.String()
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func cell(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
}
