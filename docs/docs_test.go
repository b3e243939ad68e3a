package docs

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// moduleRoot is the module's directory, seen from this package.
const moduleRoot = ".."

// citation is one reference from Go source to a document of docs/.
type citation struct {
	Pos     string // file:line of the comment or string holding it
	Text    string // the citation as written, for messages
	Prefix  string // the path written before the file name ("", "docs/", "reference/", ...)
	File    string // the document's base name, e.g. "protocols.md"
	Section string // "3.1", "0"; empty for a title or a whole-file citation
	Title   string // DESIGN.md section title; empty otherwise
}

var (
	// fileRe finds a cited document, with whatever path is written before it.
	fileRe = regexp.MustCompile(`((?:[\w.~-]*/)*)\b(protocols|clients|kind-offline|DESIGN|arm|peers)\.md\b`)
	// refRe finds kindenv's short form "ref §N" (kind-offline.md section N).
	refRe = regexp.MustCompile(`\bref §(\d+(?:\.\d+)*)`)
	// firstRe is the first section number after a file name.
	firstRe = regexp.MustCompile(`^[ \t\n]+(?:sections?[ \t\n]+)?(\d+(?:\.\d+)*)`)
	// nextRe is a further section number in a list or range: "3.3, 3.6",
	// "2.1–2.4", "5.2 and 5.3", "2.4 and section 7", "§5, §10".
	nextRe = regexp.MustCompile(`^(?:[ \t\n]*(?:,|–|-)[ \t\n]*|[ \t\n]+and[ \t\n]+)(?:sections?[ \t\n]+|§)?(\d+(?:\.\d+)*)`)
	// subRe is a part of a section that is not itself a section: "0 item 10",
	// "1.8 step 1", "§2 point 6", "§10 B4".
	subRe = regexp.MustCompile(`^[ \t\n]+(?:(?:item|step|point) \d+|B\d+)\b`)
	// titleRe is a quoted DESIGN.md section title.
	titleRe = regexp.MustCompile(`^[ \t\n]+"([^"\n]+)"`)
)

// extractCitations returns the citations in text, a comment or string; pos
// names the place of a byte offset in text.
func extractCitations(pos func(offset int) string, text string) []citation {
	var out []citation
	for _, m := range fileRe.FindAllStringSubmatchIndex(text, -1) {
		c := citation{Pos: pos(m[0]), Prefix: text[m[2]:m[3]], File: text[m[4]:m[5]] + ".md"}
		tail := text[m[1]:]
		if c.File == "DESIGN.md" {
			if t := titleRe.FindStringSubmatch(tail); t != nil {
				c.Title = t[1]
			}
			c.Text = text[m[0]:m[1]]
			if c.Title != "" {
				c.Text += " " + strconv.Quote(c.Title)
			}
			out = append(out, c)
			continue
		}
		secs := sectionList(tail, firstRe)
		if len(secs) == 0 {
			c.Text = text[m[0]:m[1]]
			out = append(out, c)
		}
		for _, s := range secs {
			c.Section, c.Text = s, text[m[0]:m[1]]+" "+s
			out = append(out, c)
		}
	}
	for _, m := range refRe.FindAllStringSubmatchIndex(text, -1) {
		secs := append([]string{text[m[2]:m[3]]}, sectionList(text[m[1]:], nil)...)
		for _, s := range secs {
			out = append(out, citation{Pos: pos(m[0]), Text: "ref §" + s, File: "kind-offline.md", Section: s})
		}
	}
	return out
}

// sectionList reads the section numbers at the start of tail: the first one
// by first (nil when the caller has read it already), then any further ones.
func sectionList(tail string, first *regexp.Regexp) []string {
	var secs []string
	if first != nil {
		m := first.FindStringSubmatchIndex(tail)
		if m == nil {
			return nil
		}
		secs, tail = append(secs, tail[m[2]:m[3]]), tail[m[1]:]
	}
	for {
		if m := subRe.FindStringIndex(tail); m != nil {
			tail = tail[m[1]:]
		}
		m := nextRe.FindStringSubmatchIndex(tail)
		if m == nil {
			return secs
		}
		secs, tail = append(secs, tail[m[2]:m[3]]), tail[m[1]:]
	}
}

// docPaths are the documents a citation may name, by base name, relative to
// docs/, and the path prefixes under which the code may write them.
var docPaths = map[string]struct {
	rel      string
	prefixes []string
}{
	"DESIGN.md":       {"DESIGN.md", []string{"", "docs/"}},
	"protocols.md":    {"reference/protocols.md", []string{"", "reference/", "docs/reference/"}},
	"clients.md":      {"reference/clients.md", []string{"", "reference/", "docs/reference/"}},
	"kind-offline.md": {"reference/kind-offline.md", []string{"", "reference/", "docs/reference/"}},
	"arm.md":          {"reference/arm.md", []string{"", "reference/", "docs/reference/"}},
	"peers.md":        {"reference/peers.md", []string{"", "reference/", "docs/reference/"}},
}

// headingRe is a Markdown ATX heading.
var headingRe = regexp.MustCompile(`(?m)^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$`)

// readHeadings returns the heading texts of each document of docs/ that
// exists, keyed by base name.
func readHeadings(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, d := range docPaths {
		b, err := os.ReadFile(filepath.FromSlash(d.rel))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		for _, m := range headingRe.FindAllStringSubmatch(string(b), -1) {
			out[name] = append(out[name], m[1])
		}
	}
	return out
}

// resolve says what is wrong with c given the documents' headings, or "".
func resolve(c citation, headings map[string][]string) string {
	d, known := docPaths[c.File]
	switch {
	case !known:
		return "unknown document"
	case !containsString(d.prefixes, c.Prefix):
		return fmt.Sprintf("points outside docs/ (%q); write docs/%s or %s", c.Prefix+c.File, d.rel, c.File)
	}
	hs, exists := headings[c.File]
	if !exists {
		return "docs/" + d.rel + " does not exist"
	}
	for _, h := range hs {
		if c.Title != "" && strings.EqualFold(strings.TrimSpace(h), c.Title) {
			return ""
		}
		if c.Section != "" && headingHasNumber(h, c.Section) {
			return ""
		}
	}
	switch {
	case c.Title != "":
		return fmt.Sprintf("docs/%s has no section titled %q", d.rel, c.Title)
	case c.Section != "":
		return fmt.Sprintf("docs/%s has no section %s", d.rel, c.Section)
	}
	return ""
}

// headingHasNumber reports whether heading h is numbered n: "3.1 The
// challenge", "3.1. The challenge", "3. ACR", "§3.1 ...".
func headingHasNumber(h, n string) bool {
	h = strings.TrimPrefix(strings.TrimSpace(h), "§")
	rest, ok := strings.CutPrefix(h, n)
	if !ok {
		return false
	}
	rest = strings.TrimPrefix(rest, ".")
	return rest == "" || rest[0] == ' ' || rest[0] == '\t'
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// moduleGoFiles returns the module's .go files (test files included),
// skipping testdata, docs, hidden directories and nested modules.
func moduleGoFiles(t *testing.T, skipDocs bool) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDir(path, d.Name(), skipDocs) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(files)
	return files
}

// skipDir reports whether the walk leaves out directory path (named name).
func skipDir(path, name string, skipDocs bool) bool {
	if path == moduleRoot {
		return false
	}
	if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return true
	}
	if skipDocs && filepath.Clean(path) == filepath.Join(moduleRoot, "docs") {
		return true
	}
	_, err := os.Stat(filepath.Join(path, "go.mod"))
	return err == nil // a nested module is not part of this one
}

// fileCitations returns the citations in the comments and string literals of
// one Go file.
func fileCitations(t *testing.T, path string) []citation {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	require.NoError(t, err, "parsing %s", path)
	rel, err := filepath.Rel(moduleRoot, path)
	require.NoError(t, err)
	// at places an offset of text, which starts at p, by counting lines.
	at := func(p token.Pos, text string) func(int) string {
		return func(offset int) string {
			line := fset.Position(p).Line + strings.Count(text[:offset], "\n")
			return fmt.Sprintf("%s:%d", filepath.ToSlash(rel), line)
		}
	}
	var out []citation
	for _, g := range f.Comments {
		text := g.Text()
		out = append(out, extractCitations(at(g.Pos(), text), text)...)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				out = append(out, extractCitations(at(lit.Pos(), s), s)...)
			}
		}
		return true
	})
	return out
}

func TestCitationsResolve(t *testing.T) {
	headings := readHeadings(t)
	var found int
	var problems []string
	for _, path := range moduleGoFiles(t, true) {
		for _, c := range fileCitations(t, path) {
			found++
			if p := resolve(c, headings); p != "" {
				problems = append(problems, fmt.Sprintf("%s: %s: %s", c.Pos, c.Text, p))
			}
		}
	}
	require.Positive(t, found, "the module cites the documents; finding none means the walk or the patterns broke")
	assert.Empty(t, problems, "citations that do not resolve:\n%s", strings.Join(problems, "\n"))
}

func TestExtractCitations(t *testing.T) {
	tests := []struct {
		text string
		want []string // File Section or File "Title"
	}{
		{"(protocols.md 3.1).", []string{"protocols.md 3.1"}},
		{"(protocols.md 3.3, 3.6): the", []string{"protocols.md 3.3", "protocols.md 3.6"}},
		{"(protocols.md 3.3, clients.md 3.4).", []string{"protocols.md 3.3", "clients.md 3.4"}},
		{"(protocols.md 0 item 11,\n3.1): every", []string{"protocols.md 0", "protocols.md 3.1"}},
		{"(protocols.md 2.1–2.4):", []string{"protocols.md 2.1", "protocols.md 2.4"}},
		{"sections\nprotocols.md sections\n1-3. The", []string{"protocols.md 1", "protocols.md 3"}},
		{"(protocols.md 2.4 and section 7 mark", []string{"protocols.md 2.4", "protocols.md 7"}},
		{"(protocols.md 2.1: 2017-03-01 … 2025-04-07", []string{"protocols.md 2.1"}},
		{"follows reference/protocols.md section 1; each", []string{"reference/protocols.md 1"}},
		{"(docs/reference/protocols.md 1.6).", []string{"docs/reference/protocols.md 1.6"}},
		{"where protocols.md is silent", []string{"protocols.md"}},
		{`(DESIGN.md "Admin API").`, []string{`DESIGN.md "Admin API"`}},
		{`(docs/DESIGN.md "Trace and diagnosis")`, []string{`docs/DESIGN.md "Trace and diagnosis"`}},
		{"the pitfalls of DESIGN.md, each", []string{`DESIGN.md ""`}},
		{"lacks CAP_SYS_RESOURCE (ref §5, §10 B4).", []string{"kind-offline.md 5", "kind-offline.md 10"}},
		{"(ref §2 point 6).", []string{"kind-offline.md 2"}},
		{`cited as "ref §N").`, nil},
		{"see /work/shared/reference/clients.md 5.4", []string{"/work/shared/reference/clients.md 5.4"}},
		{"README.md and go.mod", nil},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			var got []string
			for _, c := range extractCitations(func(int) string { return "x.go:1" }, tt.text) {
				s := c.Prefix + c.File + " " + c.Section
				if c.File == "DESIGN.md" {
					s = c.Prefix + c.File + " " + strconv.Quote(c.Title)
				}
				got = append(got, strings.TrimSpace(s))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestResolveRejects(t *testing.T) {
	headings := map[string][]string{
		"protocols.md": {"1. Entra", "1.1 Endpoints and URL forms", "3.10 Later"},
		"DESIGN.md":    {"Admin API"},
	}
	tests := []struct {
		name string
		c    citation
		want string // substring of the problem; "" when it resolves
	}{
		{"section", citation{File: "protocols.md", Section: "1.1"}, ""},
		{"chapter", citation{File: "protocols.md", Section: "1"}, ""},
		{"missing section", citation{File: "protocols.md", Section: "1.2"}, "no section 1.2"},
		{"prefix of a number", citation{File: "protocols.md", Section: "3.1"}, "no section 3.1"},
		{"title", citation{File: "DESIGN.md", Title: "Admin API"}, ""},
		{"missing title", citation{File: "DESIGN.md", Title: "Dashboard"}, "no section titled"},
		{"outside docs", citation{Prefix: "/work/shared/reference/", File: "protocols.md", Section: "1.1"}, "outside docs"},
		{"missing document", citation{File: "clients.md", Section: "3.4"}, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolve(tt.c, headings)
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tt.want)
		})
	}
}
