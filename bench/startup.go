package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/azsim/azsim/client"
)

// freePort returns a loopback address nothing listens on (for the admin
// API, whose address the benchmark must know before the process starts).
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startOnce runs `azsim up` with stateDir and returns the time to the first
// 200 on /healthz; with rss it also samples the idle resident set size
// (after one second of idling) in MiB.
func startOnce(bin, stateDir string, rss bool) (time.Duration, float64, error) {
	admin, err := freePort()
	if err != nil {
		return 0, 0, err
	}
	cmd := exec.Command(bin, "up", "--state-dir", stateDir, "--https-addr", "127.0.0.1:0",
		"--imds-addr", "127.0.0.1:0", "--admin-addr", admin, "--log-level", "error")
	cmd.Stdout, cmd.Stderr = nil, nil
	ac := client.New(admin, client.WithTimeout(time.Second),
		client.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}))
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	var ready time.Duration
	for {
		if ac.Healthz(context.Background()) == nil {
			ready = time.Since(start)
			break
		}
		if time.Since(start) > 30*time.Second {
			return 0, 0, fmt.Errorf("azsim up did not answer /healthz within 30 s")
		}
		time.Sleep(200 * time.Microsecond)
	}
	if !rss {
		return ready, 0, nil
	}
	time.Sleep(time.Second)
	mib, err := rssMiB(cmd.Process.Pid)
	return ready, mib, err
}

func rssMiB(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

func startupBenchmarks(c config) ([]Result, error) {
	if _, err := os.Stat(c.azsim); err != nil {
		return nil, fmt.Errorf("azsim binary: %w (run make build, or pass -azsim)", err)
	}
	var cold, warm []time.Duration
	var rss []float64
	for i := 0; i < 3; i++ {
		dir, err := os.MkdirTemp("", "azsim-bench-start-")
		if err != nil {
			return nil, err
		}
		d, _, err := startOnce(c.azsim, dir, false)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		cold = append(cold, d)
		if i == 0 {
			for j := 0; j < c.startRuns; j++ {
				d, mib, err := startOnce(c.azsim, dir, j == 0)
				if err != nil {
					os.RemoveAll(dir)
					return nil, err
				}
				warm = append(warm, d)
				if mib > 0 {
					rss = append(rss, mib)
				}
			}
		}
		os.RemoveAll(dir)
	}
	slices.Sort(cold)
	slices.Sort(warm)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	w := ms(warm[len(warm)/2])
	return []Result{
		{Name: "azsim up → 200 /healthz, warm state dir", Value: w, Unit: "ms", Ratio: w, Target: "≤ 50 ms",
			Pass: pass(w <= 50), Note: fmt.Sprintf("median of %d, min %.1f ms", len(warm), ms(warm[0]))},
		{Name: "azsim up → 200 /healthz, cold state dir", Value: ms(cold[len(cold)/2]), Unit: "ms",
			Note: fmt.Sprintf("median of %d: CA + 4 RSA-2048 keys generated", len(cold))},
		{Name: "azsim up idle RSS", Value: rss[0], Unit: "MiB", Ratio: rss[0], Target: "≤ 30 MiB", Pass: pass(rss[0] <= 30)},
	}, nil
}
