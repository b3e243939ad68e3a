package faults

import (
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
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
