package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/conformance"
)

// sample is a suite whose cases end in every status.
func sample(setupErr error) *conformance.Suite {
	return &conformance.Suite{
		Name: "demo", Target: "unit", Features: conformance.FeatureSet{"on": true},
		Setup: func(context.Context) error { return setupErr },
		Cases: []conformance.Case{
			{ID: "a/pass", Title: "passes", Run: func(c *conformance.C) { c.Logf("fine") }},
			{ID: "a/fail", Title: "fails", Run: func(c *conformance.C) {
				c.Failf("first")
				c.Fatalf("second <&>")
				panic("not reached")
			}},
			{ID: "b/skip", Run: func(c *conformance.C) { c.Skipf("not here") }},
			{ID: "b/disabled", Needs: []conformance.Feature{"off", "on"}, Run: func(c *conformance.C) { panic("not run") }},
			{ID: "c/d/error", Run: func(c *conformance.C) { c.Broken("network down") }},
			{ID: "c/d/panic", Run: func(c *conformance.C) { panic("boom") }},
		},
	}
}

func TestStatusOrderAndTree(t *testing.T) {
	t.Parallel()
	assert.True(t, conformance.Unknown < conformance.Disabled && conformance.Disabled < conformance.Skip &&
		conformance.Skip < conformance.Pass && conformance.Pass < conformance.Fail && conformance.Fail < conformance.Error)
	rep := conformance.Run(context.Background(), sample(nil), conformance.Options{})
	want := map[string]conformance.Status{"demo/a/pass": conformance.Pass, "demo/a/fail": conformance.Fail, "demo/b/skip": conformance.Skip,
		"demo/b/disabled": conformance.Disabled, "demo/c/d/error": conformance.Error, "demo/c/d/panic": conformance.Error}
	for id, st := range want {
		assert.Equal(t, st, rep.Root.Find(id).Status, id)
	}
	assert.Equal(t, "first; second <&>", rep.Root.Find("demo/a/fail").Message)
	assert.Equal(t, "target does not declare off", rep.Root.Find("demo/b/disabled").Message)
	assert.Contains(t, rep.Root.Find("demo/c/d/panic").Message, "harness panic: boom")
	assert.Equal(t, conformance.Fail, rep.Root.Find("demo/a").Status, "parent = max of children")
	assert.Equal(t, conformance.Skip, rep.Root.Find("demo/b").Status)
	assert.Equal(t, conformance.Error, rep.Root.Find("demo/c").Status)
	assert.Equal(t, conformance.Error, rep.Status())
	assert.False(t, rep.OK())
}

func TestDisabledAndSkipAreOK(t *testing.T) {
	t.Parallel()
	rep := conformance.Run(context.Background(), sample(nil), conformance.Options{Filter: conformance.ParseFilter("demo/a/pass,demo/b")})
	assert.Len(t, rep.Cases(), 3)
	assert.True(t, rep.OK(), rep.Status())
}

func TestSetupFailureIsError(t *testing.T) {
	t.Parallel()
	rep := conformance.Run(context.Background(), sample(errors.New("no world")), conformance.Options{Filter: conformance.Filter{"demo/a"}})
	for _, c := range rep.Cases() {
		assert.Equal(t, conformance.Error, c.Status)
		assert.Equal(t, "setup failed: no world", c.Message)
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	id := "providers/entra/token/fic/audience-mismatch"
	for _, tc := range []struct {
		filter string
		match  bool
	}{
		{"", true},
		{"providers", true},
		{"providers/entra/token", true},
		{"providers/entra/tok", false},
		{id, true},
		{"providers/imds", false},
		{"providers/*/token", true},
		{"providers/*/token/fic/audience-*", true},
		{"**/audience-mismatch", true},
		{"**/fic", true},
		{"providers/**/subject-*", false},
		{"providers/imds,providers/entra/token/fic", true},
		{"providers/[ei]*/token", true},
	} {
		assert.Equal(t, tc.match, conformance.ParseFilter(tc.filter).Match(id), "filter %q", tc.filter)
	}
}

// junitDoc parses JUnit XML independently of the package's own types.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Name      string    `xml:"name,attr"`
			Classname string    `xml:"classname,attr"`
			Time      string    `xml:"time,attr"`
			Failure   *struct{} `xml:"failure"`
			Error     *struct{} `xml:"error"`
			Skipped   *struct{} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, rep *conformance.Report) junitDoc {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, rep.WriteJUnit(&buf))
	require.True(t, strings.HasPrefix(buf.String(), "<?xml"), "XML declaration")
	var doc junitDoc
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc), buf.String())
	return doc
}

// checkJUnit validates the counts against the testcase elements.
func checkJUnit(t *testing.T, doc junitDoc) {
	t.Helper()
	var tests, failures, errs, skipped int
	for _, s := range doc.Suites {
		var f, e, sk int
		for _, c := range s.Cases {
			require.NotEmpty(t, c.Name)
			require.Equal(t, s.Name, c.Classname)
			require.NotEmpty(t, c.Time)
			n := 0
			for _, el := range []*struct{}{c.Failure, c.Error, c.Skipped} {
				if el != nil {
					n++
				}
			}
			require.LessOrEqual(t, n, 1, "at most one of failure, error, skipped")
			f, e, sk = f+btoi(c.Failure != nil), e+btoi(c.Error != nil), sk+btoi(c.Skipped != nil)
		}
		assert.Equal(t, len(s.Cases), s.Tests, s.Name)
		assert.Equal(t, []int{f, e, sk}, []int{s.Failures, s.Errors, s.Skipped}, s.Name)
		tests, failures, errs, skipped = tests+s.Tests, failures+f, errs+e, skipped+sk
	}
	assert.Equal(t, []int{tests, failures, errs, skipped}, []int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestJUnit(t *testing.T) {
	t.Parallel()
	doc := parseJUnit(t, conformance.Run(context.Background(), sample(nil), conformance.Options{}))
	checkJUnit(t, doc)
	assert.Equal(t, []int{6, 1, 2, 2}, []int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped})
	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	assert.ElementsMatch(t, []string{"demo/a", "demo/b", "demo/c/d"}, names)
}

func TestMarkdownAndJSON(t *testing.T) {
	t.Parallel()
	rep := conformance.Run(context.Background(), sample(nil), conformance.Options{})
	var md bytes.Buffer
	require.NoError(t, rep.WriteMarkdown(&md))
	assert.Contains(t, md.String(), "## 💥 azsim conformance: demo FAILED")
	assert.Contains(t, md.String(), "| `demo/a/fail` | ❌ fail | first; second <&> |")
	assert.NotContains(t, md.String(), "| `demo/a/pass`", "the table lists what did not pass")
	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	var back struct {
		Suite   string         `json:"suite"`
		Status  string         `json:"status"`
		Counts  map[string]int `json:"counts"`
		Results struct {
			ID       string `json:"id"`
			Children []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"children"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	assert.Equal(t, "error", back.Status)
	assert.Equal(t, map[string]int{"pass": 1, "fail": 1, "skip": 1, "disabled": 1, "error": 2}, back.Counts)
	assert.Equal(t, "demo", back.Results.ID)
	assert.Equal(t, "fail", back.Results.Children[0].Status)
	var console bytes.Buffer
	require.NoError(t, rep.WriteConsole(&console, true))
	assert.Contains(t, console.String(), "✗ fail     fail: first; second <&>")
	assert.Contains(t, console.String(), "| fine")
}
