package ocistore

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// memStore is a registry's blob storage in memory. Upload sessions write
// into a buffer that becomes the blob without a copy.
type memStore struct {
	mu    sync.RWMutex
	blobs map[v1.Hash][]byte
}

func newMemStore() *memStore { return &memStore{blobs: map[v1.Hash][]byte{}} }

// Stat implements registry.BlobStatHandler.
func (m *memStore) Stat(_ context.Context, _ string, h v1.Hash) (int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.blobs[h]
	if !ok {
		return 0, registry.ErrNotFound
	}
	return int64(len(b)), nil
}

// Get implements registry.BlobHandler.
func (m *memStore) Get(_ context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	b, ok := m.blobs[h]
	if !ok {
		return nil, registry.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// Put implements registry.BlobPutHandler (pkg/registry checked the digest).
func (m *memStore) Put(_ context.Context, _ string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.blobs[h] = b
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

// bufSink is an upload session in memory.
type bufSink struct{ *bytes.Buffer }

func (b bufSink) discard() { *b.Buffer = bytes.Buffer{} }

// create implements sessionStore.
func (m *memStore) create() (sink, error) { return bufSink{&bytes.Buffer{}}, nil }

// commit implements sessionStore: the session's buffer becomes the blob.
func (m *memStore) commit(s sink, h v1.Hash) error {
	b := s.(bufSink).Bytes()
	m.mu.Lock()
	m.blobs[h] = b
	m.mu.Unlock()
	return nil
}
