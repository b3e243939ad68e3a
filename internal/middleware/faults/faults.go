// Package faults injects failures into the fakes: per service and endpoint,
// a status code with a body and headers (such as Retry-After), added
// latency, a probability and a count. Rules are managed through the admin
// API (POST|DELETE /api/faults) and applied by Middleware in front of each
// fake, so the fakes themselves stay unaware of them.
package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
)

// rule is an installed fault with its latency parsed.
type rule struct {
	api.FaultRule
	latency time.Duration
}

// Validate checks a rule against the services requests are tagged with
// (targets) and reports every problem; it returns the rule's latency. A
// rule for a service nothing is tagged with could never fire, so it is
// refused.
func Validate(r api.FaultRule, targets []api.Service) (time.Duration, error) {
	var errs []error
	var latency time.Duration
	if r.Service != "" && r.Service != "*" && !slices.Contains(targets, r.Service) {
		errs = append(errs, fmt.Errorf("service: %q is not one of %s", r.Service, serviceNames(targets)))
	}
	if r.Status != 0 && (r.Status < 100 || r.Status > 599) {
		errs = append(errs, fmt.Errorf("status: %d is not an HTTP status", r.Status))
	}
	if r.Latency != "" {
		d, err := time.ParseDuration(r.Latency)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("latency: %v", err))
		case d < 0 || d > 5*time.Minute:
			errs = append(errs, fmt.Errorf("latency: %s must be between 0 and 5m", d))
		}
		latency = d
	}
	if r.Status == 0 && latency == 0 {
		errs = append(errs, errors.New("a fault needs a status or a latency"))
	}
	if !(r.Probability >= 0 && r.Probability <= 1) { // also NaN
		errs = append(errs, fmt.Errorf("probability: %v must be between 0 and 1", r.Probability))
	}
	if r.Count < 0 {
		errs = append(errs, fmt.Errorf("count: %d must not be negative", r.Count))
	}
	if _, err := path.Match(strings.TrimSuffix(r.Path, "*"), ""); err != nil {
		errs = append(errs, fmt.Errorf("path: %v", err))
	}
	return latency, errors.Join(errs...)
}

func serviceNames(targets []api.Service) string {
	names := make([]string, 0, len(targets))
	for _, s := range targets {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

func (r *rule) matches(service api.Service, req *http.Request) bool {
	if r.Service != "" && r.Service != "*" && r.Service != service {
		return false
	}
	if r.Method != "" && !strings.EqualFold(r.Method, req.Method) {
		return false
	}
	switch {
	case r.Path == "":
		return true
	case strings.HasSuffix(r.Path, "*") && !strings.ContainsAny(r.Path[:len(r.Path)-1], "*?["):
		return strings.HasPrefix(req.URL.Path, strings.TrimSuffix(r.Path, "*"))
	}
	ok, _ := path.Match(r.Path, req.URL.Path)
	return ok
}

// Set holds the active rules. It is safe for concurrent use.
type Set struct {
	mu    sync.Mutex
	rules []*rule
	next  int
	rand  func() float64
	// targets are the services requests are tagged with.
	targets []api.Service
	sleep   func(time.Duration) // tests stub it; nil waits on a timer that the request's cancellation cuts short
}

// NewSet returns an empty set for rules that target the services whose
// requests Middleware tags (targets); rnd decides probabilistic rules (nil:
// a random source).
func NewSet(rnd func() float64, targets ...api.Service) *Set {
	if rnd == nil {
		rnd = rand.Float64
	}
	return &Set{rand: rnd, targets: targets}
}

// Add validates and installs a rule; it returns the rule with its ID.
func (s *Set) Add(r api.FaultRule) (api.FaultRule, error) {
	latency, err := Validate(r, s.targets)
	if err != nil {
		return api.FaultRule{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	r.ID = "fault-" + strconv.Itoa(s.next)
	r.Remaining = r.Count
	s.rules = append(s.rules, &rule{FaultRule: r, latency: latency})
	return r, nil
}

// Delete removes the rule id, or every rule when id is empty. It reports
// whether anything was removed.
func (s *Set) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		n := len(s.rules)
		s.rules = nil
		return n > 0
	}
	for i, r := range s.rules {
		if r.ID == id {
			s.rules = append(s.rules[:i], s.rules[i+1:]...)
			return true
		}
	}
	return false
}

// List returns copies of the active rules.
func (s *Set) List() []api.FaultRule {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]api.FaultRule, 0, len(s.rules))
	for _, r := range s.rules {
		out = append(out, r.FaultRule)
	}
	return out
}

// pick returns the rule that fires for req, consuming one of its count.
func (s *Set) pick(service api.Service, req *http.Request) (rule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.rules {
		if !r.matches(service, req) {
			continue
		}
		if r.Probability > 0 && s.rand() >= r.Probability {
			continue
		}
		r.Hits++
		fired := *r
		if r.Count > 0 {
			r.Remaining--
			if r.Remaining == 0 {
				s.rules = append(s.rules[:i], s.rules[i+1:]...)
			}
		}
		return fired, true
	}
	return rule{}, false
}

// Middleware applies the set's rules to requests of service.
func (s *Set) Middleware(service api.Service) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r, ok := s.pick(service, req)
			if !ok {
				next.ServeHTTP(w, req)
				return
			}
			if r.latency > 0 && !s.wait(req, r.latency) {
				return // the client went away during the injected latency
			}
			if r.Status == 0 {
				next.ServeHTTP(w, req)
				return
			}
			for k, v := range r.Headers {
				w.Header().Set(k, v)
			}
			if w.Header().Get("Content-Type") == "" && strings.HasPrefix(strings.TrimSpace(r.Body), "{") {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
			}
			trace.Annotate(req, func(d *api.Decision) {
				d.Error, d.Reason = "injected fault", "fault "+r.ID+" answered "+strconv.Itoa(r.Status)
			})
			w.Header().Set("X-Azsim-Fault", r.ID)
			w.WriteHeader(r.Status)
			_, _ = w.Write([]byte(r.Body))
		})
	}
}

// wait delays the request by d, or less when the client goes away; it
// reports whether the request should go on.
func (s *Set) wait(req *http.Request, d time.Duration) bool {
	if s.sleep != nil {
		s.sleep(d)
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-req.Context().Done():
		return false
	}
}
