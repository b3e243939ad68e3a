package ocistore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

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
