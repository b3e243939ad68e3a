package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/fakeaad"
	"github.com/azsim/azsim/fakeacr"
	"github.com/azsim/azsim/fakeoidc"
	"github.com/azsim/azsim/internal/middleware/faults"
	"github.com/azsim/azsim/internal/middleware/trace"
	"github.com/azsim/azsim/internal/platform/certs"
	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/world"
)

// Sim is a running (or ready to run) simulator. Its fakes and internal
// parts are reached only through its methods, in api and world terms.
type Sim struct {
	opts       options
	store      *world.Store
	state      *state.Dir
	ca         *certs.CA
	entra      *fakeaad.Entra
	issuer     *fakeoidc.Issuer
	issuerKeys *fakeoidc.IssuerKeys // the clusters' issuer keys (rotation goes through it)
	acr        *fakeacr.ACR         // serves every registry of the world
	trace      *trace.Log           // a decision for every request the fakes answer
	faults     *faults.Set          // injected failures

	https   *tlsHost
	servers []*http.Server
	lns     []net.Listener
	imds    map[string]string // node pool ("cluster/pool") → address
	admin   string
	wg      sync.WaitGroup
	// inflight counts requests the fakes are serving, so Close can wait for
	// exactly those and not for idle keep-alive connections.
	inflight  atomic.Int64
	closeOnce sync.Once
	// clockMu serialises clock moves with their saving.
	clockMu sync.Mutex
}

// New builds a simulator: it opens the state directory (creating the CA and
// keys on first use), compiles the world, and wires the fakes. Nothing
// listens until Start.
func New(opts ...Option) (*Sim, error) {
	o := buildOptions(opts)
	if o.stateDir == "" {
		return nil, errors.New("sim: a state directory is required")
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	dir, err := state.Open(o.stateDir)
	if err != nil {
		return nil, err
	}
	saved, source, err := resume(dir, &o)
	if err != nil {
		return nil, err
	}
	store, err := openStore(saved, &o, dir.File(worldFile))
	if err != nil {
		return nil, err
	}
	store.OnCommit(saveWorld(dir, source))
	ca, err := certs.LoadOrCreateCA(dir.File(caCertFile), dir.File(caKeyFile), time.Now())
	if err != nil {
		return nil, err
	}
	s := &Sim{opts: o, store: store, state: dir, ca: ca, imds: map[string]string{},
		trace: trace.NewLog(traceSize), faults: faults.NewSet(nil, api.ServiceEntra, api.ServiceOIDC, api.ServiceIMDS, api.ServiceACR, api.ServiceRegistry)}
	// Every fake that signs takes its keys from the state directory.
	keys := state.NewKeyring(dir)
	s.issuerKeys = fakeoidc.NewIssuerKeys(keys)
	if s.issuer, err = fakeoidc.New(store, keys, fakeoidc.WithLogger(o.logger)); err != nil {
		return nil, err
	}
	entraOpts := append(o.entra.fakeOptions(), fakeaad.WithLogger(o.logger), fakeaad.WithHTTPClient(s.upstreamClient()))
	if s.entra, err = fakeaad.New(store, keys, entraOpts...); err != nil {
		return nil, err
	}
	if err := s.wireRegistries(keys); err != nil {
		return nil, err
	}
	return s, nil
}

// traceSize is how many decisions the trace keeps.
const traceSize = 2000

// wrap puts the trace and the fault injector in front of a fake.
func (s *Sim) wrap(service api.Service, h http.Handler) http.Handler {
	traced := trace.Middleware(service, s.opts.clock, clipRecorder{s.trace})(s.faults.Middleware(service)(h))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		traced.ServeHTTP(w, r)
	})
}

// Start binds every listener and serves until ctx ends or Close is called.
func (s *Sim) Start(ctx context.Context) error {
	s.https = newTLSHost(s.ca, s.store)
	ln, err := net.Listen("tcp", s.opts.httpsAddr)
	if err != nil {
		return fmt.Errorf("listening for HTTPS on %s: %w", s.opts.httpsAddr, err)
	}
	s.serve(tls.NewListener(ln, s.https.config()), s.hostRouter())
	if err := s.startIMDS(); err != nil {
		s.Close()
		return err
	}
	if err := s.startAdmin(); err != nil {
		s.Close()
		return err
	}
	go func() {
		<-ctx.Done()
		s.Close()
	}()
	return nil
}

func (s *Sim) serve(ln net.Listener, h http.Handler) {
	to := s.opts.timeouts
	srv := &http.Server{Handler: s.bodyDeadline(h), ReadHeaderTimeout: to.ReadHeader, IdleTimeout: to.Idle,
		MaxHeaderBytes: MaxHeaderBytes, ErrorLog: log.New(io.Discard, "", 0)}
	s.servers = append(s.servers, srv)
	s.lns = append(s.lns, ln)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = srv.Serve(ln)
	}()
}

// bodyDeadline bounds reading each request's body (Timeouts.Body), except
// registry uploads (PUT/PATCH/POST under /v2/), which stream large blobs.
func (s *Sim) bodyDeadline(h http.Handler) http.Handler {
	d := s.opts.timeouts.Body
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasPrefix(r.URL.Path, "/v2/") {
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}

// shutdownGrace bounds how long Close waits for requests in flight.
const shutdownGrace = 5 * time.Second

// Close stops accepting connections, waits (up to 5 s) for the requests the
// fakes are serving, then closes every connection.
func (s *Sim) Close() {
	s.closeOnce.Do(func() {
		for _, ln := range s.lns {
			_ = ln.Close()
		}
		deadline := time.Now().Add(shutdownGrace)
		for s.inflight.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		for _, srv := range s.servers {
			_ = srv.Close()
		}
	})
	s.wg.Wait()
}

// World returns the world store: its snapshot, updates and clock.
func (s *Sim) World() *world.Store { return s.store }

// Wait blocks until every server has stopped.
func (s *Sim) Wait() { s.wg.Wait() }

// HTTPSAddr is the address of the HTTPS listener.
func (s *Sim) HTTPSAddr() string { return s.lns[0].Addr().String() }

// AdminAddr is the address of the admin API.
func (s *Sim) AdminAddr() string { return s.admin }

// IMDSAddr returns the IMDS address of a node pool ("cluster/pool" or a
// unique pool name).
func (s *Sim) IMDSAddr(pool string) (string, bool) {
	p, ok := s.store.Snapshot().NodePool(pool)
	if !ok {
		return "", false
	}
	a, ok := s.imds[p.Cluster.Name+"/"+p.Name]
	return a, ok
}

// DefaultIMDSAddr is the IMDS address of the first node pool.
func (s *Sim) DefaultIMDSAddr() string {
	pools := s.store.Snapshot().NodePools()
	if len(pools) == 0 {
		return ""
	}
	return s.imds[pools[0].Cluster.Name+"/"+pools[0].Name]
}
