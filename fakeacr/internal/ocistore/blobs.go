package ocistore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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
	if _, err := d.blobPath(h); err != nil {
		return fmt.Errorf("unsupported digest %s", h)
	}
	sk, err := d.create()
	if err != nil {
		return err
	}
	u := &upload{sink: sk, h: sha256.New()}
	if _, err := u.append(rc); err != nil {
		sk.discard()
		return err
	}
	if got := hex.EncodeToString(u.h.Sum(nil)); got != h.Hex {
		sk.discard()
		return errDigestMismatch
	}
	return d.commit(sk, h)
}

// fileSink is an upload session's temporary file.
type fileSink struct{ *os.File }

func (f fileSink) discard() {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// create implements sessionStore: a temporary file under uploads/.
func (d *diskStore) create() (sink, error) {
	f, err := os.CreateTemp(filepath.Join(d.root, "uploads"), "upload-*")
	if err != nil {
		return nil, err
	}
	return fileSink{f}, nil
}

// commit implements sessionStore: the file is synced and renamed to the
// blob's path.
func (d *diskStore) commit(s sink, h v1.Hash) error {
	f := s.(fileSink)
	p, err := d.blobPath(h)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		_ = os.Remove(f.Name())
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
