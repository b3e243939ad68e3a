package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/azsim/azsim/api"
)

// getTrace serves GET /api/trace[?since=SEQ][&follow=1]: recent decisions as
// a JSON array, or with follow a stream of one JSON decision per line.
func (s *Sim) getTrace(w http.ResponseWriter, r *http.Request) {
	var since uint64
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			adminError(w, http.StatusBadRequest, fmt.Errorf("since: %q is not a sequence number", v))
			return
		}
		since = n
	}
	if r.URL.Query().Get("follow") == "" {
		ds := s.trace.Recent(since)
		if ds == nil {
			ds = []api.Decision{}
		}
		adminJSON(w, http.StatusOK, ds)
		return
	}
	ch, cancel := s.trace.Subscribe()
	defer cancel()
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	for _, d := range s.trace.Recent(since) {
		_ = enc.Encode(d)
	}
	if flusher != nil {
		flusher.Flush()
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case d := <-ch:
			if d.Seq <= since {
				continue
			}
			if err := enc.Encode(d); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}

func (s *Sim) postFault(w http.ResponseWriter, r *http.Request) {
	var rule api.FaultRule
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rule); err != nil {
		adminError(w, http.StatusBadRequest, fmt.Errorf("fault: %w", err))
		return
	}
	added, err := s.faults.Add(rule)
	if err != nil {
		adminError(w, http.StatusBadRequest, fmt.Errorf("fault: %w", err))
		return
	}
	adminJSON(w, http.StatusOK, added)
}

func (s *Sim) deleteFaults(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if !s.faults.Delete(id) && id != "" {
		adminError(w, http.StatusNotFound, errors.New("no fault "+id))
		return
	}
	adminJSON(w, http.StatusOK, s.faults.List())
}
