package ocistore

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/registry"
)

// BlobStore is blob storage for one registry (all of go-containerregistry's
// blob interfaces, so uploads and deletes work).
type BlobStore interface {
	registry.BlobHandler
	registry.BlobStatHandler
	registry.BlobPutHandler
	registry.BlobDeleteHandler
}

// Registry is the OCI registry of one login server, an http.Handler for the
// distribution API (/v2/...).
type Registry struct {
	h          http.Handler
	unrestored int
}

// Open returns the registry of loginServer: kept on disk under
// dir/<login server>/ and restored from there when dir is not empty, in
// memory otherwise. A disk store always reopens: what cannot be restored is
// logged and counted (Unrestored), the rest is served.
func Open(ctx context.Context, dir, loginServer string, opts ...Option) (*Registry, error) {
	o := buildOptions(opts)
	var (
		store interface {
			BlobStore
			sessionStore
		}
		disk  *diskStore
		links = map[string]bool{}
		err   error
	)
	if dir != "" {
		if disk, err = newDiskStore(dir, loginServer); err == nil {
			store = disk
			links = disk.loadLinks(o.log)
		}
	} else {
		store = newMemStore()
	}
	if err != nil {
		return nil, fmt.Errorf("blob store for %s: %w", loginServer, err)
	}
	blobs := &linkedBlobs{BlobStore: store, links: links, disk: disk}
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)),
		registry.WithBlobHandler(blobs), registry.WithReferrersSupport(true))
	reg := &Registry{}
	if disk != nil {
		p := &persistent{next: h, disk: disk, log: o.log}
		if reg.unrestored = p.replay(ctx); reg.unrestored > 0 {
			o.log.Warn("registry storage: reopened with items that could not be restored",
				"registry", loginServer, "unrestored", reg.unrestored)
		}
		h = p
	}
	h = &untagging{next: h, log: o.log}
	h = &sessions{next: h, store: store, blobs: blobs, opts: o, byID: map[string]*upload{}}
	h = &gate{next: h, blobs: blobs}
	reg.h = withRepository(h)
	return reg, nil
}

// Unrestored is how many stored items (manifests, links) could not be
// restored when the registry was opened.
func (r *Registry) Unrestored() int { return r.unrestored }

// ServeHTTP serves the distribution API.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.h.ServeHTTP(w, req) }

type repoKey struct{}

// withRepository puts the repository a request addresses into its context:
// pkg/registry derives the repository it passes to the blob handler from the
// path, wrongly for upload completions (PUT …/blobs/uploads/<id> gives
// "<name>/blobs").
func withRepository(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, withRepoContext(r))
	})
}

func withRepoContext(r *http.Request) *http.Request {
	if name, ok := repositoryOf(r.URL.Path); ok {
		return r.WithContext(context.WithValue(r.Context(), repoKey{}, name))
	}
	return r
}

// repositoryOf is the repository a distribution API path addresses: the
// name before tags/list, blobs/uploads/<id>, manifests/<ref>, blobs/<digest>
// or referrers/<digest>.
func repositoryOf(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok || rest == "_catalog" {
		return "", false
	}
	segs := strings.Split(rest, "/")
	n := len(segs)
	var name string
	switch {
	case n >= 3 && segs[n-2] == "tags" && segs[n-1] == "list":
		name = strings.Join(segs[:n-2], "/")
	case n >= 4 && segs[n-3] == "blobs" && segs[n-2] == "uploads":
		name = strings.Join(segs[:n-3], "/")
	case n >= 3 && (segs[n-2] == "manifests" || segs[n-2] == "blobs" || segs[n-2] == "referrers"):
		name = strings.Join(segs[:n-2], "/")
	default:
		return "", false
	}
	return name, name != ""
}

// repository is the repository of the request, or the registry's guess.
func repository(ctx context.Context, guess string) string {
	if name, ok := ctx.Value(repoKey{}).(string); ok {
		return name
	}
	return guess
}
