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
)

// Outcomes of a decision.
const (
	Allow = "allow"
	Deny  = "deny"
	Error = "error"
)

// Decision is what one request decided.
type Decision struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Flow      string    `json:"flow"`
	Service   string    `json:"service"` // entra, oidc, imds, acr, registry
	Method    string    `json:"method"`
	Host      string    `json:"host"`
	Path      string    `json:"path"`
	Caller    string    `json:"caller"`
	Principal string    `json:"principal,omitempty"`
	// PrincipalID is the object ID of the principal, when known.
	PrincipalID string `json:"principalId,omitempty"`
	// Resource is what was asked for: a token resource, a repository scope.
	Resource string `json:"resource,omitempty"`
	Outcome  string `json:"outcome"`
	Status   int    `json:"status"`
	// Error is the exact error identifier returned (AADSTS700212, an IMDS
	// error_description, an ACR error code).
	Error  string `json:"error,omitempty"`
	Reason string `json:"reason,omitempty"`
	Hint   string `json:"hint,omitempty"`
	// TokenIn and TokenOut are IDs (jti/uti) of the tokens presented and
	// minted; they correlate hops into a flow.
	TokenIn  string `json:"tokenIn,omitempty"`
	TokenOut string `json:"tokenOut,omitempty"`
	// Facts carries structured details for diagnosis (registry, repository,
	// action, selector, node pool, issuer, subject, audience...).
	Facts map[string]string `json:"facts,omitempty"`
}

// Recorder receives finished decisions.
type Recorder interface {
	Record(Decision)
}

type ctxKey struct{}

type holder struct {
	mu sync.Mutex
	d  Decision
}

// Annotate lets the handler serving r fill in its decision. It does nothing
// when the request is not traced.
func Annotate(r *http.Request, f func(d *Decision)) {
	AnnotateContext(r.Context(), f)
}

// AnnotateContext is Annotate for a context.
func AnnotateContext(ctx context.Context, f func(d *Decision)) {
	h, ok := ctx.Value(ctxKey{}).(*holder)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.d.Facts == nil {
		h.d.Facts = map[string]string{}
	}
	f(&h.d)
}

// Fact records one structured fact on the request's decision.
func Fact(r *http.Request, key, value string) {
	Annotate(r, func(d *Decision) { d.Facts[key] = value })
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
func Middleware(service string, clock interface{ Now() time.Time }, rec Recorder) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := &holder{d: Decision{Time: clock.Now().UTC(), Service: service, Method: r.Method, Host: r.Host,
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
				d.Outcome = outcome(d.Status)
			}
			rec.Record(d)
		})
	}
}

func outcome(status int) string {
	switch {
	case status < 400:
		return Allow
	case status >= 500:
		return Error
	}
	return Deny
}
