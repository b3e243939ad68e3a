package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

const benchPassword = "bench-admin-password"

// benchWorld is the default world with the registry's admin user enabled,
// so the benchmark can push.
func benchWorld() *world.World {
	w := world.Default()
	w.Registries[0].AdminUser = &world.AdminUser{Enabled: true, Password: benchPassword}
	return w
}

// bigImage is an image of layers random layers totalling mib MiB.
func bigImage(mib, layers int) (v1.Image, error) {
	img := empty.Image
	per := mib << 20 / layers
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	for i := 0; i < layers; i++ {
		b := make([]byte, per)
		for j := 0; j+8 <= len(b); j += 8 {
			v := rng.Uint64()
			b[j], b[j+1], b[j+2], b[j+3], b[j+4], b[j+5], b[j+6], b[j+7] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56)
		}
		var err error
		if img, err = mutate.AppendLayers(img, static.NewLayer(b, types.DockerLayer)); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// dialTo is an HTTPS transport that sends every host to addr (HTTP/1.1
// keep-alive, one connection per concurrent layer).
func dialTo(addr string, ca *tls.Config) *http.Transport {
	var d net.Dialer
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     ca,
		MaxIdleConnsPerHost: 16,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}

// pull fetches the manifest and every layer (concurrently, as crane and
// containerd do) and returns the bytes read and the time taken.
func pull(ref string, tr http.RoundTripper, auth authn.Authenticator) (int64, time.Duration, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	img, err := remote.Image(r, remote.WithTransport(tr), remote.WithAuth(auth))
	if err != nil {
		return 0, 0, err
	}
	ls, err := img.Layers()
	if err != nil {
		return 0, 0, err
	}
	var (
		mu    sync.Mutex
		total int64
		first error
		wg    sync.WaitGroup
	)
	for _, l := range ls {
		wg.Add(1)
		go func(l v1.Layer) {
			defer wg.Done()
			rc, err := l.Compressed() // verifies the digest while reading
			var n int64
			if err == nil {
				n, err = io.Copy(io.Discard, rc)
				rc.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && first == nil {
				first = err
			}
		}(l)
	}
	wg.Wait()
	return total, time.Since(start), first
}

type target struct {
	name string
	ref  string
	tr   http.RoundTripper
	auth authn.Authenticator
	best float64 // MB/s
}

func (t *target) measure(n int) error {
	for i := 0; i < n; i++ {
		bytes, d, err := pull(t.ref, t.tr, t.auth)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		if mbs := float64(bytes) / 1e6 / d.Seconds(); mbs > t.best {
			t.best = mbs
		}
	}
	return nil
}

func registryBenchmarks(c config) ([]Result, error) {
	img, err := bigImage(c.imageMiB, c.layers)
	if err != nil {
		return nil, err
	}
	admin := &authn.Basic{Username: "azsimacr", Password: benchPassword}

	// fakeacr, blobs in memory (the default).
	s, stop, err := startSim(benchWorld())
	if err != nil {
		return nil, err
	}
	defer stop()
	tlsCfg := &tls.Config{RootCAs: s.CAPool(), MinVersion: tls.VersionTLS12}
	acrTr := dialTo(s.HTTPSAddr(), tlsCfg)
	acr := &target{name: "fakeacr (memory)", ref: "azsimacr.azurecr.io/bench/big:v1", tr: acrTr, auth: admin}
	if err := push(acr.ref, img, acrTr, admin); err != nil {
		return nil, fmt.Errorf("push to fakeacr: %w", err)
	}

	// The bare go-containerregistry handler in this process, behind the
	// same TLS and server settings.
	bareAddr, closeBare, err := serveBare(s)
	if err != nil {
		return nil, err
	}
	defer closeBare()
	bareTr := dialTo(bareAddr, tlsCfg)
	bare := &target{name: "bare pkg/registry (memory)", ref: "bare.azurecr.io/bench/big:v1", tr: bareTr, auth: authn.Anonymous}
	if err := push(bare.ref, img, bareTr, authn.Anonymous); err != nil {
		return nil, fmt.Errorf("push to bare registry: %w", err)
	}

	// fakeacr with the disk-backed store; the push is timed too.
	diskDir, err := os.MkdirTemp("", "azsim-bench-registry-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(diskDir)
	sd, stopDisk, err := startSim(benchWorld(), sim.WithRegistryStorage(diskDir))
	if err != nil {
		return nil, err
	}
	defer stopDisk()
	diskTr := dialTo(sd.HTTPSAddr(), &tls.Config{RootCAs: sd.CAPool(), MinVersion: tls.VersionTLS12})
	disk := &target{name: "fakeacr (disk)", ref: "azsimacr.azurecr.io/bench/big:v1", tr: diskTr, auth: admin}
	t0 := time.Now()
	if err := push(disk.ref, img, diskTr, admin); err != nil {
		return nil, fmt.Errorf("push to disk-backed fakeacr: %w", err)
	}
	pushMBs := float64(int64(c.imageMiB)<<20) / 1e6 / time.Since(t0).Seconds()

	// Warm up every path once, then interleave the measured pulls.
	for _, t := range []*target{bare, acr, disk} {
		if err := t.measure(1); err != nil {
			return nil, err
		}
		t.best = 0
	}
	for i := 0; i < c.pulls; i++ {
		for _, t := range []*target{bare, acr, disk} {
			if err := t.measure(1); err != nil {
				return nil, err
			}
		}
	}
	size := fmt.Sprintf("%d MiB, %d layers", c.imageMiB, c.layers)
	ratio, dratio := acr.best/bare.best, disk.best/bare.best
	log.Printf("registry: bare %.0f MB/s, fakeacr %.0f MB/s, disk %.0f MB/s", bare.best, acr.best, disk.best)
	return []Result{
		{Name: "registry pull, bare pkg/registry handler", Value: bare.best, Unit: "MB/s", Note: size + ", anonymous"},
		{Name: "registry pull through fakeacr (authorization on)", Value: acr.best, Unit: "MB/s", Ratio: ratio,
			Target: "ratio to bare ≥ 0.9", Pass: pass(ratio >= 0.9), Note: size + ", bearer token per request"},
		{Name: "registry pull through fakeacr, disk-backed store", Value: disk.best, Unit: "MB/s", Ratio: dratio,
			Target: "ratio to bare, reported", Note: size},
		{Name: "registry push to fakeacr, disk-backed store", Value: pushMBs, Unit: "MB/s", Note: size},
	}, nil
}

func push(ref string, img v1.Image, tr http.RoundTripper, auth authn.Authenticator) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	return remote.Write(r, img, remote.WithTransport(tr), remote.WithAuth(auth))
}

// serveBare serves registry.New() on loopback with a certificate from the
// simulator's CA and the simulator's server settings.
func serveBare(s *sim.Sim) (string, func(), error) {
	cert, err := s.IssueCertificate([]string{"bare.azurecr.io"}, nil)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 10 * time.Second}
	tl := tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert},
		NextProtos: []string{"h2", "http/1.1"}})
	go func() { _ = srv.Serve(tl) }()
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}
