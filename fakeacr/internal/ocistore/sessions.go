package ocistore

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// sink is where the content of one upload session goes while it arrives.
type sink interface {
	io.Writer
	discard()
}

// sessionStore keeps upload sessions of one kind of storage: create opens
// a session's sink, commit stores its content as blob h (the digest was
// checked already).
type sessionStore interface {
	create() (sink, error)
	commit(s sink, h v1.Hash) error
}

// upload is a blob upload session, hashed as it arrives.
type upload struct {
	mu    sync.Mutex
	sink  sink
	h     hash.Hash
	n     int64
	owner string
	used  time.Time
}

func (u *upload) append(r io.Reader) (int64, error) {
	n, err := io.Copy(io.MultiWriter(u.sink, u.h), r)
	u.n += n
	return n, err
}

// sessions serves the blob uploads of both stores (POST …/blobs/uploads/,
// monolithic or not; GET, PATCH, PUT and DELETE …/blobs/uploads/<id>;
// mounts are left to pkg/registry), so that
// content streams to its store instead of pkg/registry's buffers, and
// bounds them: idle sessions expire on the registry's clock and each
// principal holds at most a few, so no one can deny uploads to others.
type sessions struct {
	next  http.Handler
	store sessionStore
	blobs *linkedBlobs
	opts  options

	mu   sync.Mutex
	byID map[string]*upload
}

func (s *sessions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/v2/"), "/")
	n := len(segs)
	if n < 4 || segs[n-3] != "blobs" || segs[n-2] != "uploads" || r.URL.Query().Get("mount") != "" {
		s.next.ServeHTTP(w, r)
		return
	}
	repo, id := strings.Join(segs[:n-3], "/"), segs[n-1]
	switch {
	case id == "" && r.Method == http.MethodPost:
		s.start(w, r, repo)
	case id == "":
		s.next.ServeHTTP(w, r)
	case r.Method == http.MethodPatch || r.Method == http.MethodPut:
		s.resume(w, r, repo, id)
	case r.Method == http.MethodGet || r.Method == http.MethodDelete:
		s.status(w, r, repo, id)
	default:
		s.next.ServeHTTP(w, r)
	}
}

// uploadUnknown answers a session that does not exist or expired
// (protocols.md 3.8).
func uploadUnknown(w http.ResponseWriter) {
	regError(w, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
}

// status serves GET (progress) and DELETE (cancel) of a session.
func (s *sessions) status(w http.ResponseWriter, r *http.Request, repo, id string) {
	u, ok := s.lock(id)
	if !ok {
		uploadUnknown(w)
		return
	}
	defer u.mu.Unlock()
	if r.Method == http.MethodDelete {
		s.mu.Lock()
		delete(s.byID, id)
		s.mu.Unlock()
		u.sink.discard()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	u.used = s.opts.now()
	w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id)
	w.Header().Set("Docker-Upload-UUID", id)
	w.Header().Set("Range", uploadRange(u.n))
	w.WriteHeader(http.StatusNoContent)
}

// lock returns the live session id, locked.
func (s *sessions) lock(id string) (*upload, bool) {
	s.mu.Lock()
	u, ok := s.byID[id]
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	u.mu.Lock()
	s.mu.Lock()
	_, live := s.byID[id] // not expired meanwhile
	s.mu.Unlock()
	if !live {
		u.mu.Unlock()
		return nil, false
	}
	return u, true
}

// admit expires idle sessions and tells whether owner may open another
// one.
func (s *sessions) admit(owner string) bool {
	now := s.opts.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	held := 0
	for id, u := range s.byID {
		if !u.mu.TryLock() {
			if u.owner == owner {
				held++
			}
			continue // in use: not idle
		}
		if now.Sub(u.used) > s.opts.idleTimeout {
			delete(s.byID, id)
			u.sink.discard()
		} else if u.owner == owner {
			held++
		}
		u.mu.Unlock()
	}
	return held < s.opts.perPrincipal && len(s.byID) < s.opts.maxUploads
}

// msgTooManyRequests is ACR's throttling text (protocols.md 3.8).
const msgTooManyRequests = "Too many requests. Please visit https://aka.ms/acr/skus#sku-feature-matrix to view limits of all service tiers."

func (s *sessions) start(w http.ResponseWriter, r *http.Request, repo string) {
	owner := principalOf(r.Context())
	if !s.admit(owner) {
		s.opts.log.Info("upload refused: too many sessions in progress", "principal", owner, "repository", repo)
		regError(w, http.StatusTooManyRequests, "TOOMANYREQUESTS", msgTooManyRequests)
		return
	}
	sk, err := s.store.create()
	if err != nil {
		regError(w, http.StatusInternalServerError, "UNKNOWN", "creating upload")
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	u := &upload{sink: sk, h: sha256.New(), owner: owner, used: s.opts.now()}
	if r.ContentLength != 0 { // a first chunk, or the whole blob, in the POST body
		if _, err := u.append(r.Body); err != nil {
			sk.discard()
			regError(w, http.StatusBadRequest, "BLOB_UPLOAD_INVALID", "reading upload")
			return
		}
	}
	if r.URL.Query().Get("digest") != "" { // a monolithic upload
		s.finish(w, r, repo, u)
		return
	}
	s.mu.Lock()
	s.byID[id] = u
	s.mu.Unlock()
	accepted(w, repo, id, u.n)
}

func accepted(w http.ResponseWriter, repo, id string, n int64) {
	w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id)
	w.Header().Set("Docker-Upload-UUID", id)
	w.Header().Set("Range", uploadRange(n))
	w.WriteHeader(http.StatusAccepted)
}

func uploadRange(n int64) string {
	if n == 0 {
		return "0-0"
	}
	return "0-" + strconv.FormatInt(n-1, 10)
}

// resume serves PATCH and PUT of a session.
func (s *sessions) resume(w http.ResponseWriter, r *http.Request, repo, id string) {
	u, ok := s.lock(id)
	if !ok {
		uploadUnknown(w)
		return
	}
	defer u.mu.Unlock()
	u.used = s.opts.now()
	if cr := r.Header.Get("Content-Range"); cr != "" && r.Method == http.MethodPatch {
		start, _, _ := strings.Cut(cr, "-")
		if st, err := strconv.ParseInt(start, 10, 64); err != nil || st != u.n {
			regError(w, http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID", "Content-Range does not continue the upload")
			return
		}
	}
	if _, err := u.append(r.Body); err != nil {
		s.drop(id, u)
		regError(w, http.StatusBadRequest, "BLOB_UPLOAD_INVALID", "reading upload")
		return
	}
	if r.Method == http.MethodPatch {
		accepted(w, repo, id, u.n)
		return
	}
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
	s.finish(w, r, repo, u)
}

// finish stores the blob of a completed upload (PUT with its digest) and
// links it to repo.
func (s *sessions) finish(w http.ResponseWriter, r *http.Request, repo string, u *upload) {
	h, err := v1.NewHash(r.URL.Query().Get("digest"))
	if err != nil || h.Algorithm != "sha256" || len(h.Hex) != 64 {
		u.sink.discard()
		regError(w, http.StatusBadRequest, "DIGEST_INVALID", "unsupported digest")
		return
	}
	if got := hex.EncodeToString(u.h.Sum(nil)); got != h.Hex {
		u.sink.discard()
		writeDigestInvalid(w)
		return
	}
	if err := s.store.commit(u.sink, h); err != nil {
		regError(w, http.StatusInternalServerError, "UNKNOWN", "storing blob")
		return
	}
	if err := s.blobs.link(r.Context(), repo, h); err != nil {
		regError(w, http.StatusInternalServerError, "UNKNOWN", "linking blob")
		return
	}
	w.Header().Set("Docker-Content-Digest", h.String())
	w.Header().Set("Location", "/v2/"+repo+"/blobs/"+h.String())
	w.WriteHeader(http.StatusCreated)
}

func (s *sessions) drop(id string, u *upload) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
	u.sink.discard()
}
