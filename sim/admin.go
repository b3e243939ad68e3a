package sim

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/world"
)

// startAdmin serves the admin API (DESIGN.md "Admin API"). Bound beyond
// loopback it requires a token.
func (s *Sim) startAdmin() error {
	ln, err := net.Listen("tcp", s.opts.adminAddr)
	if err != nil {
		return fmt.Errorf("listening for the admin API on %s: %w", s.opts.adminAddr, err)
	}
	s.admin = ln.Addr().String()
	s.serve(ln, s.adminRoutes())
	return nil
}

func (s *Sim) adminRoutes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.guardBrowser, requireWriteType)
	r.Get(api.PathHealthz, func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	r.Group(func(r chi.Router) {
		r.Use(s.requireToken)
		r.Get(api.PathWorld, s.getWorld)
		r.Put(api.PathWorld, s.putWorld)
		r.Get(api.PathClock, s.getClock)
		r.Post(api.PathClock, s.postClock)
		r.Get(api.PathEndpoints, func(w http.ResponseWriter, _ *http.Request) { adminJSON(w, http.StatusOK, s.Endpoints()) })
		r.Post(api.PathClusters+"/{cluster}"+api.RotateKeysSuffix, s.rotateKeys)
		r.Post(api.PathServiceAccount, s.postServiceAccountToken)
		r.Get(api.PathTrace, s.getTrace)
		r.Get(api.PathFaults, func(w http.ResponseWriter, _ *http.Request) { adminJSON(w, http.StatusOK, s.Faults()) })
		r.Post(api.PathFaults, s.postFault)
		r.Delete(api.PathFaults, s.deleteFaults)
		r.Delete(api.PathFaults+"/{id}", s.deleteFaults)
		r.Get(api.PathWorld+"/{collection}", s.getObjects)
		r.Post(api.PathWorld+"/{collection}", s.postObject)
		r.Delete(api.PathWorld+"/{collection}/{key}", s.deleteObject)
	})
	return r
}

// requireToken checks the bearer token when one is configured.
func (s *Sim) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.adminToken != "" {
			got, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.adminToken)) != 1 {
				adminError(w, http.StatusUnauthorized, errors.New("admin token required"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Sim) putWorld(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, world.MaxWorldSize+1))
	if err != nil {
		adminError(w, http.StatusBadRequest, err)
		return
	}
	wd, err := world.Parse(body)
	if err == nil {
		_, err = s.store.Replace(wd)
	}
	if err != nil {
		worldError(w, err)
		return
	}
	s.getWorld(w, r)
}

func (s *Sim) getClock(w http.ResponseWriter, _ *http.Request) {
	adminJSON(w, http.StatusOK, api.ClockState{Now: s.opts.clock.Now().UTC().Format(time.RFC3339Nano)})
}

// postClock moves the simulated clock: {"advance":"3h"} or {"set":RFC3339}.
func (s *Sim) postClock(w http.ResponseWriter, r *http.Request) {
	var req api.ClockRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		adminError(w, http.StatusBadRequest, fmt.Errorf("clock request: %w", err))
		return
	}
	move, err := clockMove(req)
	if err != nil {
		adminError(w, http.StatusBadRequest, fmt.Errorf("clock request: %w", err))
		return
	}
	if err := s.moveClock(move); err != nil {
		adminError(w, http.StatusInternalServerError, fmt.Errorf("clock request: saving the clock: %w", err))
		return
	}
	s.getClock(w, r)
}

// moveClock moves the clock and saves it, one move at a time; a move that
// cannot be saved is undone.
func (s *Sim) moveClock(move func(*world.SimClock)) error {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	prev := s.opts.clock.State()
	move(s.opts.clock)
	if err := s.saveClock(); err != nil {
		s.opts.clock.Restore(prev)
		return err
	}
	return nil
}

// clockMove checks a clock request and returns the move it asks for.
func clockMove(req api.ClockRequest) (func(*world.SimClock), error) {
	switch {
	case req.Advance != "" && req.Set != "":
		return nil, errors.New("set either advance or set, not both")
	case req.Advance != "":
		d, err := time.ParseDuration(req.Advance)
		if err != nil {
			return nil, fmt.Errorf("advance: %w", err)
		}
		return func(c *world.SimClock) { c.Advance(d) }, nil
	case req.Set != "":
		t, err := time.Parse(time.RFC3339, req.Set)
		if err != nil {
			return nil, fmt.Errorf("set: %w", err)
		}
		return func(c *world.SimClock) { c.Set(t) }, nil
	}
	return nil, errors.New(`want {"advance":"<duration>"} or {"set":"<RFC3339>"}`)
}

func (s *Sim) rotateKeys(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "cluster")
	c, ok := s.store.Snapshot().Cluster(name)
	if !ok {
		adminError(w, http.StatusNotFound, fmt.Errorf("unknown cluster %q", name))
		return
	}
	kids, err := s.RotateIssuerKeys(c.Name, r.URL.Query().Get("dropOld") == "true")
	if err != nil {
		adminError(w, http.StatusInternalServerError, err)
		return
	}
	adminJSON(w, http.StatusOK, api.RotatedKeys{Cluster: c.Name, KIDs: kids})
}

// worldError answers a refused world change: 400 for a world that does
// not validate, 500 for one that could not be saved.
func worldError(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	if errors.Is(err, world.ErrNotSaved) {
		status = http.StatusInternalServerError
	}
	adminError(w, status, err)
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func adminError(w http.ResponseWriter, status int, err error) {
	adminJSON(w, status, api.Error{Error: err.Error(), Problems: strings.Split(err.Error(), "\n")})
}
