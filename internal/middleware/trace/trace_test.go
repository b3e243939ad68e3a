package trace

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// collector is a Recorder that keeps every decision.
type collector struct {
	mu sync.Mutex
	ds []api.Decision
}

func (c *collector) Record(d api.Decision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ds = append(c.ds, d)
}

func (c *collector) only(t *testing.T) api.Decision {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Len(t, c.ds, 1)
	return c.ds[0]
}

// serve runs h behind Middleware and returns the decision it recorded.
func serve(t *testing.T, h http.HandlerFunc) (api.Decision, *httptest.ResponseRecorder) {
	t.Helper()
	rec := &collector{}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	mw := Middleware("acr", fixedClock(t0), rec)(h)
	req := httptest.NewRequest(http.MethodPost, "http://azsimacr.azurecr.io/oauth2/token?x=1", nil)
	req.RemoteAddr = "10.0.0.7:4242"
	w := httptest.NewRecorder()
	mw.ServeHTTP(w, req)
	d := rec.only(t)
	assert.Equal(t, t0.UTC(), d.Time)
	assert.Equal(t, time.UTC, d.Time.Location())
	assert.Equal(t, api.ServiceACR, d.Service)
	assert.Equal(t, http.MethodPost, d.Method)
	assert.Equal(t, "azsimacr.azurecr.io", d.Host)
	assert.Equal(t, "/oauth2/token", d.Path)
	assert.Equal(t, "10.0.0.7:4242", d.Caller)
	return d, w
}

func TestMiddlewareStatusAndOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		h       http.HandlerFunc
		status  int
		outcome api.Outcome
	}{
		{"write without WriteHeader", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }, 200, api.OutcomeAllow},
		{"nothing written", func(http.ResponseWriter, *http.Request) {}, 200, api.OutcomeAllow},
		{"created", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(201) }, 201, api.OutcomeAllow},
		{"redirect", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(307) }, 307, api.OutcomeAllow},
		{"bad request", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(400) }, 400, api.OutcomeDeny},
		{"unauthorized", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(401) }, 401, api.OutcomeDeny},
		{"not found", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) }, 404, api.OutcomeDeny},
		{"too many requests", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(429) }, 429, api.OutcomeDeny},
		{"499", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(499) }, 499, api.OutcomeDeny},
		{"internal error", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }, 500, api.OutcomeError},
		{"unavailable", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }, 503, api.OutcomeError},
		{"first WriteHeader wins", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(403)
			w.WriteHeader(500)
		}, 403, api.OutcomeDeny},
		{"WriteHeader then Write", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(401)
			_, _ = w.Write([]byte("no"))
		}, 401, api.OutcomeDeny},
		{"annotated outcome wins", func(w http.ResponseWriter, r *http.Request) {
			Annotate(r, func(d *api.Decision) { d.Outcome = api.OutcomeDeny })
			w.WriteHeader(200)
		}, 200, api.OutcomeDeny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, w := serve(t, tc.h)
			assert.Equal(t, tc.status, d.Status)
			assert.Equal(t, tc.outcome, d.Outcome)
			assert.Equal(t, tc.status, w.Code)
		})
	}
}

func TestMiddlewareAnnotations(t *testing.T) {
	t.Parallel()
	d, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		Annotate(r, func(d *api.Decision) {
			d.Principal, d.PrincipalID = "aks1-agentpool", "oid"
			d.TokenIn = "jti-in"
		})
		AnnotateContext(r.Context(), func(d *api.Decision) {
			d.Error, d.Reason = "UNAUTHORIZED", "no role"
			d.TokenOut = "jti-out"
		})
		Fact(r, "registry", "azsimacr.azurecr.io")
		Fact(r, "repository", "hello")
		Fact(r, "repository", "hello2") // last write wins
		w.WriteHeader(http.StatusUnauthorized)
	})
	assert.Equal(t, "aks1-agentpool", d.Principal)
	assert.Equal(t, "oid", d.PrincipalID)
	assert.Equal(t, "UNAUTHORIZED", d.Error)
	assert.Equal(t, "no role", d.Reason)
	assert.Equal(t, "jti-in", d.TokenIn)
	assert.Equal(t, "jti-out", d.TokenOut)
	assert.Equal(t, api.Facts{"registry": "azsimacr.azurecr.io", "repository": "hello2"}, d.Facts)
	assert.Equal(t, api.OutcomeDeny, d.Outcome)
}

func TestMiddlewareFactsNilWithoutAnnotation(t *testing.T) {
	t.Parallel()
	d, _ := serve(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) })
	assert.Nil(t, d.Facts)
}

func TestMiddlewareUnwrap(t *testing.T) {
	t.Parallel()
	// http.ResponseController reaches the underlying writer's Flush
	// through statusWriter.Unwrap.
	d, w := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("x"))
		assert.NoError(t, http.NewResponseController(w).Flush())
	})
	assert.True(t, w.Flushed)
	assert.Equal(t, 200, d.Status)
}

func TestAnnotateNotTraced(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		call func(r *http.Request, f func(*api.Decision))
	}{
		{"Annotate", func(r *http.Request, f func(*api.Decision)) { Annotate(r, f) }},
		{"AnnotateContext", func(r *http.Request, f func(*api.Decision)) { AnnotateContext(r.Context(), f) }},
		{"AnnotateContext background", func(_ *http.Request, f func(*api.Decision)) { AnnotateContext(context.Background(), f) }},
		{"AnnotateContext wrong value type", func(_ *http.Request, f func(*api.Decision)) {
			AnnotateContext(context.WithValue(context.Background(), ctxKey{}, "not a holder"), f)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			called := false
			tc.call(r, func(*api.Decision) { called = true })
			assert.False(t, called, "f must not run for an untraced request")
		})
	}
	assert.NotPanics(t, func() { Fact(httptest.NewRequest(http.MethodGet, "/", nil), "k", "v") })
}
