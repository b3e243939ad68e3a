package ocistore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// diskStore is a registry's persistent storage.
type diskStore struct {
	root string
}

func newDiskStore(dir, loginServer string) (*diskStore, error) {
	name := strings.ToLower(loginServer)
	if name == "" || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, fmt.Errorf("login server %q cannot name a directory", loginServer)
	}
	d := &diskStore{root: filepath.Join(dir, name)}
	for _, sub := range []string{"blobs/sha256", "links", "manifests", "uploads"} {
		if err := os.MkdirAll(filepath.Join(d.root, sub), 0o700); err != nil {
			return nil, err
		}
	}
	// Uploads in progress do not survive a restart, as on ACR.
	tmp, _ := filepath.Glob(filepath.Join(d.root, "uploads", "*"))
	for _, f := range tmp {
		_ = os.Remove(f)
	}
	return d, nil
}

func (d *diskStore) blobPath(h v1.Hash) (string, error) {
	if h.Algorithm != "sha256" || len(h.Hex) != 64 {
		return "", registry.ErrNotFound
	}
	if _, err := hex.DecodeString(h.Hex); err != nil {
		return "", registry.ErrNotFound
	}
	return filepath.Join(d.root, "blobs", "sha256", h.Hex), nil
}

// Stat implements registry.BlobStatHandler: content was digest-checked when
// written, so the size is all that is read.
func (d *diskStore) Stat(_ context.Context, _ string, h v1.Hash) (int64, error) {
	p, err := d.blobPath(h)
	if err != nil {
		return 0, err
	}
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, registry.ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// Get implements registry.BlobHandler.
func (d *diskStore) Get(_ context.Context, _ string, h v1.Hash) (io.ReadCloser, error) {
	p, err := d.blobPath(h)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, registry.ErrNotFound
	}
	return f, err
}

// Put implements registry.BlobPutHandler: the content is streamed to a
// temporary file while hashed, and renamed into place only when its digest
// is h.
func (d *diskStore) Put(_ context.Context, _ string, h v1.Hash, rc io.ReadCloser) error {
	defer rc.Close()
	p, err := d.blobPath(h)
	if err != nil {
		return fmt.Errorf("unsupported digest %s", h)
	}
	f, err := os.CreateTemp(filepath.Join(d.root, "uploads"), "put-*")
	if err != nil {
		return err
	}
	u := &upload{f: f, h: sha256.New()}
	if _, err := u.append(rc); err != nil {
		u.discard()
		return err
	}
	return d.commit(u, h, p)
}

// commit checks the upload's digest, syncs it and renames it to p.
func (d *diskStore) commit(u *upload, h v1.Hash, p string) error {
	if got := hex.EncodeToString(u.h.Sum(nil)); got != h.Hex {
		u.discard()
		return errDigestMismatch
	}
	err := u.f.Sync()
	if cerr := u.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(u.f.Name(), p)
	}
	if err != nil {
		_ = os.Remove(u.f.Name())
	}
	return err
}

// Delete implements registry.BlobDeleteHandler (linkedBlobs only unlinks).
func (d *diskStore) Delete(_ context.Context, _ string, h v1.Hash) error {
	p, err := d.blobPath(h)
	if err != nil {
		return err
	}
	return os.Remove(p)
}

var errDigestMismatch = errors.New("digest mismatch")

// upload is a blob upload in progress, on disk, hashed as it arrives.
type upload struct {
	mu sync.Mutex
	f  *os.File
	h  hash.Hash
	n  int64
}

func (u *upload) append(r io.Reader) (int64, error) {
	n, err := io.Copy(io.MultiWriter(u.f, u.h), r)
	u.n += n
	return n, err
}

func (u *upload) discard() {
	_ = u.f.Close()
	_ = os.Remove(u.f.Name())
}
