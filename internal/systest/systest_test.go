// Package systest holds system tests that run the real `azsim up` binary:
// restart after kill -9 (always) and the load test (AZSIM_LOAD=1, `make
// load`). They talk to the simulator over loopback only.
package systest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// azsimBinary builds cmd/azsim once per test binary.
func azsimBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "azsim-systest-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "azsim")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/azsim/azsim/cmd/azsim").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// proc is a running `azsim up`.
type proc struct {
	cmd   *exec.Cmd
	ep    api.Endpoints
	admin *client.Client
	done  chan struct{}
	state string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// startUp runs `azsim up` on ephemeral loopback ports and waits until it
// answers /healthz and has written endpoints.json.
func startUp(t *testing.T, stateDir string, extra ...string) *proc {
	t.Helper()
	admin := freeAddr(t)
	args := append([]string{"up", "--state-dir", stateDir, "--https-addr", "127.0.0.1:0", "--imds-addr", "127.0.0.1:0",
		"--admin-addr", admin, "--log-level", "error"}, extra...)
	cmd := exec.Command(azsimBinary(t), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, done: make(chan struct{}), state: stateDir, admin: client.New(admin)}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("azsim up exited: %s", stderr.String())
		default:
		}
		if err := p.admin.Healthz(context.Background()); err == nil {
			if ep, err := client.ReadEndpoints(stateDir); err == nil && ep.PID == cmd.Process.Pid {
				p.ep = ep
				return p
			}
		}
		require.True(t, time.Now().Before(deadline), "azsim up not ready: %s", stderr.String())
		time.Sleep(5 * time.Millisecond)
	}
}

// kill sends SIGKILL (kill -9) and waits for the process to end.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// client is an HTTPS client of the running simulator: Azure host names go
// to its HTTPS listener, 169.254.169.254 to the first node pool's IMDS.
func (p *proc) client(t testing.TB) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(p.ep.CAFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	imds := ""
	for _, a := range p.ep.IMDS {
		imds = a
	}
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasPrefix(addr, sim.IMDSHost+":") {
				return d.DialContext(ctx, network, imds)
			}
			return d.DialContext(ctx, network, p.ep.HTTPS)
		},
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 4,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// world is the simulator's world as the admin API answers it.
func (p *proc) world(t *testing.T) any {
	t.Helper()
	var v any
	require.NoError(t, p.admin.World(context.Background(), &v))
	return v
}

// statusError is a refused request: its status and body.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.body) }

func field(c *http.Client, req *http.Request, name string) (string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", &statusError{resp.StatusCode, string(b)}
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	v, _ := m[name].(string)
	if v == "" {
		return "", fmt.Errorf("no %s in %s", name, b)
	}
	return v, nil
}

func postForm(c *http.Client, u string, form url.Values, name string) (string, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return field(c, req, name)
}

// ids are the IDs of the default world's principals (derived, so the same
// in the test and in the process).
type ids struct {
	tenant, pullerClientID, kubeletClientID, loginServer string
}

func worldIDs(t testing.TB, w *world.World) ids {
	ix, err := world.Compile(w, time.Now())
	require.NoError(t, err)
	p, _ := ix.PrincipalByName("app-puller")
	k, _ := ix.PrincipalByName("aks1-agentpool")
	r, _ := ix.Registry("azsimacr")
	return ids{tenant: ix.Tenants[0].ID, pullerClientID: p.ClientID, kubeletClientID: k.ClientID, loginServer: r.LoginServer}
}

// saToken mints a service-account token through the admin API.
func saToken(p *proc, sa string, aud ...string) (string, error) {
	req := api.ServiceAccountTokenRequest{Namespace: "default", ServiceAccount: sa, Audiences: aud, Expiration: "24h"}
	tok, err := p.admin.ServiceAccountToken(context.Background(), req)
	if err != nil {
		return "", err
	}
	if tok.Token == "" {
		return "", fmt.Errorf("no token in the answer for %s", sa)
	}
	return tok.Token, nil
}

func entraFederated(c *http.Client, id ids, sa string) (string, error) {
	return postForm(c, "https://login.microsoftonline.com/"+id.tenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {id.pullerClientID},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {sa},
		"scope": {"https://containerregistry.azure.net/.default"}}, "access_token")
}

func imdsToken(c *http.Client, id ids) (string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource="+
		url.QueryEscape("https://containerregistry.azure.net/")+"&client_id="+id.kubeletClientID, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Metadata", "true")
	return field(c, req, "access_token")
}

func exchange(c *http.Client, id ids, aad string) (string, error) {
	return postForm(c, "https://"+id.loginServer+"/oauth2/exchange", url.Values{"grant_type": {"access_token"},
		"service": {id.loginServer}, "tenant": {id.tenant}, "access_token": {aad}}, "refresh_token")
}

func accessToken(c *http.Client, id ids, refresh, repo string) (string, error) {
	return postForm(c, "https://"+id.loginServer+"/oauth2/token", url.Values{"grant_type": {"refresh_token"},
		"service": {id.loginServer}, "scope": {"repository:" + repo + ":pull"}, "refresh_token": {refresh}}, "access_token")
}

// pull fetches an image and reads every layer (digests are verified as
// read) with go-containerregistry and a registry token.
func pull(c *http.Client, ref, token string) (v1.Hash, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return v1.Hash{}, err
	}
	img, err := remote.Image(r, remote.WithTransport(c.Transport), remote.WithAuth(authn.FromConfig(authn.AuthConfig{RegistryToken: token})))
	if err != nil {
		return v1.Hash{}, err
	}
	ls, err := img.Layers()
	if err != nil {
		return v1.Hash{}, err
	}
	for _, l := range ls {
		rc, err := l.Compressed()
		if err != nil {
			return v1.Hash{}, err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return v1.Hash{}, err
		}
	}
	return img.Digest()
}

// federatedPull is the whole workload-identity flow ending in a pull.
func federatedPull(c *http.Client, id ids, sa, ref, repo string) error {
	aad, err := entraFederated(c, id, sa)
	if err != nil {
		return fmt.Errorf("entra: %w", err)
	}
	return acrPull(c, id, aad, ref, repo)
}

// vmssPull is the kubelet flow ending in a pull.
func vmssPull(c *http.Client, id ids, ref, repo string) error {
	aad, err := imdsToken(c, id)
	if err != nil {
		return fmt.Errorf("imds: %w", err)
	}
	return acrPull(c, id, aad, ref, repo)
}

func acrPull(c *http.Client, id ids, aad, ref, repo string) error {
	refresh, err := exchange(c, id, aad)
	if err != nil {
		return fmt.Errorf("exchange: %w", err)
	}
	access, err := accessToken(c, id, refresh, repo)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if _, err := pull(c, ref, access); err != nil {
		return fmt.Errorf("pull: %w", err)
	}
	return nil
}

func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return 0
}
