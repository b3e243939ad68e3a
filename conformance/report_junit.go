package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML, in the shape CI systems read: one <testsuite> per group of
// cases (the parent ID), one <testcase> per case; Fail → <failure>, Error →
// <error>, Skip and Disabled → <skipped>.
type (
	JUnitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []JUnitSuite `xml:"testsuite"`
	}
	JUnitSuite struct {
		Name      string      `xml:"name,attr"`
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Errors    int         `xml:"errors,attr"`
		Skipped   int         `xml:"skipped,attr"`
		Time      string      `xml:"time,attr"`
		Timestamp string      `xml:"timestamp,attr,omitempty"`
		Cases     []JUnitCase `xml:"testcase"`
	}
	JUnitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *JUnitMessage `xml:"failure,omitempty"`
		Error     *JUnitMessage `xml:"error,omitempty"`
		Skipped   *JUnitMessage `xml:"skipped,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	JUnitMessage struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

func seconds(d interface{ Seconds() float64 }) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// JUnit converts the report.
func (r *Report) JUnit() JUnitSuites {
	out := JUnitSuites{Name: "azsim conformance " + r.Suite, Time: seconds(r.Duration)}
	index := map[string]int{}
	for _, c := range r.Cases() {
		group := c.ID[:strings.LastIndex(c.ID, "/")]
		i, ok := index[group]
		if !ok {
			i = len(out.Suites)
			index[group] = i
			out.Suites = append(out.Suites, JUnitSuite{Name: group, Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05")})
		}
		s := &out.Suites[i]
		jc := JUnitCase{Name: c.Name(), Classname: group, Time: seconds(c.Duration), SystemOut: strings.Join(c.Log, "\n")}
		msg := &JUnitMessage{Message: c.Message, Type: c.Status.String(), Text: c.Message}
		switch c.Status {
		case Fail:
			jc.Failure, s.Failures = msg, s.Failures+1
		case Error:
			jc.Error, s.Errors = msg, s.Errors+1
		case Skip, Disabled, Unknown:
			jc.Skipped, s.Skipped = &JUnitMessage{Message: c.Status.String() + ": " + c.Message}, s.Skipped+1
		}
		s.Tests++
		s.Cases = append(s.Cases, jc)
	}
	for i := range out.Suites {
		s := &out.Suites[i]
		var total float64
		for _, c := range r.Cases() {
			if strings.HasPrefix(c.ID, s.Name+"/") && !strings.Contains(c.ID[len(s.Name)+1:], "/") {
				total += c.Duration.Seconds()
			}
		}
		s.Time = fmt.Sprintf("%.3f", total)
		out.Tests, out.Failures, out.Errors, out.Skipped = out.Tests+s.Tests, out.Failures+s.Failures, out.Errors+s.Errors, out.Skipped+s.Skipped
	}
	return out
}

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(r.JUnit()); err != nil {
		return fmt.Errorf("encoding junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteJSON writes the report (the result tree and the counts) as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	counts := map[string]int{}
	for s, n := range r.Counts() {
		counts[s.String()] = n
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*Report
		Status Status         `json:"status"`
		Counts map[string]int `json:"counts"`
	}{r, r.Status(), counts})
}
