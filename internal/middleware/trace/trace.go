// Package trace records one decision per request the fakes answer: who
// asked what, the outcome, the exact error returned, why, and — where a known
// pitfall explains it — a hint naming the pitfall and its fix.
//
// Fakes annotate the decision of the request they are serving through the
// request context (Annotate); Middleware creates the decision, captures the
// status and hands it to a Recorder when the handler returns. Decisions are
// correlated into flows by the IDs of the tokens presented and minted (a
// service-account token's jti, an Entra token's uti, an ACR token's jti),
// never by whole tokens.
package trace

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/azsim/azsim/api"
)

// Recorder receives finished decisions.
type Recorder interface {
	Record(api.Decision)
}

type ctxKey struct{}

type holder struct {
	mu sync.Mutex
	d  api.Decision
}

// Annotate lets the handler serving r fill in its decision. It does nothing
// when the request is not traced.
func Annotate(r *http.Request, f func(d *api.Decision)) {
	AnnotateContext(r.Context(), f)
}

// AnnotateContext is Annotate for a context.
func AnnotateContext(ctx context.Context, f func(d *api.Decision)) {
	h, ok := ctx.Value(ctxKey{}).(*holder)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.d.Facts == nil {
		h.d.Facts = api.Facts{}
	}
	f(&h.d)
}

// Fact records one structured fact on the request's decision.
func Fact(r *http.Request, key api.FactKey, value string) {
	Annotate(r, func(d *api.Decision) { d.Facts[key] = value })
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Middleware traces every request to next as a decision of service, timed
// with clock, and records it with rec.
func Middleware(service api.Service, clock interface{ Now() time.Time }, rec Recorder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := &holder{d: api.Decision{Time: clock.Now().UTC(), Service: service, Method: r.Method, Host: r.Host,
				Path: r.URL.Path, Caller: r.RemoteAddr}}
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), ctxKey{}, h)))
			h.mu.Lock()
			d := h.d
			h.mu.Unlock()
			d.Status = sw.status
			if d.Status == 0 {
				// The handler wrote nothing: net/http answers 200.
				d.Status = http.StatusOK
			}
			if d.Outcome == "" {
				d.Outcome = api.OutcomeOf(d.Status)
			}
			rec.Record(d)
		})
	}
}
