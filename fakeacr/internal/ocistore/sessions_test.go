package ocistore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clock is a settable clock for a registry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func startUpload(r *Registry, principal string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/v2/team/app/blobs/uploads/", nil)
	req = req.WithContext(WithPrincipal(req.Context(), principal))
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

// TestUploadSessionsAreBoundedPerPrincipalAndExpire: sessions never
// finished cannot deny uploads to other principals, and expire when idle
// on the registry's clock, in both stores.
func TestUploadSessionsAreBoundedPerPrincipalAndExpire(t *testing.T) {
	t.Parallel()
	for _, store := range []struct{ name, dir string }{{"memory", ""}, {"disk", t.TempDir()}} {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			r, err := Open(context.Background(), store.dir, loginServer, WithClock(c.now),
				WithUploadIdleTimeout(10*time.Minute), WithUploadLimits(4, 6))
			require.NoError(t, err)
			for range 4 {
				require.Equal(t, http.StatusAccepted, startUpload(r, "attacker").Code)
			}
			refused := startUpload(r, "attacker")
			assert.Equal(t, http.StatusTooManyRequests, refused.Code)
			assert.Equal(t, `{"errors":[{"code":"TOOMANYREQUESTS","message":"`+msgTooManyRequests+`"}]}`+"\n", refused.Body.String())
			assert.Equal(t, http.StatusAccepted, startUpload(r, "victim").Code, "another principal still uploads")

			// A session in use stays alive past the timeout of its start.
			live := startUpload(r, "victim")
			require.Equal(t, http.StatusAccepted, live.Code)
			c.advance(8 * time.Minute)
			patch := httptest.NewRequest(http.MethodPatch, live.Header().Get("Location"), nil)
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, patch)
			require.Equal(t, http.StatusAccepted, rec.Code)
			c.advance(8 * time.Minute)

			assert.Equal(t, http.StatusAccepted, startUpload(r, "attacker").Code, "idle sessions expired")
			rec = httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodPatch, live.Header().Get("Location"), nil))
			assert.Equal(t, http.StatusAccepted, rec.Code, "the session in use was kept")
			rec = httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodPatch, "/v2/team/app/blobs/uploads/expired-or-never-started", strings.NewReader("data")))
			assert.Equal(t, http.StatusNotFound, rec.Code, "no session is made up for an unknown id")
			assert.Equal(t, `{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN","message":"blob upload unknown to registry"}]}`+"\n", rec.Body.String())
			if store.dir != "" {
				left, err := filepath.Glob(filepath.Join(store.dir, loginServer, "uploads", "*"))
				require.NoError(t, err)
				assert.Len(t, left, 2, "expired sessions' files are removed")
			}
		})
	}
}

// TestUploadSessionLifecycle: a monolithic upload, a session's progress
// and its cancellation, in both stores.
func TestUploadSessionLifecycle(t *testing.T) {
	t.Parallel()
	for _, store := range []struct{ name, dir string }{{"memory", ""}, {"disk", t.TempDir()}} {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			r := open(t, store.dir)
			serve := func(method, path string, body string) *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				r.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
				return rec
			}
			rec := serve(http.MethodPost, "/v2/team/app/blobs/uploads/?digest="+digestOf([]byte("whole")), "whole")
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			assert.Equal(t, http.StatusOK, serve(http.MethodHead, "/v2/team/app/blobs/"+digestOf([]byte("whole")), "").Code)

			loc := serve(http.MethodPost, "/v2/team/app/blobs/uploads/", "").Header().Get("Location")
			require.Equal(t, http.StatusAccepted, serve(http.MethodPatch, loc, "abc").Code)
			rec = serve(http.MethodGet, loc, "")
			assert.Equal(t, http.StatusNoContent, rec.Code)
			assert.Equal(t, "0-2", rec.Header().Get("Range"))
			assert.Equal(t, http.StatusNoContent, serve(http.MethodDelete, loc, "").Code)
			assert.Equal(t, http.StatusNotFound, serve(http.MethodPut, loc+"?digest="+digestOf([]byte("abc")), "").Code, "cancelled")
		})
	}
}

// TestConcurrentUploads: sessions of several principals run at once, in
// both stores, and every blob arrives whole.
func TestConcurrentUploads(t *testing.T) {
	t.Parallel()
	for _, store := range []struct{ name, dir string }{{"memory", ""}, {"disk", t.TempDir()}} {
		t.Run(store.name, func(t *testing.T) {
			t.Parallel()
			r := open(t, store.dir)
			var wg sync.WaitGroup
			codes := make(chan int, 8*4*3)
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 4 {
						data := []byte(strings.Repeat(string(rune('a'+w)), 1000+i))
						loc := startUpload(r, string(rune('A'+w%3))).Header().Get("Location")
						for _, part := range [][]byte{data[:500], data[500:]} {
							rec := httptest.NewRecorder()
							r.ServeHTTP(rec, httptest.NewRequest(http.MethodPatch, loc, strings.NewReader(string(part))))
							codes <- rec.Code
						}
						rec := httptest.NewRecorder()
						r.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, loc+"?digest="+digestOf(data), nil))
						codes <- rec.Code
					}
				}()
			}
			wg.Wait()
			close(codes)
			for c := range codes {
				assert.Contains(t, []int{http.StatusAccepted, http.StatusCreated}, c)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/v2/team/app/blobs/"+digestOf([]byte(strings.Repeat("h", 1003))), nil))
			assert.Equal(t, http.StatusOK, rec.Code)
		})
	}
}
