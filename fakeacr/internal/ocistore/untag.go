package ocistore

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// untagging makes a manifest delete by digest delete every tag naming the
// manifest too, as ACR does (protocols.md 3.8); pkg/registry deletes only
// the reference it is given, and a tag left behind would keep serving the
// manifest. The tags are deleted through next, so a disk store records
// each. Manifest pushes and deletes are serialized: no tag can be pushed
// onto the manifest while it is deleted.
type untagging struct {
	next http.Handler
	log  *slog.Logger
	mu   sync.Mutex
}

func (u *untagging) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/v2/"), "/")
	n := len(segs)
	if n < 3 || segs[n-2] != "manifests" || (r.Method != http.MethodPut && r.Method != http.MethodDelete) {
		u.next.ServeHTTP(w, r)
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	repo, ref := strings.Join(segs[:n-2], "/"), segs[n-1]
	if r.Method == http.MethodDelete && strings.Contains(ref, ":") {
		if err := u.untag(r, repo, ref); err != nil {
			u.log.Warn("registry storage: deleting the tags of a manifest", "repository", repo, "digest", ref, "error", err)
			regError(w, http.StatusInternalServerError, "UNKNOWN", "deleting the tags of the manifest")
			return
		}
	}
	u.next.ServeHTTP(w, r)
}

// untag deletes the tags of repo that name digest. A tag whose delete
// fails stops it: the tags deleted before stay deleted, the rest and the
// manifest stay.
func (u *untagging) untag(r *http.Request, repo, digest string) error {
	tags, err := u.tags(r, repo)
	if err != nil {
		return err
	}
	for _, tag := range tags {
		rec := u.serve(r, http.MethodHead, repo, tag)
		if rec.Code != http.StatusOK || rec.Header().Get("Docker-Content-Digest") != digest {
			continue
		}
		if rec = u.serve(r, http.MethodDelete, repo, tag); rec.Code != http.StatusAccepted {
			return fmt.Errorf("deleting tag %q: status %d", tag, rec.Code)
		}
	}
	return nil
}

// tags lists the tags of repo (none when the repository is unknown).
func (u *untagging) tags(r *http.Request, repo string) ([]string, error) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/v2/"+repo+"/tags/list", nil)
	if err != nil {
		return nil, fmt.Errorf("listing the tags of %q: %w", repo, err)
	}
	rec := httptest.NewRecorder()
	u.next.ServeHTTP(rec, withRepoContext(req))
	if rec.Code == http.StatusNotFound {
		return nil, nil
	}
	var list struct {
		Tags []string `json:"tags"`
	}
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("listing the tags of %q: status %d", repo, rec.Code)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
		return nil, fmt.Errorf("listing the tags of %q: %w", repo, err)
	}
	return list.Tags, nil
}

// serve sends method on repo's manifest ref to next, in the context of r.
func (u *untagging) serve(r *http.Request, method, repo, ref string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	req, err := http.NewRequestWithContext(r.Context(), method, "/v2/"+repo+"/manifests/"+ref, nil)
	if err != nil {
		rec.Code = http.StatusBadRequest
		return rec
	}
	u.next.ServeHTTP(rec, withRepoContext(req))
	return rec
}
