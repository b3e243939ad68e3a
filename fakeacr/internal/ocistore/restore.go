package ocistore

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
)

// persistent wraps a backend handler kept on disk: manifest pushes and
// deletes it accepted are recorded, and replayed at start.
type persistent struct {
	next http.Handler
	disk *diskStore
	log  *slog.Logger
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

// manifest records manifest pushes and deletes that pkg/registry accepted.
// A push by tag is recorded under its digest too, as pkg/registry keeps
// it: an index naming it by digest still restores after the tag moves.
func (p *persistent) manifest(w http.ResponseWriter, r *http.Request, repo, ref string) {
	var body []byte
	if r.Method == http.MethodPut {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			regError(w, http.StatusBadRequest, "MANIFEST_INVALID", "manifest unreadable")
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
		m := storedManifest{Repository: repo, Reference: ref, ContentType: r.Header.Get("Content-Type"), Body: body}
		if err := p.disk.saveManifest(m); err != nil {
			p.log.Warn("registry storage: recording a manifest", "repository", repo, "reference", ref, "error", err)
		}
		if d := sw.Header().Get("Docker-Content-Digest"); d != "" && d != ref {
			m.Reference = d
			_ = p.disk.saveManifest(m)
		}
	case r.Method == http.MethodDelete && sw.status == http.StatusAccepted:
		p.disk.deleteManifest(repo, ref)
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
