package ocistore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// linkFile is where the link repo@h is kept (hashed: repository names may
// be longer than a file name).
func (d *diskStore) linkFile(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(d.root, "links", hex.EncodeToString(sum[:]))
}

func (d *diskStore) saveLink(key string) error {
	return writeFileAtomic(d.linkFile(key), []byte(key))
}

func (d *diskStore) deleteLink(key string) { _ = os.Remove(d.linkFile(key)) }

// loadLinks reads the repository links; unreadable ones are logged and
// skipped (the blob is then unknown in that repository).
func (d *diskStore) loadLinks(log *slog.Logger) map[string]bool {
	links := map[string]bool{}
	ents, err := os.ReadDir(filepath.Join(d.root, "links"))
	if err != nil {
		log.Warn("registry storage: reading links", "error", err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d.root, "links", e.Name()))
		if err != nil {
			log.Warn("registry storage: skipping an unreadable link", "file", e.Name(), "error", err)
			continue
		}
		links[string(b)] = true
	}
	return links
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
