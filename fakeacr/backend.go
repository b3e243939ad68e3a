package fakeacr

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/azsim/azsim/fakeacr/internal/ocistore"
	"github.com/azsim/azsim/world"
)

// backend is the OCI registry of one registry of the world.
type backend struct {
	once    sync.Once
	h       http.Handler
	created time.Time
	err     error
	// seeded lists the world images written into h; images a world
	// update adds to the registry are seeded on the next request. last is
	// the registry (of an immutable world snapshot) seeded last: requests
	// of the same snapshot skip the check.
	mu     sync.Mutex
	seeded map[world.Image]bool
	last   atomic.Pointer[world.RegistryInfo]
}

// backend returns the registry's backend, creating and seeding it on first
// use (registries added to the world later get theirs then).
func (a *ACR) backend(ctx context.Context, reg *world.RegistryInfo) (*backend, error) {
	a.mu.Lock()
	b, ok := a.backends[reg.LoginServer]
	if !ok {
		b = &backend{}
		a.backends[reg.LoginServer] = b
	}
	a.mu.Unlock()
	b.once.Do(func() { b.err = a.newBackend(ctx, b, reg) })
	if b.err != nil {
		return b, b.err
	}
	return b, b.seed(ctx, reg)
}

// seed writes the registry's world images that are not in the backend yet,
// whatever happens to the request that triggered it.
func (b *backend) seed(ctx context.Context, reg *world.RegistryInfo) error {
	if b.last.Load() == reg {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seeded == nil {
		b.seeded = map[world.Image]bool{}
	}
	for _, im := range reg.Images {
		if b.seeded[im] {
			continue
		}
		if err := seedImage(ctx, b.h, reg, im); err != nil {
			return fmt.Errorf("fakeacr: seeding %s/%s:%s: %w", reg.LoginServer, im.Repository, im.Tag, err)
		}
		b.seeded[im] = true
	}
	b.last.Store(reg)
	return nil
}

func (a *ACR) newBackend(ctx context.Context, b *backend, reg *world.RegistryInfo) error {
	r, err := ocistore.Open(ctx, a.opts.storageDir, reg.LoginServer, append([]ocistore.Option{
		ocistore.WithClock(a.store.Clock().Now), ocistore.WithLogger(a.log)}, a.opts.registry...)...)
	if err != nil {
		return fmt.Errorf("fakeacr: %w", err)
	}
	if n := r.Unrestored(); n > 0 {
		a.log.Warn("fakeacr: registry storage reopened without some items", "registry", reg.LoginServer, "unrestored", n)
	}
	b.created = a.store.Clock().Now().UTC()
	b.h = r
	return nil
}

// inproc is an http.RoundTripper that serves requests with a handler in
// process: seeding and the /acr/v1 endpoints talk to the backend this way.
type inproc struct{ h http.Handler }

func (t inproc) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.RequestURI = "", "", req.URL.RequestURI()
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
