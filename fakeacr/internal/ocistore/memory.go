package ocistore

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// chunkSize is the unit blobs are kept in memory in: a large blob costs its
// size plus at most one chunk, never a multiple of it (one growing buffer
// would copy and double); only the first chunk grows, by doubling.
const chunkSize = 1 << 20

// chunks is content kept in memory in chunks of chunkSize.
type chunks struct {
	parts [][]byte
	n     int64
}

// Write implements io.Writer.
func (c *chunks) Write(p []byte) (int, error) {
	written := len(p)
	for len(p) > 0 {
		switch k := len(c.parts); {
		case k == 0: // the first chunk grows, small blobs stay small
			c.parts = append(c.parts, make([]byte, 0, min(chunkSize, max(len(p), 4<<10))))
		case len(c.parts[k-1]) == chunkSize:
			c.parts = append(c.parts, make([]byte, 0, chunkSize))
		}
		last := &c.parts[len(c.parts)-1]
		if cap(*last) < chunkSize && len(*last)+len(p) > cap(*last) {
			grown := make([]byte, len(*last), min(chunkSize, max(2*cap(*last), len(*last)+len(p))))
			copy(grown, *last)
			*last = grown
		}
		m := min(len(p), cap(*last)-len(*last))
		*last = append(*last, p[:m]...)
		p = p[m:]
		c.n += int64(m)
	}
	return written, nil
}

func (c *chunks) reader() io.Reader {
	rs := make([]io.Reader, len(c.parts))
	for i, p := range c.parts {
		rs[i] = bytes.NewReader(p)
	}
	return io.MultiReader(rs...)
}

func (c *chunks) discard() { c.parts, c.n = nil, 0 }

// memStore is a registry's blob storage in memory. Upload sessions write
// into chunks that become the blob without a copy.
type memStore struct {
	mu    sync.RWMutex
	blobs map[v1.Hash]*chunks
}

func newMemStore() *memStore { return &memStore{blobs: map[v1.Hash]*chunks{}} }

// Stat implements registry.BlobStatHandler.
func (m *memStore) Stat(_ context.Context, _ string, h v1.Hash) (int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.blobs[h]
	if !ok {
		return 0, registry.ErrNotFound
	}
	return c.n, nil
}

// Get implements registry.BlobHandler.
func (m *memStore) Get(_ context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.blobs[h]
	if !ok {
		return nil, registry.ErrNotFound
	}
	return io.NopCloser(c.reader()), nil
}

// Put implements registry.BlobPutHandler (pkg/registry checked the digest).
func (m *memStore) Put(_ context.Context, _ string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	c := &chunks{}
	if _, err := io.Copy(c, rc); err != nil {
		return err
	}
	m.mu.Lock()
	m.blobs[h] = c
	m.mu.Unlock()
	return nil
}

// Delete implements registry.BlobDeleteHandler (linkedBlobs only unlinks).
func (m *memStore) Delete(_ context.Context, _ string, h v1.Hash) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.blobs[h]; !ok {
		return registry.ErrNotFound
	}
	delete(m.blobs, h)
	return nil
}

// create implements sessionStore.
func (m *memStore) create() (sink, error) { return &chunks{}, nil }

// commit implements sessionStore: the session's chunks become the blob.
func (m *memStore) commit(s sink, h v1.Hash) error {
	m.mu.Lock()
	m.blobs[h] = s.(*chunks)
	m.mu.Unlock()
	return nil
}
