package faults

import (
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
)

// served are the services the simulator tags requests with.
var served = []api.Service{api.ServiceEntra, api.ServiceOIDC, api.ServiceIMDS, api.ServiceACR, api.ServiceRegistry}

func TestRuleValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		rule    api.FaultRule
		latency time.Duration
		errs    []string // every substring must appear; none means valid
	}{
		{"status only", api.FaultRule{Status: 503}, 0, nil},
		{"latency only", api.FaultRule{Latency: "250ms"}, 250 * time.Millisecond, nil},
		{"every service", api.FaultRule{Service: "*", Status: 500}, 0, nil},
		{"entra", api.FaultRule{Service: "entra", Status: 500}, 0, nil},
		{"oidc", api.FaultRule{Service: "oidc", Status: 500}, 0, nil},
		{"imds", api.FaultRule{Service: "imds", Status: 429}, 0, nil},
		{"acr", api.FaultRule{Service: "acr", Status: 500}, 0, nil},
		{"registry", api.FaultRule{Service: "registry", Status: 500}, 0, nil},
		{"bounds", api.FaultRule{Status: 599, Latency: "5m", Probability: 1, Count: 0, Path: "/v2/*"}, 5 * time.Minute, nil},
		{"low bounds", api.FaultRule{Status: 100, Latency: "0s", Probability: 0}, 0, nil},
		{"glob path", api.FaultRule{Status: 500, Path: "/v2/*/manifests/[a-z]*"}, 0, nil},
		{"unknown service", api.FaultRule{Service: "arm", Status: 500}, 0, []string{`service: "arm" is not one of`}},
		{"service is case-sensitive", api.FaultRule{Service: "IMDS", Status: 500}, 0, []string{`service: "IMDS"`}},
		{"status too low", api.FaultRule{Status: 42}, 0, []string{"status: 42 is not an HTTP status"}},
		{"status too high", api.FaultRule{Status: 600}, 0, []string{"status: 600 is not an HTTP status"}},
		{"negative status", api.FaultRule{Status: -1}, 0, []string{"status: -1"}},
		{"nothing to do", api.FaultRule{}, 0, []string{"a fault needs a status or a latency"}},
		{"zero latency does nothing", api.FaultRule{Latency: "0s"}, 0, []string{"a fault needs a status or a latency"}},
		{"bad latency", api.FaultRule{Status: 500, Latency: "soon"}, 0, []string{"latency: "}},
		{"negative latency", api.FaultRule{Status: 500, Latency: "-1s"}, -time.Second, []string{"latency: -1s must be between 0 and 5m"}},
		{"latency too long", api.FaultRule{Latency: "6m"}, 6 * time.Minute, []string{"latency: 6m0s must be between 0 and 5m"}},
		{"probability too high", api.FaultRule{Status: 500, Probability: 1.5}, 0, []string{"probability: 1.5 must be between 0 and 1"}},
		{"negative probability", api.FaultRule{Status: 500, Probability: -0.1}, 0, []string{"probability: -0.1"}},
		{"NaN probability", api.FaultRule{Status: 500, Probability: math.NaN()}, 0, []string{"probability: NaN"}},
		{"negative count", api.FaultRule{Status: 500, Count: -2}, 0, []string{"count: -2 must not be negative"}},
		{"bad path", api.FaultRule{Status: 500, Path: "/v2/[a-"}, 0, []string{"path: "}},
		{"bad glob before a trailing star", api.FaultRule{Status: 500, Path: "/v2/[*"}, 0, []string{"path: "}},
		{"every problem reported", api.FaultRule{Service: "nope", Status: 700, Latency: "x", Probability: 2, Count: -1, Path: "["}, 0, []string{
			"service: ", "status: 700", "latency: ", "probability: 2", "count: -1", "path: ",
		}},
		{"status and latency both missing with other problems", api.FaultRule{Service: "nope"}, 0, []string{
			"service: ", "a fault needs a status or a latency",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := tc.rule
			latency, err := Validate(r, served)
			if len(tc.errs) == 0 {
				require.NoError(t, err)
				assert.Equal(t, tc.latency, latency)
				return
			}
			require.Error(t, err)
			for _, e := range tc.errs {
				assert.Contains(t, err.Error(), e)
			}
			assert.Len(t, strings.Split(err.Error(), "\n"), len(tc.errs), "one line per problem: %v", err)
		})
	}
}

func req(method, p string) *http.Request {
	return &http.Request{Method: method, URL: &url.URL{Path: p}, Header: http.Header{}}
}

func TestRuleMatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		rule    api.FaultRule
		service string
		method  string
		path    string
		want    bool
	}{
		{"empty path matches all", api.FaultRule{}, "acr", "GET", "/anything/at/all", true},
		{"empty path matches root", api.FaultRule{}, "acr", "GET", "/", true},
		{"exact path", api.FaultRule{Path: "/v2/"}, "registry", "GET", "/v2/", true},
		{"exact path differs", api.FaultRule{Path: "/v2/"}, "registry", "GET", "/v2", false},
		{"prefix with trailing star", api.FaultRule{Path: "/metadata/identity/*"}, "imds", "GET", "/metadata/identity/oauth2/token", true},
		{"prefix crosses slashes", api.FaultRule{Path: "/v2/*"}, "registry", "GET", "/v2/hello/manifests/v1", true},
		{"prefix itself", api.FaultRule{Path: "/v2/*"}, "registry", "GET", "/v2/", true},
		{"prefix mismatch", api.FaultRule{Path: "/v2/*"}, "registry", "GET", "/oauth2/token", false},
		{"bare star prefix", api.FaultRule{Path: "*"}, "acr", "GET", "/x/y", true},
		{"prefix without slash", api.FaultRule{Path: "/oauth2/tok*"}, "acr", "POST", "/oauth2/token", true},
		{"glob stays in one segment", api.FaultRule{Path: "/v2/*/manifests/*"}, "registry", "GET", "/v2/hello/manifests/v1", true},
		{"glob does not cross slashes", api.FaultRule{Path: "/v2/*/manifests/*"}, "registry", "GET", "/v2/a/b/manifests/v1", false},
		{"glob question mark", api.FaultRule{Path: "/v?/"}, "registry", "GET", "/v2/", true},
		{"glob class", api.FaultRule{Path: "/[a-c]/x"}, "registry", "GET", "/b/x", true},
		{"glob class mismatch", api.FaultRule{Path: "/[a-c]/x"}, "registry", "GET", "/d/x", false},
		{"bad pattern never matches", api.FaultRule{Path: "/v2/[*"}, "registry", "GET", "/v2/[x", false},
		{"method filter", api.FaultRule{Method: "POST"}, "entra", "POST", "/t", true},
		{"method filter is case-insensitive", api.FaultRule{Method: "post"}, "entra", "POST", "/t", true},
		{"method filter mismatch", api.FaultRule{Method: "POST"}, "entra", "GET", "/t", false},
		{"service filter", api.FaultRule{Service: "imds"}, "imds", "GET", "/", true},
		{"service filter mismatch", api.FaultRule{Service: "imds"}, "entra", "GET", "/", false},
		{"any service star", api.FaultRule{Service: "*"}, "oidc", "GET", "/", true},
		{"any service empty", api.FaultRule{Service: ""}, "registry", "GET", "/", true},
		{"all filters", api.FaultRule{Service: "acr", Method: "POST", Path: "/oauth2/*"}, "acr", "POST", "/oauth2/exchange", true},
		{"all filters, wrong service", api.FaultRule{Service: "acr", Method: "POST", Path: "/oauth2/*"}, "registry", "POST", "/oauth2/exchange", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := rule{FaultRule: tc.rule}
			assert.Equal(t, tc.want, r.matches(api.Service(tc.service), req(tc.method, tc.path)))
		})
	}
}

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

func FuzzRule(f *testing.F) {
	f.Add("acr", "/v2/*", "GET", 500, "10ms", 0.5, 2, "/v2/hello/manifests/v1", 0.3)
	f.Add("", "", "", 0, "", 0.0, 0, "", 0.0)
	f.Add("*", "[", "post", 99, "-1s", 1.5, -1, "/[", 0.9)
	f.Add("imds", "/a\\*", "GET", 429, "1h", 1.0, 1, "/a*", 0.0)
	f.Fuzz(func(t *testing.T, service, p, method string, status int, latencyText string, prob float64, count int, reqPath string, draw float64) {
		r := api.FaultRule{Service: api.Service(service), Path: p, Method: method, Status: status, Latency: latencyText, Probability: prob, Count: count}
		latency, err := Validate(r, served)
		_ = (&rule{FaultRule: r}).matches(api.Service(service), req(method, reqPath))
		s := NewSet(func() float64 { return draw }, served...)
		s.sleep = func(time.Duration) {}
		added, addErr := s.Add(r)
		if (err == nil) != (addErr == nil) {
			t.Fatalf("Validate %v but Add %v", err, addErr)
		}
		if addErr != nil {
			return
		}
		if added.Latency != "" && latency < 0 {
			t.Fatalf("a valid rule with negative latency %v", latency)
		}
		if added.Status != 0 && (added.Status < 100 || added.Status > 599) {
			t.Fatalf("a valid rule with status %d", added.Status)
		}
		w := httptest.NewRecorder()
		hr := req(method, reqPath)
		if hr.Method == "" {
			hr.Method = http.MethodGet
		}
		s.Middleware(api.Service(service))(http.NotFoundHandler()).ServeHTTP(w, hr)
		if fired := w.Header().Get("X-Azsim-Fault"); fired != "" && fired != added.ID {
			t.Fatalf("fault header %q, want %q", fired, added.ID)
		}
	})
}
