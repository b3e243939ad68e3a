// Package docker runs the docker CLI for the kind integration: the
// engine's state, commands in node containers, and polling.
package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Answers reports whether a Docker engine answers. kind's provider
// detection only runs `docker -v`, which succeeds without a daemon (kind-offline.md 2).
func Answers(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "docker", "info", "-f", "{{.ServerVersion}}").CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker info: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// HostCgroupV1 reports whether the Docker engine runs on cgroup v1.
func HostCgroupV1(ctx context.Context) (bool, error) {
	out, err := exec.CommandContext(ctx, "docker", "info", "-f", "{{.CgroupVersion}}").Output()
	if err != nil {
		return false, fmt.Errorf("docker info: %w", err)
	}
	return strings.TrimSpace(string(out)) == "1", nil
}

// NetworkGateway returns the IPv4 gateway of the docker network kind uses.
func NetworkGateway(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "docker", "network", "inspect", "kind", "-f",
		"{{range .IPAM.Config}}{{.Gateway}} {{end}}").Output()
	if err != nil {
		return "", fmt.Errorf("docker network inspect kind: %w", err)
	}
	for _, gw := range strings.Fields(string(out)) {
		if !strings.Contains(gw, ":") {
			return gw, nil
		}
	}
	return "", errors.New("kind network has no IPv4 gateway")
}

// Poll calls f every second until it reports done or timeout passes.
func Poll(ctx context.Context, timeout time.Duration, f func() (bool, string)) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		done, why := f()
		if done {
			return nil
		}
		last = why
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s: %s", timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Exec runs a command in a node container.
func Exec(ctx context.Context, node string, stdin io.Reader, args ...string) ([]byte, error) {
	a := []string{"exec"}
	if stdin != nil {
		a = append(a, "-i")
	}
	cmd := exec.CommandContext(ctx, "docker", append(append(a, node), args...)...)
	cmd.Stdin = stdin
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out.Bytes(), nil
}

// Run runs docker with args and returns its trimmed standard output.
func Run(ctx context.Context, args ...string) (string, error) {
	return RunEnv(ctx, nil, args...)
}

// RunEnv runs docker with env added to its environment: secrets go
// there (`-e NAME` takes the value from it), never into the arguments,
// which `ps` shows and errors quote.
func RunEnv(ctx context.Context, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(out.String()), nil
}
