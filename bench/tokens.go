package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

// startSim runs a simulator on ephemeral loopback ports with a fresh state
// directory; stop closes it and removes the directory.
func startSim(w *world.World, opts ...sim.Option) (*sim.Sim, func(), error) {
	dir, err := os.MkdirTemp("", "azsim-bench-")
	if err != nil {
		return nil, nil, err
	}
	base := []sim.Option{sim.WithStateDir(dir), sim.WithHTTPSAddr("127.0.0.1:0"), sim.WithIMDSAddr("127.0.0.1:0"),
		sim.WithAdminAddr("127.0.0.1:0")}
	if w != nil {
		base = append(base, sim.WithWorld(w))
	}
	s, err := sim.New(append(base, opts...)...)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return s, func() { cancel(); s.Close(); os.RemoveAll(dir) }, nil
}

// signingKeys reads the private keys of ring from the simulator's state
// directory, the active one last.
func signingKeys(s *sim.Sim, ring string) ([]*rsa.PrivateKey, error) {
	dir, err := state.Open(s.StateDir())
	if err != nil {
		return nil, err
	}
	return dir.Ring(ring)
}

// clientTransport is an HTTP/1.1 keep-alive transport (the shape of most
// credential clients) that sends every Azure host name to the simulator's
// HTTPS listener and 169.254.169.254 to the first node pool's IMDS.
func clientTransport(s *sim.Sim, conns int) *http.Transport {
	var d net.Dialer
	imds := s.DefaultIMDSAddr()
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if strings.HasPrefix(addr, sim.IMDSHost+":") {
				return d.DialContext(ctx, network, imds)
			}
			return d.DialContext(ctx, network, s.HTTPSAddr())
		},
		TLSClientConfig:     &tls.Config{RootCAs: s.CAPool(), MinVersion: tls.VersionTLS12},
		MaxIdleConns:        4 * conns,
		MaxIdleConnsPerHost: 2 * conns,
		IdleConnTimeout:     time.Minute,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1 keep-alive
	}
}

// load runs op from conc workers for d and returns what it measured.
type loadResult struct {
	ops       int64
	errs      int64
	firstErr  string
	elapsed   time.Duration
	latencies []time.Duration
	mallocs   uint64
	cpu       time.Duration // process CPU time (user + system)
}

// merge adds the measurements of o to l.
func (l loadResult) merge(o loadResult) loadResult {
	l.ops += o.ops
	l.errs += o.errs
	if l.firstErr == "" {
		l.firstErr = o.firstErr
	}
	l.elapsed += o.elapsed
	l.latencies = append(l.latencies, o.latencies...)
	slices.Sort(l.latencies)
	l.mallocs += o.mallocs
	l.cpu += o.cpu
	return l
}

// perCPUSecond is the rate per second of process CPU time.
func (l loadResult) perCPUSecond() float64 { return float64(l.ops) / l.cpu.Seconds() }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (l loadResult) rate() float64 { return float64(l.ops) / l.elapsed.Seconds() }
func (l loadResult) pct(p float64) float64 {
	if len(l.latencies) == 0 {
		return 0
	}
	i := int(float64(len(l.latencies)-1) * p)
	return float64(l.latencies[i]) / float64(time.Millisecond)
}
func (l loadResult) allocsPerOp() float64 {
	if l.ops == 0 {
		return 0
	}
	return float64(l.mallocs) / float64(l.ops)
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func load(conc int, d time.Duration, op func(w int) error) loadResult {
	var (
		stop     atomic.Bool
		ops      atomic.Int64
		errs     atomic.Int64
		firstErr atomic.Value
		wg       sync.WaitGroup
		lats     = make([][]time.Duration, conc)
	)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			own := make([]time.Duration, 0, 1<<14)
			for !stop.Load() {
				t := time.Now()
				if err := op(w); err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				own = append(own, time.Since(t))
				ops.Add(1)
			}
			lats[w] = own
		}(w)
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	res := loadResult{ops: ops.Load(), errs: errs.Load(), elapsed: elapsed, mallocs: after.Mallocs - before.Mallocs, cpu: cpu}
	if v, ok := firstErr.Load().(string); ok {
		res.firstErr = v
	}
	for _, l := range lats {
		res.latencies = append(res.latencies, l...)
	}
	slices.Sort(res.latencies)
	return res
}

// rawSignatures measures RS256 signatures/s with key on every core: the
// physical limit of every token the simulator mints.
func rawSignatures(key *rsa.PrivateKey, d time.Duration) loadResult {
	digest := sha256.Sum256([]byte("eyJhbGciOiJSUzI1NiIsImtpZCI6IngiLCJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0"))
	return load(runtime.GOMAXPROCS(0), d, func(int) error {
		_, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
		return err
	})
}

// rounds is how many alternating slices of raw signing and workload each
// measurement is made of, so that both see the same machine (other
// processes on a shared machine come and go).
const rounds = 10

// paired measures op and raw signing in alternating slices of d/rounds.
func paired(key *rsa.PrivateKey, conc int, d time.Duration, op func(int) error) (work, raw loadResult) {
	for i := 0; i < rounds; i++ {
		raw = raw.merge(rawSignatures(key, d/rounds))
		work = work.merge(load(conc, d/rounds, op))
	}
	return work, raw
}

// tokenBench holds the pre-computed requests of the token benchmarks.
type tokenBench struct {
	client     *http.Client
	entraURL   string
	entraBody  string
	exchURL    string
	tokenURL   string
	loginSrv   string
	tenant     string
	imdsURL    string
	kubeletCID string
}

func postForm(c *http.Client, u, body string, field string) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(c, req, field)
}

func do(c *http.Client, req *http.Request, field string) (string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	v, err := jsonField(b, field)
	if err != nil || v == "" {
		return "", fmt.Errorf("%s %s: no %s in %s", req.Method, req.URL.Path, field, b)
	}
	return v, nil
}

// jsonField reads one string field of a token response.
func jsonField(b []byte, field string) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	var s string
	err := json.Unmarshal(m[field], &s)
	return s, err
}

func (t *tokenBench) entra() (string, error) {
	return postForm(t.client, t.entraURL, t.entraBody, "access_token")
}

func (t *tokenBench) acr(entraToken string) error {
	refresh, err := postForm(t.client, t.exchURL, url.Values{"grant_type": {"access_token"}, "service": {t.loginSrv},
		"tenant": {t.tenant}, "access_token": {entraToken}}.Encode(), "refresh_token")
	if err != nil {
		return err
	}
	_, err = postForm(t.client, t.tokenURL, url.Values{"grant_type": {"refresh_token"}, "service": {t.loginSrv},
		"scope": {"repository:hello:pull"}, "refresh_token": {refresh}}.Encode(), "access_token")
	return err
}

func (t *tokenBench) imds() (string, error) {
	req, _ := http.NewRequest(http.MethodGet, t.imdsURL, nil)
	req.Header.Set("Metadata", "true")
	return do(t.client, req, "access_token")
}

func tokenBenchmarks(c config) ([]Result, error) {
	s, stop, err := startSim(nil)
	if err != nil {
		return nil, err
	}
	defer stop()
	ix := s.World().Snapshot()
	app, ok := ix.PrincipalByName("app-puller")
	kubelet, ok2 := ix.PrincipalByName("aks1-agentpool")
	reg, ok3 := ix.Registry("azsimacr")
	if !ok || !ok2 || !ok3 {
		return nil, fmt.Errorf("default world lacks app-puller, aks1-agentpool or azsimacr")
	}
	sa, _, err := s.MintServiceAccountToken(api.ServiceAccountTokenRequest{Cluster: "aks1", Namespace: "default",
		ServiceAccount: "app-puller", Expiration: "24h"})
	if err != nil {
		return nil, err
	}
	conc := 4 * runtime.GOMAXPROCS(0)
	port := s.HTTPSAddr()[strings.LastIndex(s.HTTPSAddr(), ":"):]
	tb := &tokenBench{
		client:   &http.Client{Transport: clientTransport(s, conc), Timeout: 30 * time.Second},
		entraURL: "https://" + world.EntraHost + port + "/" + ix.Tenants[0].ID + "/oauth2/v2.0/token",
		entraBody: url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "client_info": {"1"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {sa},
			"scope": {"https://containerregistry.azure.net/.default openid offline_access profile"}}.Encode(),
		exchURL:    "https://" + reg.LoginServer + port + "/oauth2/exchange",
		tokenURL:   "https://" + reg.LoginServer + port + "/oauth2/token",
		loginSrv:   reg.LoginServer,
		tenant:     ix.Tenants[0].ID,
		imdsURL:    "http://" + sim.IMDSHost + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" + url.QueryEscape("https://containerregistry.azure.net/") + "&client_id=" + kubelet.ClientID,
		kubeletCID: kubelet.ClientID,
	}
	grant := func(int) error { _, err := tb.entra(); return err }
	fed := func(int) error {
		tok, err := tb.entra()
		if err == nil {
			err = tb.acr(tok)
		}
		return err
	}
	vmss := func(int) error {
		tok, err := tb.imds()
		if err == nil {
			err = tb.acr(tok)
		}
		return err
	}
	// Warm up: connections, the issuer metadata cache, code paths.
	for _, op := range []func(int) error{grant, fed, vmss} {
		if r := load(conc, 300*time.Millisecond, op); r.errs > 0 {
			return nil, fmt.Errorf("warm-up: %s", r.firstErr)
		}
	}
	entraKeys, err := signingKeys(s, "entra")
	if err != nil {
		return nil, err
	}
	key := entraKeys[len(entraKeys)-1]
	if c.cpuProfile != "" {
		stopProfile, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer stopProfile()
	}
	var raw loadResult
	g, rg := paired(key, conc, c.duration, grant)
	f, rf := paired(key, conc, c.duration, fed)
	v, rv := paired(key, conc, c.duration, vmss)
	raw = rg.merge(rf).merge(rv)
	for name, r := range map[string]loadResult{"grant": g, "federated": f, "vmss": v, "raw": raw} {
		if r.errs > 0 {
			return nil, fmt.Errorf("%s: %d errors, first: %s", name, r.errs, r.firstErr)
		}
	}
	const sigsPerFlow = 3 // Entra token, ACR refresh token, ACR access token
	row := func(name string, r, raw loadResult, sigs int, target float64) Result {
		eff := float64(sigs) * r.rate() / raw.rate()
		cpuEff := float64(sigs) * r.perCPUSecond() / raw.perCPUSecond()
		return Result{Name: name, Value: r.rate(), Unit: "/s", P50ms: r.pct(0.5), P99ms: r.pct(0.99),
			Allocs: r.allocsPerOp(), Ratio: eff, Target: fmt.Sprintf("efficiency ≥ %.1f", target), Pass: pass(eff >= target),
			Note: fmt.Sprintf("%d RS256/op, concurrency %d; raw in the same slices %.0f sig/s; per CPU-second efficiency %.2f",
				sigs, conc, raw.rate(), cpuEff)}
	}
	return []Result{
		{Name: "raw RS256 signatures (2048-bit, all cores)", Value: raw.rate(), Unit: "sig/s",
			Note: fmt.Sprintf("%.0f per CPU-second; measured in slices alternating with each workload below", raw.perCPUSecond())},
		row("Entra federated grant (SA token → client_assertion → access token)", g, rg, 1, 0.8),
		row("federated flow (SA token → Entra → ACR exchange → ACR access token)", f, rf, sigsPerFlow, 0.7),
		row("VMSS flow (IMDS → Entra token → ACR exchange → ACR access token)", v, rv, sigsPerFlow, 0.7),
	}, nil
}
