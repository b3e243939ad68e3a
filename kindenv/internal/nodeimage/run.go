package nodeimage

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func (b *builder) dockerQuiet(args ...string) error {
	return exec.CommandContext(b.ctx, b.cfg.Docker, args...).Run()
}

// run runs a command with its output in CacheDir/logs/<name>.log, printing a
// heartbeat every 30 s and the log's tail on failure.
func (b *builder) run(logName, dir string, env []string, name string, args ...string) error {
	logPath := filepath.Join(b.cfg.CacheDir, "logs", logName+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer lf.Close()
	cmd := exec.CommandContext(b.ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-waitErr:
			if err != nil {
				return fmt.Errorf("%s %s failed: %w\n--- last lines of %s ---\n%s", name, strings.Join(args, " "), err, logPath, tail(logPath, 40))
			}
			return nil
		case <-tick.C:
			b.printf("  … %s running for %s (log %s%s)", logName, since(started), logPath, lastLine(logPath))
		}
	}
}

func since(t time.Time) string { return time.Since(t).Round(time.Second).String() }

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var last string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	if last == "" {
		return ""
	}
	if len(last) > 100 {
		last = last[:100] + "…"
	}
	return "; last: " + last
}

// FindRepoRoot walks up from dir to the directory holding azsim's go.mod.
func FindRepoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			bytes.HasPrefix(bytes.TrimSpace(data), []byte("module github.com/azsim/azsim\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("azsim module root not found (run from the repository)")
		}
	}
}
