// Command bench measures azsim against its physical limits in one run and
// prints one Markdown table (and writes JSON): the Entra federated grant,
// the federated and VMSS flows over real HTTPS keep-alive, raw RS256
// signatures/s on the same cores, registry throughput through fakeacr vs the
// bare go-containerregistry handler (memory and disk-backed), and the
// start-up time and idle RSS of `azsim up`. Every ratio compares numbers
// measured in the same process and run (`make bench`).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"strings"
	"time"
)

// Result is one row of the table.
type Result struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	P50ms  float64 `json:"p50_ms,omitempty"`
	P99ms  float64 `json:"p99_ms,omitempty"`
	Allocs float64 `json:"allocs_per_op,omitempty"`
	// Ratio is the efficiency or ratio this row is judged by, with its target.
	Ratio  float64 `json:"ratio,omitempty"`
	Target string  `json:"target,omitempty"`
	Pass   *bool   `json:"pass,omitempty"`
	Note   string  `json:"note,omitempty"`
}

// Report is the JSON document.
type Report struct {
	Time       time.Time `json:"time"`
	GoVersion  string    `json:"go_version"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	NumCPU     int       `json:"num_cpu"`
	CPU        string    `json:"cpu"`
	Duration   string    `json:"duration_per_measurement"`
	Results    []Result  `json:"results"`
}

type config struct {
	duration   time.Duration
	imageMiB   int
	layers     int
	pulls      int
	azsim      string
	startRuns  int
	only       string
	out        string
	cpuProfile string
}

func main() {
	var c config
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "how long each throughput measurement runs")
	flag.IntVar(&c.imageMiB, "image-mib", 256, "size of the image pulled in the registry benchmarks")
	flag.IntVar(&c.layers, "layers", 4, "layers of that image")
	flag.IntVar(&c.pulls, "pulls", 5, "pulls per registry configuration (the best is reported)")
	flag.StringVar(&c.azsim, "azsim", "bin/azsim", "azsim binary for the start-up measurements (empty: skip)")
	flag.IntVar(&c.startRuns, "start-runs", 7, "warm start-ups measured (the median is reported)")
	flag.StringVar(&c.only, "only", "", "comma-separated groups to run: tokens,registry,startup (default all)")
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the token benchmarks")
	flag.StringVar(&c.out, "json", "bench/results.json", "JSON output file")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("bench: ")

	rep := &Report{Time: time.Now().UTC(), GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU: runtime.NumCPU(), CPU: cpuModel(), Duration: c.duration.String()}
	want := func(g string) bool { return c.only == "" || strings.Contains(","+c.only+",", ","+g+",") }
	if want("tokens") {
		rs, err := tokenBenchmarks(c)
		if err != nil {
			log.Fatal(err)
		}
		rep.Results = append(rep.Results, rs...)
	}
	if want("registry") {
		rs, err := registryBenchmarks(c)
		if err != nil {
			log.Fatal(err)
		}
		rep.Results = append(rep.Results, rs...)
	}
	if want("startup") && c.azsim != "" {
		rs, err := startupBenchmarks(c)
		if err != nil {
			log.Fatal(err)
		}
		rep.Results = append(rep.Results, rs...)
	}
	printTable(os.Stdout, rep)
	if c.out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(c.out, append(b, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func printTable(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "\nazsim benchmarks — %s, GOMAXPROCS=%d (%d CPUs: %s), %s per measurement\n\n",
		rep.GoVersion, rep.GOMAXPROCS, rep.NumCPU, rep.CPU, rep.Duration)
	fmt.Fprintln(w, "| measurement | value | p50 | p99 | allocs/op | ratio (target) | |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | --- | --- |")
	for _, r := range rep.Results {
		p50, p99, allocs, ratio, verdict := "", "", "", "", ""
		if r.P50ms > 0 {
			p50 = fmt.Sprintf("%.2f ms", r.P50ms)
		}
		if r.P99ms > 0 {
			p99 = fmt.Sprintf("%.2f ms", r.P99ms)
		}
		if r.Allocs > 0 {
			allocs = fmt.Sprintf("%.0f", r.Allocs)
		}
		if r.Target != "" {
			ratio = fmt.Sprintf("%.2f (%s)", r.Ratio, r.Target)
			if r.Ratio == 0 {
				ratio = "(" + r.Target + ")"
			}
		}
		if r.Pass != nil {
			verdict = "✅"
			if !*r.Pass {
				verdict = "❌"
			}
		}
		name := r.Name
		if r.Note != "" {
			name += " — " + r.Note
		}
		fmt.Fprintf(w, "| %s | %s %s | %s | %s | %s | %s | %s |\n", name, fmtValue(r.Value), r.Unit, p50, p99, allocs, ratio, verdict)
	}
	fmt.Fprintln(w)
}

func fmtValue(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func pass(ok bool) *bool { return &ok }
