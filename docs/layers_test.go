package docs

import (
	"bufio"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layerRow is one row of the table in DESIGN.md "Packages and layers".
type layerRow struct {
	Layer   int
	Entries []layerEntry
	// Peers: the packages of the row may import one another ("(peers)"
	// after any entry of the row).
	Peers bool
}

// layerEntry is one comma-separated item of a row's packages cell: an import
// path relative to the module, "/..." meaning the package and its subtree,
// optionally followed by "(peers)" (the packages the entry covers may import
// one another, not the row's other entries) or "(only a, b/...)" (the packages the entry covers may import
// no other module packages than those).
type layerEntry struct {
	Pattern string
	Peers   bool
	Only    []string
}

// violation is one break of the layer rules.
type violation struct {
	Pkg, Import, Reason string
}

func (v violation) String() string {
	if v.Import == "" {
		return v.Pkg + ": " + v.Reason
	}
	return v.Pkg + " imports " + v.Import + ": " + v.Reason
}

// matches reports whether pattern covers pkg.
func matches(pattern, pkg string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// place is where the table puts a package.
type place struct {
	row   *layerRow
	entry *layerEntry
}

// locate returns the row entry that covers pkg, the most specific one when
// several do.
func locate(rows []layerRow, pkg string) (place, bool) {
	var best place
	bestLen := -1
	for i := range rows {
		for j := range rows[i].Entries {
			e := &rows[i].Entries[j]
			if matches(e.Pattern, pkg) && len(e.Pattern) > bestLen {
				best, bestLen = place{&rows[i], e}, len(e.Pattern)
			}
		}
	}
	return best, bestLen >= 0
}

// checkLayers applies the layer rules to imports (module package → the
// module packages its non-test files import, all relative to the module): an
// import must go to a strictly lower layer, into the importer's own subtree,
// or to another package of the same entry when the entry is marked peers; an
// entry with Only may import nothing else;
// every package must be covered by a row.
func checkLayers(rows []layerRow, imports map[string][]string) []violation {
	pkgs := make([]string, 0, len(imports))
	for p := range imports {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	var out []violation
	for _, pkg := range pkgs {
		from, ok := locate(rows, pkg)
		if !ok {
			out = append(out, violation{Pkg: pkg, Reason: "no row of the layer table covers it"})
			continue
		}
		for _, imp := range imports[pkg] {
			if v := checkImport(rows, pkg, from, imp); v != "" {
				out = append(out, violation{Pkg: pkg, Import: imp, Reason: v})
			}
		}
	}
	return out
}

// checkImport says why pkg (placed at from) may not import imp, or "".
func checkImport(rows []layerRow, pkg string, from place, imp string) string {
	if strings.HasPrefix(imp, pkg+"/") {
		return "" // its own subtree
	}
	to, ok := locate(rows, imp)
	if !ok {
		return "" // reported as an uncovered package of its own
	}
	if from.entry.Only != nil && !anyMatches(from.entry.Only, imp) {
		return fmt.Sprintf("%s may import only %s", from.entry.Pattern, strings.Join(from.entry.Only, ", "))
	}
	switch {
	case to.row.Layer > from.row.Layer:
		return fmt.Sprintf("upward import, layer %d imports layer %d", from.row.Layer, to.row.Layer)
	case to.row.Layer == from.row.Layer && !(from.entry.Peers && to.entry.Pattern == from.entry.Pattern):
		return fmt.Sprintf("same-layer import (layer %d) between packages that are not peers", from.row.Layer)
	}
	return ""
}

func anyMatches(patterns []string, pkg string) bool {
	for _, p := range patterns {
		if matches(p, pkg) {
			return true
		}
	}
	return false
}

// layersHeader is the exact header of the layer table.
const layersHeader = "| layer | packages | owns |"

// parseLayerTable reads the table under "## Packages and layers" of a
// DESIGN.md.
func parseLayerTable(doc string) ([]layerRow, error) {
	var rows []layerRow
	in, header := false, false
	sc := bufio.NewScanner(strings.NewReader(doc))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Packages and layers"
			continue
		case !in || !strings.HasPrefix(line, "|"):
			continue
		case !header:
			if line != layersHeader {
				return nil, fmt.Errorf("reading the layer table: header %q, want %q", line, layersHeader)
			}
			header = true
			continue
		case strings.Trim(line, "|-: ") == "":
			continue // the separator row
		}
		row, err := parseLayerRow(line)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("reading the layer table: no rows under %q", "## Packages and layers")
	}
	return rows, nil
}

// parseLayerRow parses "| 1 | internal/platform/... (peers), client | ... |".
func parseLayerRow(line string) (layerRow, error) {
	cells := strings.Split(strings.Trim(line, "|"), "|")
	if len(cells) != 3 {
		return layerRow{}, fmt.Errorf("reading layer row %q: %d cells, want 3", line, len(cells))
	}
	n, err := strconv.Atoi(strings.TrimSpace(cells[0]))
	if err != nil {
		return layerRow{}, fmt.Errorf("reading layer row %q: %w", line, err)
	}
	row := layerRow{Layer: n}
	for _, item := range splitOutsideParens(strings.ReplaceAll(cells[1], "`", "")) {
		e, err := parseEntry(item)
		if err != nil {
			return layerRow{}, fmt.Errorf("reading layer row %q: %w", line, err)
		}
		row.Entries = append(row.Entries, e)
		row.Peers = row.Peers || e.Peers
	}
	return row, nil
}

// parseEntry parses "fakeacr/...", "internal/platform/... (peers)" or
// "conformance (only api, client)".
func parseEntry(item string) (layerEntry, error) {
	pattern, mod, hasMod := strings.Cut(strings.TrimSpace(item), " ")
	e := layerEntry{Pattern: pattern}
	if pattern == "" || strings.HasPrefix(pattern, "/") || strings.Contains(pattern, "(") {
		return e, fmt.Errorf("bad package entry %q", item)
	}
	if !hasMod {
		return e, nil
	}
	mod = strings.TrimSpace(mod)
	switch {
	case mod == "(peers)":
		e.Peers = true
	case strings.HasPrefix(mod, "(only ") && strings.HasSuffix(mod, ")"):
		for _, p := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(mod, "(only "), ")"), ",") {
			e.Only = append(e.Only, strings.TrimSpace(p))
		}
	default:
		return e, fmt.Errorf("entry %q: unknown modifier %q (want (peers) or (only ...))", item, mod)
	}
	return e, nil
}

// splitOutsideParens splits s at the commas that are not inside parentheses.
func splitOutsideParens(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// moduleImports maps each package directory of the module (relative path) to
// the module packages its non-test files import.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	mod := modulePath(t)
	out := map[string][]string{}
	fset := token.NewFileSet()
	for _, path := range moduleGoFiles(t, false) {
		dir, err := filepath.Rel(moduleRoot, filepath.Dir(path))
		require.NoError(t, err)
		pkg := filepath.ToSlash(dir)
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		require.NoError(t, err, "parsing %s", path)
		for _, spec := range f.Imports {
			p, err := strconv.Unquote(spec.Path.Value)
			require.NoError(t, err)
			if rel, ok := strings.CutPrefix(p, mod+"/"); ok && !containsString(out[pkg], rel) {
				out[pkg] = append(out[pkg], rel)
			}
		}
	}
	for pkg := range out {
		sort.Strings(out[pkg])
	}
	return out
}

// modulePath reads the module path from go.mod.
func modulePath(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot, "go.mod"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.TrimSpace(p)
		}
	}
	require.FailNow(t, "go.mod has no module line")
	return ""
}

func TestLayers(t *testing.T) {
	b, err := os.ReadFile("DESIGN.md")
	require.NoError(t, err)
	rows, err := parseLayerTable(string(b))
	require.NoError(t, err)
	imports := moduleImports(t)
	require.Contains(t, imports, "world", "the walk must find the module's packages")
	var lines []string
	for _, v := range checkLayers(rows, imports) {
		lines = append(lines, v.String())
	}
	assert.Empty(t, lines, "imports against the layer table of DESIGN.md \"Packages and layers\":\n%s",
		strings.Join(lines, "\n"))
}

// synthetic is a small table in the shape of the real one.
const synthetic = `# x

## Packages and layers

` + layersHeader + `
| --- | --- | --- |
| 0 | api | contracts |
| 1 | internal/platform/... (peers), client | leaves |
| 2 | world | the model |
| 4 | fakeaad, fakeimds, fakeacr/..., internal/clients/... | fakes |
| 6 | sim | composition root |
| 7 | conformance (only api, client, internal/platform/...) | engine |

## Next
`

func TestLayersRejectUpwardImport(t *testing.T) {
	rows, err := parseLayerTable(synthetic)
	require.NoError(t, err)
	imports := map[string][]string{
		"api":                         nil,
		"client":                      {"api"},
		"internal/platform/certs":     {"internal/platform/state"},
		"internal/platform/state":     {"internal/platform/jwtx", "client"},
		"internal/platform/jwtx":      nil,
		"world":                       {"internal/platform/ids", "sim"},
		"fakeaad":                     {"api", "world"},
		"fakeimds":                    {"fakeaad", "world"},
		"fakeacr":                     {"fakeacr/internal/ocistore", "world"},
		"fakeacr/internal/ocistore":   {"fakeacr"},
		"internal/clients/flow":       nil,
		"internal/clients/credprovid": {"internal/clients/flow"},
		"sim":                         {"fakeaad", "fakeacr", "fakeimds", "world"},
		"conformance":                 {"api", "client", "internal/platform/jwtx", "world"},
		"internal/diagnose":           {"world"},
	}
	var got []string
	for _, v := range checkLayers(rows, imports) {
		got = append(got, v.String())
	}
	assert.Equal(t, []string{
		"conformance imports world: conformance may import only api, client, internal/platform/...",
		"fakeacr/internal/ocistore imports fakeacr: same-layer import (layer 4) between packages that are not peers",
		"fakeimds imports fakeaad: same-layer import (layer 4) between packages that are not peers",
		"internal/clients/credprovid imports internal/clients/flow: same-layer import (layer 4) between packages that are not peers",
		"internal/diagnose: no row of the layer table covers it",
		"internal/platform/state imports client: same-layer import (layer 1) between packages that are not peers",
		"world imports sim: upward import, layer 2 imports layer 6",
	}, got, "a peer entry's packages may import one another (platform), not the row's other entries (client)")
}

func TestParseLayerTableRejects(t *testing.T) {
	tests := map[string]string{
		"wrong header": "## Packages and layers\n| layer | packages | what |\n| 0 | api | x |\n",
		"no rows":      "## Packages and layers\n\ntext\n",
		"bad layer":    "## Packages and layers\n" + layersHeader + "\n| zero | api | x |\n",
		"bad modifier": "## Packages and layers\n" + layersHeader + "\n| 0 | api (friends) | x |\n",
		"cells":        "## Packages and layers\n" + layersHeader + "\n| 0 | api |\n",
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseLayerTable(doc)
			assert.Error(t, err)
		})
	}
}
