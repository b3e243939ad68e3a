package credprovider

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/azsim/azsim/internal/platform/state"
)

// Cache keeps responses on disk, one file per registry and identity, until
// they expire. Each kubelet invocation is a new process, so the cache is
// what spares IMDS, Entra and ACR a round trip per pull. A nil Cache
// caches nothing.
type Cache struct {
	Dir string
}

type cacheEntry struct {
	Expires  time.Time `json:"expires"`
	Response *Response `json:"response"`
}

func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(c.Dir, hex.EncodeToString(sum[:16])+".json")
}

func (c *Cache) get(key string, now time.Time) (*Response, bool) {
	if c == nil {
		return nil, false
	}
	b, err := os.ReadFile(c.path(key))
	if err != nil {
		return nil, false
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || e.Response == nil || !now.Before(e.Expires) {
		return nil, false
	}
	e.Response.CacheDuration = e.Expires.Sub(now).Round(time.Second).String()
	return e.Response, true
}

func (c *Cache) put(key string, r *Response, expires time.Time) {
	if c == nil || !time.Now().Before(expires) {
		return
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return
	}
	b, err := json.Marshal(cacheEntry{Expires: expires, Response: r})
	if err == nil {
		_ = state.WriteFile(c.path(key), b, 0o600)
	}
}
