package cli

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
)

// TestTraceFollow streams the decisions, the recent ones and those made
// after it started, until its context ends (exit 0).
func TestTraceFollow(t *testing.T) {
	t.Parallel()
	dir, _ := startUp(t)
	pull := func() {
		t.Helper()
		code, _, errs := run(t, "pull", "--state-dir", dir, "--node-pool", "nodepool1", "azsimacr.azurecr.io/hello:v1")
		require.Equal(t, ExitOK, code, errs)
	}
	pull()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- MainContext(ctx, []string{"trace", "--state-dir", dir, "--follow", "--json"}, strings.NewReader(""), &out, &errb)
	}()
	lines := func() int { return strings.Count(out.String(), "\n") }
	require.Eventually(t, func() bool { return lines() > 0 }, 30*time.Second, 20*time.Millisecond, "the recent decisions")
	before := lines()
	pull()
	require.Eventually(t, func() bool { return lines() > before }, 30*time.Second, 20*time.Millisecond, "a decision made after the stream started")
	cancel()
	require.Equal(t, ExitOK, <-done, errb.String())
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var d api.Decision
		require.NoError(t, json.Unmarshal([]byte(l), &d), l)
		assert.NotZero(t, d.Seq)
	}
}

// TestTraceUnreachable: a simulator that does not answer fails (exit 1).
func TestTraceUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	dir := t.TempDir()
	b, err := json.Marshal(api.Endpoints{Admin: addr})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, api.EndpointsFile), b, 0o644))
	for _, args := range [][]string{{"trace"}, {"trace", "--follow"}, {"token", "sa", "--namespace", "default", "--service-account", "x"}} {
		code, _, errs := run(t, append(args, "--state-dir", dir)...)
		assert.Equal(t, ExitFailed, code, args)
		assert.Contains(t, errs, addr, args)
	}
}
