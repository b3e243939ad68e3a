package ocistore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

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
	p.finishUpload(w, r, repo, u)
	return true
}

// finishUpload stores the blob of a completed upload (PUT with its digest)
// and links it to repo.
func (p *persistent) finishUpload(w http.ResponseWriter, r *http.Request, repo string, u *upload) {
	h, err := v1.NewHash(r.URL.Query().Get("digest"))
	if err != nil {
		u.discard()
		regError(w, http.StatusBadRequest, "DIGEST_INVALID", "invalid digest")
		return
	}
	path, err := p.disk.blobPath(h)
	if err != nil {
		u.discard()
		regError(w, http.StatusBadRequest, "DIGEST_INVALID", "unsupported digest")
		return
	}
	if err := p.disk.commit(u, h, path); err != nil {
		if errors.Is(err, errDigestMismatch) {
			regError(w, http.StatusBadRequest, "DIGEST_INVALID", "digest does not match the content")
		} else {
			regError(w, http.StatusInternalServerError, "UNKNOWN", "storing blob")
		}
		return
	}
	if err := p.blobs.link(r.Context(), repo, h); err != nil {
		regError(w, http.StatusInternalServerError, "UNKNOWN", "linking blob")
		return
	}
	w.Header().Set("Docker-Content-Digest", h.String())
	w.Header().Set("Location", "/v2/"+repo+"/blobs/"+h.String())
	w.WriteHeader(http.StatusCreated)
}

func (p *persistent) drop(id string, u *upload) {
	p.mu.Lock()
	delete(p.uploads, id)
	p.mu.Unlock()
	u.discard()
}
