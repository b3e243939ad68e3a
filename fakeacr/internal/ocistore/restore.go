package ocistore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// persistent wraps a backend handler kept on disk: manifest pushes and
// deletes it accepts are recorded, and replayed at start.
type persistent struct {
	next http.Handler
	disk *diskStore
	log  *slog.Logger
	mu   sync.Mutex // orders the changes of disk and backend alike
}

func (p *persistent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/v2/"), "/")
	n := len(segs)
	if n >= 3 && segs[n-2] == "manifests" && (r.Method == http.MethodPut || r.Method == http.MethodDelete) {
		p.manifest(w, r, strings.Join(segs[:n-2], "/"), segs[n-1])
		return
	}
	p.next.ServeHTTP(w, r)
}

// manifest records a manifest push or delete on disk before the backend
// takes it, and undoes the record when the backend refuses it: disk and
// backend never disagree, and a change that cannot be recorded is refused
// (500) with nothing left that a restart would restore.
func (p *persistent) manifest(w http.ResponseWriter, r *http.Request, repo, ref string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var (
		j    journal
		err  error
		want = http.StatusAccepted
	)
	if r.Method == http.MethodPut {
		want = http.StatusCreated
		err = p.recordPut(&j, r, repo, ref)
	} else {
		err = p.disk.removeManifest(&j, repo, ref)
	}
	if err != nil {
		p.log.Warn("registry storage: recording a manifest change", "method", r.Method,
			"repository", repo, "reference", ref, "error", err)
		p.undo(j)
		regError(w, http.StatusInternalServerError, "UNKNOWN", "storing manifest")
		return
	}
	sw := &statusRecorder{ResponseWriter: w}
	p.next.ServeHTTP(sw, r)
	if sw.status != want {
		p.undo(j)
	}
}

// recordPut saves a pushed manifest under its digest, then under its tag:
// pkg/registry keeps it under both, and an index naming it by digest still
// restores after the tag moves.
func (p *persistent) recordPut(j *journal, r *http.Request, repo, ref string) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("reading manifest: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sum, _, err := v1.SHA256(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("hashing manifest: %w", err)
	}
	m := storedManifest{Repository: repo, Reference: sum.String(), ContentType: r.Header.Get("Content-Type"), Body: body}
	if err := p.disk.saveManifest(j, m); err != nil {
		return err
	}
	if ref == m.Reference {
		return nil
	}
	m.Reference = ref
	return p.disk.saveManifest(j, m)
}

// undo puts back the manifest files j changed, logging what it cannot.
func (p *persistent) undo(j journal) {
	if err := p.disk.undo(j); err != nil {
		p.log.Warn("registry storage: undoing a manifest change", "error", err)
	}
}

// replay puts the stored manifests back into the backend at start, in as
// many passes as indexes need their children first. What cannot be
// restored (a file unreadable, an index whose child is gone) is logged and
// counted; the rest is served.
func (p *persistent) replay(ctx context.Context) (unrestored int) {
	ms, bad := p.disk.loadManifests(p.log)
	for len(ms) > 0 {
		var retry []storedManifest
		for _, m := range ms {
			if st := p.restore(ctx, m); st != http.StatusCreated {
				retry = append(retry, m)
			}
		}
		if len(retry) == len(ms) {
			break
		}
		ms = retry
	}
	for _, m := range ms {
		p.log.Warn("registry storage: a manifest could not be restored", "repository", m.Repository,
			"reference", m.Reference, "status", p.restore(ctx, m))
	}
	return bad + len(ms)
}

func (p *persistent) restore(ctx context.Context, m storedManifest) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "/v2/"+m.Repository+"/manifests/"+m.Reference, bytes.NewReader(m.Body))
	if err != nil {
		return http.StatusBadRequest
	}
	req.Header.Set("Content-Type", m.ContentType)
	rec := &statusRecorder{ResponseWriter: discardWriter{h: http.Header{}}}
	p.next.ServeHTTP(rec, withRepoContext(req))
	return rec.status
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
