package sim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/azsim/azsim/world"
)

// Option configures a simulator.
type Option func(*options)

type options struct {
	world      *world.World
	stateDir   string
	httpsAddr  string
	imdsAddr   string
	poolIMDS   map[string]string
	adminAddr  string
	adminToken string
	logger     *slog.Logger
	clock      *world.SimClock
	// registryStorage, when set, keeps registry content on disk.
	registryStorage string
	// fresh drops the world and clock saved by a previous run.
	fresh    bool
	timeouts Timeouts
	entra    EntraSettings
	imds     IMDSSettings
	acr      ACRSettings
}

// Timeouts bound how long a client may hold a connection without making
// progress, so slow clients cannot pin the simulator.
type Timeouts struct {
	// ReadHeader bounds the TLS handshake and reading a request's headers
	// (default 10 s).
	ReadHeader time.Duration
	// Body bounds reading the body of every request but registry blob and
	// manifest uploads, whose size is legitimately large (default 30 s).
	Body time.Duration
	// Idle closes keep-alive connections idle this long (default 2 min).
	Idle time.Duration
}

// MaxHeaderBytes bounds the request line and headers of every request; a
// larger request gets 431 before any fake sees it.
const MaxHeaderBytes = 64 << 10

// WithTimeouts overrides the server timeouts (zero fields keep defaults).
func WithTimeouts(t Timeouts) Option {
	return func(o *options) {
		if t.ReadHeader > 0 {
			o.timeouts.ReadHeader = t.ReadHeader
		}
		if t.Body > 0 {
			o.timeouts.Body = t.Body
		}
		if t.Idle > 0 {
			o.timeouts.Idle = t.Idle
		}
	}
}

// WithWorld sets the world (default: world.Default()).
func WithWorld(w *world.World) Option { return func(o *options) { o.world = w } }

// WithStateDir sets the state directory holding the CA and signing keys.
func WithStateDir(dir string) Option { return func(o *options) { o.stateDir = dir } }

// WithHTTPSAddr sets the HTTPS listen address (default 127.0.0.1:8443).
func WithHTTPSAddr(a string) Option { return func(o *options) { o.httpsAddr = a } }

// WithIMDSAddr sets the IMDS address of the first node pool that declares
// none (default 127.0.0.1:8079). Other such pools get ephemeral ports.
func WithIMDSAddr(a string) Option { return func(o *options) { o.imdsAddr = a } }

// WithPoolIMDSAddr serves the IMDS of node pool ref ("cluster/pool") on
// addr, overriding the world's imdsAddress (azsim exec puts the chosen
// pool on 169.254.169.254:80).
func WithPoolIMDSAddr(ref, addr string) Option {
	return func(o *options) {
		if o.poolIMDS == nil {
			o.poolIMDS = map[string]string{}
		}
		o.poolIMDS[ref] = addr
	}
}

// WithAdminAddr sets the admin API address (default 127.0.0.1:8078).
func WithAdminAddr(a string) Option { return func(o *options) { o.adminAddr = a } }

// WithAdminToken requires "Authorization: Bearer <token>" on the admin API
// (mandatory when it is bound beyond loopback).
func WithAdminToken(tok string) Option { return func(o *options) { o.adminToken = tok } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRegistryStorage keeps every registry's blobs, blob links and
// manifests under dir (one directory per login server), so images larger
// than memory work and pushes survive a restart (default: in memory).
func WithRegistryStorage(dir string) Option { return func(o *options) { o.registryStorage = dir } }

// WithClock sets the simulated clock (default: wall time).
func WithClock(c *world.SimClock) Option { return func(o *options) { o.clock = c } }

func buildOptions(opts []Option) options {
	o := options{httpsAddr: "127.0.0.1:8443", imdsAddr: "127.0.0.1:8079", adminAddr: "127.0.0.1:8078",
		timeouts: Timeouts{ReadHeader: 10 * time.Second, Body: 30 * time.Second, Idle: 2 * time.Minute}}
	for _, f := range opts {
		f(&o)
	}
	if o.world == nil {
		o.world = world.Default()
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.clock == nil {
		o.clock = world.NewSimClock()
	}
	return o
}

// validate checks the listen addresses and reports every problem: each must
// be host:port, and an admin API off loopback needs a token (docs/DESIGN.md
// "Admin API").
func (o options) validate() error {
	var errs []error
	for _, a := range []struct{ flag, addr string }{{"https address", o.httpsAddr}, {"IMDS address", o.imdsAddr}, {"admin address", o.adminAddr}} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: want host:port (%v)", a.flag, a.addr, err))
		}
	}
	for ref, addr := range o.poolIMDS {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("IMDS address of node pool %s %q: want host:port (%v)", ref, addr, err))
		}
	}
	if host, _, err := net.SplitHostPort(o.adminAddr); err == nil && !isLoopbackHost(host) && o.adminToken == "" {
		errs = append(errs, fmt.Errorf("admin address %q is not loopback: an admin token is required", o.adminAddr))
	}
	if err := o.acr.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil
	}
	return &ConfigError{Err: errors.Join(errs...)}
}

// ConfigError is a simulator configuration that cannot work (a bad listen
// address, an admin API off loopback without a token): bad usage, not a
// failure of the machine.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// isLoopbackHost reports whether host names the loopback interface only.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
