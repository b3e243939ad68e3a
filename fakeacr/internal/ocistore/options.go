package ocistore

import (
	"context"
	"io"
	"log/slog"
	"time"
)

// Defaults of the upload-session bounds. ACR documents neither how long an
// idle upload session lives nor how many one identity may hold, so both
// are options [L] (protocols.md 3.8).
const (
	DefaultUploadIdleTimeout      = 15 * time.Minute
	DefaultMaxUploadsPerPrincipal = 64
	DefaultMaxUploads             = 4096
)

type options struct {
	now          func() time.Time
	idleTimeout  time.Duration
	perPrincipal int
	maxUploads   int
	log          *slog.Logger
}

// Option configures a Registry.
type Option func(*options)

// WithClock sets the clock upload sessions age on (default: a clock that
// never moves, so sessions expire only by the per-principal bound).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithUploadIdleTimeout expires upload sessions idle for longer than d on
// the registry's clock (default DefaultUploadIdleTimeout, also when d is
// not positive).
func WithUploadIdleTimeout(d time.Duration) Option { return func(o *options) { o.idleTimeout = d } }

// WithUploadLimits bounds the upload sessions in progress: perPrincipal for
// one principal (see WithPrincipal), total for the registry (defaults
// DefaultMaxUploadsPerPrincipal, DefaultMaxUploads, also for a bound that
// is not positive).
func WithUploadLimits(perPrincipal, total int) Option {
	return func(o *options) { o.perPrincipal, o.maxUploads = perPrincipal, total }
}

// WithLogger sets the logger (default: silent).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

func buildOptions(opts []Option) options {
	o := options{idleTimeout: DefaultUploadIdleTimeout, perPrincipal: DefaultMaxUploadsPerPrincipal, maxUploads: DefaultMaxUploads}
	for _, opt := range opts {
		opt(&o)
	}
	if o.now == nil {
		epoch := time.Unix(0, 0)
		o.now = func() time.Time { return epoch }
	}
	if o.log == nil {
		o.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.idleTimeout <= 0 {
		o.idleTimeout = DefaultUploadIdleTimeout
	}
	if o.perPrincipal <= 0 {
		o.perPrincipal = DefaultMaxUploadsPerPrincipal
	}
	if o.maxUploads <= 0 {
		o.maxUploads = DefaultMaxUploads
	}
	return o
}

type principalKey struct{}

// WithPrincipal marks ctx as a request of principal id: upload sessions
// are bounded per principal.
func WithPrincipal(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, principalKey{}, id)
}

func principalOf(ctx context.Context) string {
	id, _ := ctx.Value(principalKey{}).(string)
	return id
}
