package fakeacr

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// WithStorageDir keeps each registry's content on disk under
// dir/<login server>/: blobs (blobs/sha256/<hex>, written to a temporary
// file, digest-checked, fsynced and renamed), the repository links of blobs
// (links/) and the manifests (manifests/), so images larger than memory can
// be pushed and pulled (uploads stream to disk) and pushes survive a
// restart. World images are seeded again at start, over what was kept.
// It replaces WithBlobStore.
func WithStorageDir(dir string) Option { return func(o *options) { o.storageDir = dir } }

// maxManifestBytes bounds a stored manifest (ACR's limit is 4 MiB).
const maxManifestBytes = 4 << 20

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

func (d *diskStore) loadLinks() (map[string]bool, error) {
	ents, err := os.ReadDir(filepath.Join(d.root, "links"))
	if err != nil {
		return nil, err
	}
	links := map[string]bool{}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d.root, "links", e.Name()))
		if err != nil {
			return nil, err
		}
		links[string(b)] = true
	}
	return links, nil
}

// storedManifest is one manifests/ file.
type storedManifest struct {
	Repository  string `json:"repository"`
	Reference   string `json:"reference"`
	ContentType string `json:"contentType"`
	Body        []byte `json:"body"`
}

func (d *diskStore) manifestFile(repo, ref string) string {
	sum := sha256.Sum256([]byte(repo + "\x00" + ref))
	return filepath.Join(d.root, "manifests", hex.EncodeToString(sum[:])+".json")
}

func (d *diskStore) saveManifest(m storedManifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeFileAtomic(d.manifestFile(m.Repository, m.Reference), b)
}

func (d *diskStore) deleteManifest(repo, ref string) { _ = os.Remove(d.manifestFile(repo, ref)) }

func (d *diskStore) loadManifests() ([]storedManifest, error) {
	files, err := filepath.Glob(filepath.Join(d.root, "manifests", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []storedManifest
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var m storedManifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("stored manifest %s: %w", f, err)
		}
		out = append(out, m)
	}
	// Images before indexes (an index needs its children), then by name.
	sort.SliceStable(out, func(i, j int) bool {
		ii, ij := types.MediaType(out[i].ContentType).IsIndex(), types.MediaType(out[j].ContentType).IsIndex()
		if ii != ij {
			return !ii
		}
		return out[i].Repository+out[i].Reference < out[j].Repository+out[j].Reference
	})
	return out, nil
}

// writeFileAtomic writes a small file by temporary file, fsync and rename.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// persistent wraps a backend handler kept on disk: blob uploads stream to
// disk instead of pkg/registry's memory buffer, and manifests are recorded.
type persistent struct {
	next  http.Handler
	disk  *diskStore
	blobs *linkedBlobs

	mu      sync.Mutex
	uploads map[string]*upload
}

// maxUploads bounds the uploads in progress per registry.
const maxUploads = 256

func (p *persistent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/v2/"), "/")
	n := len(segs)
	switch {
	case n >= 4 && segs[n-3] == "blobs" && segs[n-2] == "uploads" && segs[n-1] == "" && r.Method == http.MethodPost &&
		r.URL.Query().Get("digest") == "" && r.URL.Query().Get("mount") == "":
		p.startUpload(w, r, strings.Join(segs[:n-3], "/"))
		return
	case n >= 4 && segs[n-3] == "blobs" && segs[n-2] == "uploads" && (r.Method == http.MethodPatch || r.Method == http.MethodPut):
		if p.continueUpload(w, r, strings.Join(segs[:n-3], "/"), segs[n-1]) {
			return
		}
	case n >= 3 && segs[n-2] == "manifests" && (r.Method == http.MethodPut || r.Method == http.MethodDelete):
		p.manifest(w, r, strings.Join(segs[:n-2], "/"), segs[n-1])
		return
	}
	p.next.ServeHTTP(w, r)
}

func (p *persistent) startUpload(w http.ResponseWriter, r *http.Request, repo string) {
	p.mu.Lock()
	full := len(p.uploads) >= maxUploads
	p.mu.Unlock()
	if full {
		regError(w, http.StatusTooManyRequests, "TOOMANYREQUESTS", "too many uploads in progress")
		return
	}
	f, err := os.CreateTemp(filepath.Join(p.disk.root, "uploads"), "upload-*")
	if err != nil {
		regError(w, http.StatusInternalServerError, "UNKNOWN", "creating upload")
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	u := &upload{f: f, h: sha256.New()}
	if r.ContentLength > 0 { // a first chunk in the POST body
		if _, err := u.append(r.Body); err != nil {
			u.discard()
			regError(w, http.StatusBadRequest, "BLOB_UPLOAD_INVALID", "reading upload")
			return
		}
	}
	p.mu.Lock()
	p.uploads[id] = u
	p.mu.Unlock()
	w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id)
	w.Header().Set("Docker-Upload-UUID", id)
	w.Header().Set("Range", uploadRange(u.n))
	w.WriteHeader(http.StatusAccepted)
}

func uploadRange(n int64) string {
	if n == 0 {
		return "0-0"
	}
	return "0-" + strconv.FormatInt(n-1, 10)
}

// continueUpload serves PATCH and PUT of an upload this wrapper started;
// false lets pkg/registry answer (an id it does not know).
func (p *persistent) continueUpload(w http.ResponseWriter, r *http.Request, repo, id string) bool {
	p.mu.Lock()
	u, ok := p.uploads[id]
	p.mu.Unlock()
	if !ok {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if cr := r.Header.Get("Content-Range"); cr != "" && r.Method == http.MethodPatch {
		start, _, _ := strings.Cut(cr, "-")
		if s, err := strconv.ParseInt(start, 10, 64); err != nil || s != u.n {
			regError(w, http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID", "Content-Range does not continue the upload")
			return true
		}
	}
	if _, err := u.append(r.Body); err != nil {
		p.drop(id, u)
		regError(w, http.StatusBadRequest, "BLOB_UPLOAD_INVALID", "reading upload")
		return true
	}
	if r.Method == http.MethodPatch {
		w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id)
		w.Header().Set("Docker-Upload-UUID", id)
		w.Header().Set("Range", uploadRange(u.n))
		w.WriteHeader(http.StatusAccepted)
		return true
	}
	p.mu.Lock()
	delete(p.uploads, id)
	p.mu.Unlock()
	h, err := v1.NewHash(r.URL.Query().Get("digest"))
	if err != nil {
		u.discard()
		regError(w, http.StatusBadRequest, "DIGEST_INVALID", "invalid digest")
		return true
	}
	path, err := p.disk.blobPath(h)
	if err != nil {
		u.discard()
		regError(w, http.StatusBadRequest, "DIGEST_INVALID", "unsupported digest")
		return true
	}
	if err := p.disk.commit(u, h, path); err != nil {
		if errors.Is(err, errDigestMismatch) {
			regError(w, http.StatusBadRequest, "DIGEST_INVALID", "digest does not match the content")
		} else {
			regError(w, http.StatusInternalServerError, "UNKNOWN", "storing blob")
		}
		return true
	}
	if err := p.blobs.link(r.Context(), repo, h); err != nil {
		regError(w, http.StatusInternalServerError, "UNKNOWN", "linking blob")
		return true
	}
	w.Header().Set("Docker-Content-Digest", h.String())
	w.Header().Set("Location", "/v2/"+repo+"/blobs/"+h.String())
	w.WriteHeader(http.StatusCreated)
	return true
}

func (p *persistent) drop(id string, u *upload) {
	p.mu.Lock()
	delete(p.uploads, id)
	p.mu.Unlock()
	u.discard()
}

// manifest records manifest pushes and deletes that pkg/registry accepted.
func (p *persistent) manifest(w http.ResponseWriter, r *http.Request, repo, ref string) {
	var body []byte
	if r.Method == http.MethodPut {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, maxManifestBytes+1))
		if err != nil || len(body) > maxManifestBytes {
			regError(w, http.StatusRequestEntityTooLarge, "MANIFEST_INVALID", "manifest too large or unreadable")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	sw := &statusRecorder{ResponseWriter: w}
	p.next.ServeHTTP(sw, r)
	switch {
	case r.Method == http.MethodPut && sw.status == http.StatusCreated:
		// The push is answered already; if recording fails, only the next
		// restart lacks the manifest.
		_ = p.disk.saveManifest(storedManifest{Repository: repo, Reference: ref,
			ContentType: r.Header.Get("Content-Type"), Body: body})
	case r.Method == http.MethodDelete && sw.status == http.StatusAccepted:
		p.disk.deleteManifest(repo, ref)
	}
}

// replay puts the stored manifests back into the backend at start.
func (p *persistent) replay(ctx context.Context) error {
	ms, err := p.disk.loadManifests()
	if err != nil {
		return err
	}
	for _, m := range ms {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, "/v2/"+m.Repository+"/manifests/"+m.Reference, bytes.NewReader(m.Body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", m.ContentType)
		rec := &statusRecorder{ResponseWriter: discardWriter{h: http.Header{}}}
		p.next.ServeHTTP(rec, withRepoContext(req))
		if rec.status != http.StatusCreated {
			return fmt.Errorf("restoring manifest %s:%s: status %d", m.Repository, m.Reference, rec.status)
		}
	}
	return nil
}

func withRepoContext(r *http.Request) *http.Request {
	if nd, err := requiredAccess(r); err == nil && nd != nil && nd.typ == typeRepository {
		return r.WithContext(context.WithValue(r.Context(), repoKey{}, nd.name))
	}
	return r
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// regError writes the distribution-spec error envelope.
func regError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, errorBody{Errors: []errorEntry{{Code: code, Message: message}}})
}
