package fakeaad

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/azsim/azsim/world"
)

// issuerKeys is a federated issuer's JWKS as fetched.
type issuerKeys struct {
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// metadataCache fetches and caches issuers' discovery documents and JWKS,
// as Entra does (protocols.md 1.8 step 1). Entries live for ttl of
// simulated time; an unknown kid triggers one refetch.
type metadataCache struct {
	client *http.Client
	clock  world.Clock
	ttl    time.Duration

	mu      sync.Mutex
	entries map[string]*issuerKeys
}

func newMetadataCache(c *http.Client, clock world.Clock, ttl time.Duration) *metadataCache {
	return &metadataCache{client: c, clock: clock, ttl: ttl, entries: map[string]*issuerKeys{}}
}

// maxMetadataSize bounds a fetched discovery document or JWKS.
const maxMetadataSize = 1 << 20

// key returns the issuer's public key kid, fetching when the cache is cold,
// stale, or lacks kid. found is false when the JWKS has no such key.
func (m *metadataCache) key(ctx context.Context, issuer, kid string) (pub *rsa.PublicKey, found bool, err error) {
	m.mu.Lock()
	ent := m.entries[issuer]
	m.mu.Unlock()
	now := m.clock.Now()
	// An entry fetched "after" now (the simulated clock was set back) is
	// stale too: its lifetime was counted on another timeline.
	if ent != nil && !now.Before(ent.fetched) && now.Sub(ent.fetched) < m.ttl {
		if k, ok := ent.lookup(kid); ok {
			return k, true, nil
		}
	}
	ent, err = m.fetch(ctx, issuer)
	if err != nil {
		return nil, false, err
	}
	ent.fetched = now
	m.mu.Lock()
	m.entries[issuer] = ent
	m.mu.Unlock()
	k, ok := ent.lookup(kid)
	return k, ok, nil
}

func (e *issuerKeys) lookup(kid string) (*rsa.PublicKey, bool) {
	if kid == "" && len(e.keys) == 1 {
		for _, k := range e.keys {
			return k, true
		}
	}
	k, ok := e.keys[kid]
	return k, ok
}

// discoveryURL appends the well-known path; an issuer ending in "/" (as AKS
// issuers do) gets "{iss}.well-known/openid-configuration".
func discoveryURL(issuer string) string {
	if strings.HasSuffix(issuer, "/") {
		return issuer + ".well-known/openid-configuration"
	}
	return issuer + "/.well-known/openid-configuration"
}

func (m *metadataCache) fetch(ctx context.Context, issuer string) (*issuerKeys, error) {
	if !strings.HasPrefix(issuer, "https://") {
		return nil, fmt.Errorf("issuer %q is not an https URL", issuer)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := m.getJSON(ctx, discoveryURL(issuer), &doc); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(doc.JWKSURI, "https://") {
		return nil, fmt.Errorf("discovery document of %q has no https jwks_uri", issuer)
	}
	var set jose.JSONWebKeySet
	if err := m.getJSON(ctx, doc.JWKSURI, &set); err != nil {
		return nil, err
	}
	ent := &issuerKeys{keys: map[string]*rsa.PublicKey{}}
	for _, k := range set.Keys {
		if pub, ok := k.Key.(*rsa.PublicKey); ok {
			ent.keys[k.KeyID] = pub
		}
	}
	return ent, nil
}

func (m *metadataCache) getJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", url, err)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataSize))
	if err != nil {
		return fmt.Errorf("fetching %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching %s: status %d", url, resp.StatusCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("fetching %s: %w", url, err)
	}
	return nil
}
