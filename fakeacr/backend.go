package fakeacr

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"

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
	var (
		store BlobStore
		disk  *diskStore
		links = map[string]bool{}
		err   error
	)
	if a.opts.storageDir != "" {
		if disk, err = newDiskStore(a.opts.storageDir, reg.LoginServer); err == nil {
			store = disk
			links, err = disk.loadLinks()
		}
	} else {
		store, err = a.opts.blobs(reg.LoginServer)
	}
	if err != nil {
		return fmt.Errorf("fakeacr: blob store for %s: %w", reg.LoginServer, err)
	}
	b.created = a.store.Clock().Now().UTC()
	blobs := &linkedBlobs{BlobStore: store, links: links, disk: disk}
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)),
		registry.WithBlobHandler(blobs), registry.WithReferrersSupport(true))
	if disk != nil {
		p := &persistent{next: h, disk: disk, blobs: blobs, uploads: map[string]*upload{}}
		if err := p.replay(ctx); err != nil {
			return fmt.Errorf("fakeacr: %s: %w", reg.LoginServer, err)
		}
		h = p
	}
	b.h = withRepository(h)
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

type repoKey struct{}

// withRepository puts the repository a request addresses into its context:
// pkg/registry derives the repository it passes to the blob handler from the
// path, wrongly for upload completions (PUT …/blobs/uploads/<id> gives
// "<name>/blobs").
func withRepository(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if nd, err := requiredAccess(r); err == nil && nd != nil && nd.typ == typeRepository {
			r = r.WithContext(context.WithValue(r.Context(), repoKey{}, nd.name))
		}
		next.ServeHTTP(w, r)
	})
}

// repository is the repository of the request, or the registry's guess.
func repository(ctx context.Context, guess string) string {
	if name, ok := ctx.Value(repoKey{}).(string); ok {
		return name
	}
	return guess
}

// linkedBlobs links blobs to the repositories they were uploaded to: a
// blob is known in a repository only after it was pushed there, as in a
// real registry (pkg/registry passes the repository to the blob handler).
type linkedBlobs struct {
	BlobStore
	mu    sync.Mutex
	links map[string]bool // repo + "@" + digest
	disk  *diskStore      // keeps the links too, when set
}

func (l *linkedBlobs) linked(ctx context.Context, repo string, h v1.Hash) bool {
	repo = repository(ctx, repo)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.links[repo+"@"+h.String()]
}

func (l *linkedBlobs) Stat(ctx context.Context, repo string, h v1.Hash) (int64, error) {
	if !l.linked(ctx, repo, h) {
		return 0, registry.ErrNotFound
	}
	return l.BlobStore.Stat(ctx, repo, h)
}

func (l *linkedBlobs) Get(ctx context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	if !l.linked(ctx, repo, h) {
		return nil, registry.ErrNotFound
	}
	return l.BlobStore.Get(ctx, repo, h)
}

func (l *linkedBlobs) Put(ctx context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	if err := l.BlobStore.Put(ctx, repo, h, rc); err != nil {
		return err
	}
	return l.link(ctx, repo, h)
}

// link makes h known in repo (persistently with a disk store).
func (l *linkedBlobs) link(ctx context.Context, repo string, h v1.Hash) error {
	key := repository(ctx, repo) + "@" + h.String()
	l.mu.Lock()
	known := l.links[key]
	l.links[key] = true
	l.mu.Unlock()
	if l.disk != nil && !known {
		return l.disk.saveLink(key)
	}
	return nil
}

// Delete unlinks the blob from repo; the content stays for other links.
func (l *linkedBlobs) Delete(ctx context.Context, repo string, h v1.Hash) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := repository(ctx, repo) + "@" + h.String()
	if !l.links[key] {
		return registry.ErrNotFound
	}
	delete(l.links, key)
	if l.disk != nil {
		l.disk.deleteLink(key)
	}
	return nil
}
