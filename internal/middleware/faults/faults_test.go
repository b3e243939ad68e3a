package faults

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
)

// fakeSleep records the latencies the middleware asked for.
type fakeSleep struct {
	mu sync.Mutex
	d  []time.Duration
}

func (f *fakeSleep) sleep(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.d = append(f.d, d)
}

func (f *fakeSleep) got() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.d...)
}

func newSet(t *testing.T, rnd func() float64) (*Set, *fakeSleep) {
	t.Helper()
	s := NewSet(rnd, served...)
	fs := &fakeSleep{}
	s.sleep = fs.sleep
	return s, fs
}

// through serves one request of service through the set's middleware in
// front of a fake that answers 200 "fake".
func through(t *testing.T, s *Set, service, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	fake := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Fake", "1")
		_, _ = w.Write([]byte("fake"))
	})
	w := httptest.NewRecorder()
	s.Middleware(api.Service(service))(fake).ServeHTTP(w, httptest.NewRequest(method, target, nil))
	return w
}

func mustAdd(t *testing.T, s *Set, r api.FaultRule) api.FaultRule {
	t.Helper()
	added, err := s.Add(r)
	require.NoError(t, err)
	return added
}

func TestAddAssignsIDsAndRejectsInvalid(t *testing.T) {
	t.Parallel()
	s, _ := newSet(t, nil)
	a := mustAdd(t, s, api.FaultRule{ID: "ignored", Status: 500, Count: 3, Remaining: 99})
	b := mustAdd(t, s, api.FaultRule{Latency: "1s"})
	assert.Equal(t, "fault-1", a.ID)
	assert.Equal(t, "fault-2", b.ID)
	assert.Equal(t, 3, a.Remaining, "Remaining starts at Count")
	_, err := s.Add(api.FaultRule{Status: 42})
	require.Error(t, err)
	assert.Len(t, s.List(), 2)
	c := mustAdd(t, s, api.FaultRule{Status: 500})
	assert.Equal(t, "fault-3", c.ID, "a rejected rule uses no ID")
}

func TestMiddlewareAnswers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		rule        api.FaultRule
		status      int
		body        string
		contentType string
		headers     map[string]string
	}{
		{"status with JSON body", api.FaultRule{Status: 503, Body: ` {"error":"unavailable"}`}, 503, ` {"error":"unavailable"}`, "application/json; charset=utf-8", nil},
		{"status without body", api.FaultRule{Status: 500}, 500, "", "", nil},
		{"text body is not JSON", api.FaultRule{Status: 502, Body: "bad gateway"}, 502, "bad gateway", "", nil},
		{"headers", api.FaultRule{Status: 429, Headers: map[string]string{"Retry-After": "7", "X-Ms-Request-Id": "r"}}, 429, "", "", map[string]string{"Retry-After": "7", "X-Ms-Request-Id": "r"}},
		{"explicit content type wins", api.FaultRule{Status: 400, Body: `{"a":1}`, Headers: map[string]string{"Content-Type": "application/problem+json"}}, 400, `{"a":1}`, "application/problem+json", nil},
		{"a rule cannot forge the fault header", api.FaultRule{Status: 418, Headers: map[string]string{"X-Azsim-Fault": "forged"}}, 418, "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, sl := newSet(t, nil)
			r := mustAdd(t, s, tc.rule)
			w := through(t, s, "acr", http.MethodGet, "/oauth2/token")
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, tc.body, w.Body.String())
			assert.Equal(t, r.ID, w.Header().Get("X-Azsim-Fault"))
			assert.Empty(t, w.Header().Get("X-Fake"), "the fake is not called")
			// "" means the middleware sets none (net/http sniffs one).
			assert.Equal(t, tc.contentType, w.Header().Get("Content-Type"))
			for k, v := range tc.headers {
				assert.Equal(t, v, w.Header().Get(k))
			}
			assert.Empty(t, sl.got(), "no latency, no sleep")
		})
	}
}

func TestMiddlewareNoRulePassesThrough(t *testing.T) {
	t.Parallel()
	s, sl := newSet(t, nil)
	mustAdd(t, s, api.FaultRule{Service: "imds", Status: 500})
	mustAdd(t, s, api.FaultRule{Path: "/v2/*", Status: 500})
	mustAdd(t, s, api.FaultRule{Method: "POST", Status: 500})
	w := through(t, s, "acr", http.MethodGet, "/oauth2/token")
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "fake", w.Body.String())
	assert.Empty(t, w.Header().Get("X-Azsim-Fault"))
	assert.Empty(t, sl.got())
	for _, r := range s.List() {
		assert.Zero(t, r.Hits)
	}
}

func TestMiddlewareLatency(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		rule   api.FaultRule
		status int
		body   string
	}{
		{"latency only reaches the fake", api.FaultRule{Latency: "2s"}, 200, "fake"},
		{"latency then status", api.FaultRule{Latency: "1500ms", Status: 504, Body: "timeout"}, 504, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, sl := newSet(t, nil)
			r := mustAdd(t, s, tc.rule)
			w := through(t, s, "entra", http.MethodPost, "/tenant/oauth2/v2.0/token")
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, tc.body, w.Body.String())
			d, _ := time.ParseDuration(tc.rule.Latency)
			assert.Equal(t, []time.Duration{d}, sl.got())
			if tc.rule.Status == 0 {
				assert.Empty(t, w.Header().Get("X-Azsim-Fault"))
				assert.Equal(t, "1", w.Header().Get("X-Fake"))
			} else {
				assert.Equal(t, r.ID, w.Header().Get("X-Azsim-Fault"))
			}
			assert.Equal(t, 1, s.List()[0].Hits)
		})
	}
}

func TestMiddlewareCount(t *testing.T) {
	t.Parallel()
	s, _ := newSet(t, nil)
	r := mustAdd(t, s, api.FaultRule{Service: "imds", Status: 429, Count: 2})
	unlimited := mustAdd(t, s, api.FaultRule{Service: "entra", Status: 500})

	w := through(t, s, "imds", http.MethodGet, "/metadata/identity/oauth2/token")
	assert.Equal(t, 429, w.Code)
	ls := s.List()
	require.Len(t, ls, 2)
	assert.Equal(t, 1, ls[0].Remaining)
	assert.Equal(t, 1, ls[0].Hits)

	assert.Equal(t, 429, through(t, s, "imds", http.MethodGet, "/").Code)
	ls = s.List()
	require.Len(t, ls, 1, "an exhausted rule is removed")
	assert.Equal(t, unlimited.ID, ls[0].ID)
	assert.False(t, s.Delete(r.ID))

	assert.Equal(t, 200, through(t, s, "imds", http.MethodGet, "/").Code)
	for range 5 {
		assert.Equal(t, 500, through(t, s, "entra", http.MethodGet, "/").Code)
	}
	ls = s.List()
	require.Len(t, ls, 1)
	assert.Equal(t, 5, ls[0].Hits)
	assert.Zero(t, ls[0].Remaining)
}

func TestMiddlewareFirstMatchingRuleWins(t *testing.T) {
	t.Parallel()
	s, _ := newSet(t, nil)
	mustAdd(t, s, api.FaultRule{Path: "/v2/*", Status: 401, Count: 1})
	mustAdd(t, s, api.FaultRule{Status: 500})
	assert.Equal(t, 401, through(t, s, "registry", http.MethodGet, "/v2/").Code)
	assert.Equal(t, 500, through(t, s, "registry", http.MethodGet, "/v2/").Code)
}

func TestMiddlewareProbability(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		probability float64
		draws       []float64
		fires       []bool
	}{
		{"zero means always", 0, []float64{0.99, 0}, []bool{true, true}},
		{"one means always", 1, []float64{0, 0.999999}, []bool{true, true}},
		{"half", 0.5, []float64{0.1, 0.5, 0.49, 0.9}, []bool{true, false, true, false}},
		{"small", 0.01, []float64{0.009, 0.01, 0.5}, []bool{true, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			i := 0
			calls := 0
			rnd := func() float64 {
				mu.Lock()
				defer mu.Unlock()
				calls++
				v := tc.draws[i%len(tc.draws)]
				i++
				return v
			}
			s, _ := newSet(t, rnd)
			mustAdd(t, s, api.FaultRule{Status: 503, Probability: tc.probability})
			// With probability 0 the rule never draws; step the draws by hand.
			for k, want := range tc.fires {
				if tc.probability == 0 {
					i = k
				}
				code := through(t, s, "acr", http.MethodGet, "/").Code
				if want {
					assert.Equal(t, 503, code, "request %d", k)
				} else {
					assert.Equal(t, 200, code, "request %d", k)
				}
			}
			if tc.probability == 0 {
				assert.Zero(t, calls, "an unconditional rule draws nothing")
			}
		})
	}
}

func TestMiddlewareProbabilitySkipDoesNotConsumeCount(t *testing.T) {
	t.Parallel()
	draws := []float64{0.9, 0.9, 0.1}
	i := 0
	s, _ := newSet(t, func() float64 { v := draws[i]; i++; return v })
	mustAdd(t, s, api.FaultRule{Status: 500, Probability: 0.5, Count: 1})
	assert.Equal(t, 200, through(t, s, "acr", http.MethodGet, "/").Code)
	assert.Equal(t, 200, through(t, s, "acr", http.MethodGet, "/").Code)
	require.Len(t, s.List(), 1)
	assert.Equal(t, 1, s.List()[0].Remaining)
	assert.Equal(t, 500, through(t, s, "acr", http.MethodGet, "/").Code)
	assert.Empty(t, s.List())
}

// recorder collects trace decisions.
type recorder struct {
	mu sync.Mutex
	ds []api.Decision
}

func (r *recorder) Record(d api.Decision) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ds = append(r.ds, d)
}

type clock struct{}

func (clock) Now() time.Time { return time.Unix(0, 0) }

func TestMiddlewareAnnotatesTrace(t *testing.T) {
	t.Parallel()
	s, _ := newSet(t, nil)
	r := mustAdd(t, s, api.FaultRule{Service: "imds", Status: 429})
	rec := &recorder{}
	h := trace.Middleware("imds", clock{}, rec)(s.Middleware("imds")(http.NotFoundHandler()))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metadata/identity/oauth2/token", nil))
	require.Len(t, rec.ds, 1)
	d := rec.ds[0]
	assert.Equal(t, 429, d.Status)
	assert.Equal(t, api.OutcomeDeny, d.Outcome)
	assert.Equal(t, "injected fault", d.Error)
	assert.Equal(t, "fault "+r.ID+" answered 429", d.Reason)
}

func TestDeleteAndList(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		id      string
		removed bool
		left    []string
	}{
		{"one by id", "fault-2", true, []string{"fault-1", "fault-3"}},
		{"the first", "fault-1", true, []string{"fault-2", "fault-3"}},
		{"the last", "fault-3", true, []string{"fault-1", "fault-2"}},
		{"unknown id", "fault-9", false, []string{"fault-1", "fault-2", "fault-3"}},
		{"all", "", true, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newSet(t, nil)
			for range 3 {
				mustAdd(t, s, api.FaultRule{Status: 500})
			}
			assert.Equal(t, tc.removed, s.Delete(tc.id))
			ids := []string{}
			for _, r := range s.List() {
				ids = append(ids, r.ID)
			}
			assert.Equal(t, tc.left, ids)
		})
	}
	s, _ := newSet(t, nil)
	assert.False(t, s.Delete(""), "deleting all of nothing removes nothing")
	assert.NotNil(t, s.List())
	assert.Empty(t, s.List())
}

func TestListReturnsCopies(t *testing.T) {
	t.Parallel()
	s, _ := newSet(t, nil)
	mustAdd(t, s, api.FaultRule{Status: 500, Count: 5})
	ls := s.List()
	ls[0].Status = 200
	ls[0].Remaining = 0
	ls[0].ID = "changed"
	again := s.List()
	assert.Equal(t, 500, again[0].Status)
	assert.Equal(t, 5, again[0].Remaining)
	assert.Equal(t, "fault-1", again[0].ID)
	assert.Equal(t, 500, through(t, s, "acr", http.MethodGet, "/").Code)
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s, _ := newSet(t, nil)
	mustAdd(t, s, api.FaultRule{Status: 500, Count: 50})
	var wg sync.WaitGroup
	codes := make(chan int, 100)
	for range 100 {
		wg.Go(func() { codes <- through(t, s, "acr", http.MethodGet, "/").Code })
	}
	wg.Go(func() {
		for range 20 {
			_ = s.List()
			mustAdd(t, s, api.FaultRule{Service: "oidc", Status: 500})
			s.Delete("fault-999")
		}
	})
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	assert.Equal(t, map[int]int{500: 50, 200: 50}, n, "exactly Count requests hit the rule")
}
