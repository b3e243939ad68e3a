package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// startUp runs `azsim up` on ephemeral ports until the test ends.
func startUp(t *testing.T, extra ...string) (string, api.Endpoints) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	done := make(chan int, 1)
	args := append([]string{"up", "--state-dir", dir, "--https-addr", "127.0.0.1:0", "--imds-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, extra...)
	go func() { done <- MainContext(ctx, args, strings.NewReader(""), &out, &errb) }()
	t.Cleanup(func() {
		cancel()
		assert.Equal(t, ExitOK, <-done, errb.String())
		_, err := os.Stat(filepath.Join(dir, "endpoints.json"))
		assert.True(t, os.IsNotExist(err), "endpoints.json is removed on shutdown")
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		ep, err := client.ReadEndpoints(dir)
		if err == nil {
			herr := client.New(ep.Admin).Healthz(ctx)
			var refused *client.Error
			require.False(t, errors.As(herr, &refused), "%v", herr)
			if herr == nil {
				// endpoints.json is written just before the banner is printed.
				if strings.Contains(out.String(), "azsim is up (world: ") {
					return dir, ep
				}
			}
		}
		select {
		case code := <-done:
			t.Fatalf("azsim up exited with %d: %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "azsim up did not become healthy: %s", errb.String())
	}
}

func TestUpServesDiscoveryToCurl(t *testing.T) {
	t.Parallel()
	dir, ep := startUp(t)
	_, port := splitPort(ep.HTTPS)
	url := "https://login.microsoftonline.com" + port + "/" + ep.TenantID + "/v2.0/.well-known/openid-configuration"

	// Go client trusting only ca.crt, reaching the real host name.
	pool := mustPool(t, filepath.Join(dir, "ca.crt"))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: dialTo(ep.HTTPS)}}
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var doc map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	assert.Equal(t, "https://login.microsoftonline.com"+port+"/"+ep.TenantID+"/v2.0", doc["issuer"])

	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed (apt-get install curl): the curl half of this test needs it")
	}
	host, p := splitPort(ep.HTTPS)
	out, err := exec.Command(curl, "-sS", "--fail", "--cacert", filepath.Join(dir, "ca.crt"),
		"--resolve", "login.microsoftonline.com:"+p[1:]+":"+host, url).CombinedOutput()
	require.NoError(t, err, string(out))
	require.NoError(t, json.Unmarshal(out, &doc))
	assert.Equal(t, "https://login.microsoftonline.com"+port+"/"+ep.TenantID+"/oauth2/v2.0/token", doc["token_endpoint"])
}

func TestEnvAndTokenAgainstRunningSimulator(t *testing.T) {
	t.Parallel()
	dir, ep := startUp(t)
	code, out, errs := run(t, "token", "sa", "--state-dir", dir, "--namespace", "default", "--service-account", "app-puller")
	require.Equal(t, ExitOK, code, errs)
	tok := strings.TrimSpace(out)
	assert.Equal(t, 2, strings.Count(tok, "."))

	code, out, errs = run(t, "env", "--state-dir", dir, "--service-account", "default/app-puller")
	require.Equal(t, ExitOK, code, errs)
	assert.Contains(t, out, "export AZURE_TENANT_ID="+ep.TenantID)
	assert.Contains(t, out, "export AZURE_CLIENT_ID=")
	assert.Contains(t, out, "export AZURE_FEDERATED_TOKEN_FILE='"+dir)
	assert.Contains(t, out, "# 127.0.0.1 azsimacr.azurecr.io")
	file := filepath.Join(dir, "tokens", "default", "app-puller", "azure-identity-token")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(b), "."))

	code, out, errs = run(t, "env", "--state-dir", dir, "--node-pool", "nodepool1")
	require.Equal(t, ExitOK, code, errs)
	assert.Contains(t, out, "export AZSIM_IMDS_ENDPOINT=http://"+ep.IMDS["aks1/nodepool1"])

	code, _, errs = run(t, "token", "sa", "--state-dir", dir, "--namespace", "Bad_NS", "--service-account", "x")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errs, `namespace "Bad_NS" is not a valid Kubernetes namespace name`)
	code, _, errs = run(t, "token", "sa", "--state-dir", dir, "--namespace", "default", "--service-account", "x", "--expiration", "48h")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errs, "expiration 48h0m0s must be between 10m0s and 24h0m0s")
}

func TestBadInputExitsTwo(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "world.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("apiVersion: azsim.dev/v1alpha1\nkind: World\ntenants: [{name: t}]\nsubscriptions: [{name: s}]\nidentities:\n- name: x\n  resourceGroup: nope\n"), 0o644))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"up", "--config", bad, "--state-dir", t.TempDir()}, `identities[0].resourceGroup: unknown resource group "nope"`},
		{[]string{"up", "--config", filepath.Join(t.TempDir(), "missing.yaml")}, "loading world"},
		{[]string{"up", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"up", "--log-level", "loud"}, `--log-level "loud"`},
		{[]string{"up", "--state-dir", t.TempDir(), "--admin-addr", "0.0.0.0:0", "--admin-token", ""}, `admin address "0.0.0.0:0" is not loopback: an admin token is required`},
		{[]string{"up", "--state-dir", t.TempDir(), "--https-addr", "8443"}, `https address "8443": want host:port`},
		{[]string{"env", "--node-pool", "a", "--service-account", "b/c"}, "mutually exclusive"},
		{[]string{"token", "sa", "--namespace", "default"}, "--namespace and --service-account are required"},
		{[]string{"no-such-command"}, "unknown command"},
	} {
		code, _, errs := run(t, tc.args...)
		assert.Equal(t, ExitUsage, code, "%v: %s", tc.args, errs)
		assert.Contains(t, errs, tc.want, tc.args)
	}
	code, _, errs := run(t, "env", "--state-dir", t.TempDir())
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errs, "no running simulator found")
	// A state directory that cannot be used is a failure, not bad usage.
	notDir := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o600))
	code, _, errs = run(t, "up", "--state-dir", notDir, "--https-addr", "127.0.0.1:0", "--imds-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	assert.Equal(t, ExitFailed, code, errs)
}
