package fakeacr

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/fakeacr/internal/ocistore"
	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// TokenVerifier checks an Entra access token: signature, issuer and expiry
// on the simulated clock. The fake Entra ID implements it; fakeacr checks
// the audience, tenant and principal itself.
type TokenVerifier interface {
	VerifyAccessToken(raw string) (*api.EntraClaims, error)
}

// Default lifetimes of ACR tokens (protocols.md 3.4: refresh ~3 h, access
// 75 min, both [M/L]); a registry of the world may set its own
// (world.RegistryTokens).
const (
	DefaultRefreshTokenLifetime = 3 * time.Hour
	DefaultAccessTokenLifetime  = 75 * time.Minute
)

type options struct {
	log          *slog.Logger
	storageDir   string
	refreshInGET bool
	registry     []ocistore.Option
}

// Option configures the fake ACR.
type Option func(*options)

// WithLogger sets the logger (default: silent). Tokens are never logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithStorageDir keeps each registry's content on disk under
// dir/<login server>/ (see package ocistore), so images larger than memory
// can be pushed and pulled and pushes survive a restart (default: in
// memory). World images are seeded again at start, over what was kept.
func WithStorageDir(dir string) Option { return func(o *options) { o.storageDir = dir } }

// WithUploadSessionLimits expires registry upload sessions idle for longer
// than idle on the simulated clock and bounds the sessions one principal
// holds in one registry (defaults 15 min and 64, protocols.md 3.8 [L]); a
// value that is not positive keeps its default.
func WithUploadSessionLimits(idle time.Duration, perPrincipal int) Option {
	return func(o *options) {
		o.registry = append(o.registry, ocistore.WithUploadIdleTimeout(idle),
			ocistore.WithUploadLimits(perPrincipal, ocistore.DefaultMaxUploads))
	}
}

// WithRefreshTokenInTokenResponse makes GET /oauth2/token answer Entra
// principals with a refresh_token too, which docker then keeps as its
// identity token (clients.md 5.3; unverified against ACR, so off by default).
func WithRefreshTokenInTokenResponse(on bool) Option {
	return func(o *options) { o.refreshInGET = on }
}

// ACR serves every registry of the world by request Host.
type ACR struct {
	store    *world.Store
	key      *jwtx.Key
	verifier TokenVerifier
	opts     options
	log      *slog.Logger

	mu       sync.Mutex
	backends map[string]*backend // by login server
}

// KeyRing is the ring of the keyring ACR tokens are signed with.
const KeyRing = "acr"

// New returns the fake ACR for the registries of store, signing with the
// last key of keys' ring KeyRing and checking Entra tokens with verifier,
// and seeds their images (see Seed).
func New(store *world.Store, keys jwtx.Keyring, verifier TokenVerifier, opts ...Option) (*ACR, error) {
	key, err := signingKey(keys)
	var errs []error
	if store == nil {
		errs = append(errs, errors.New("fakeacr: a world store is required"))
	}
	if verifier == nil {
		errs = append(errs, errors.New("fakeacr: a token verifier is required"))
	}
	if err := errors.Join(append(errs, err)...); err != nil {
		return nil, err
	}
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &ACR{store: store, key: key, verifier: verifier, opts: o, log: o.log, backends: map[string]*backend{}}
	if err := a.Seed(context.Background()); err != nil {
		return nil, err
	}
	return a, nil
}

// signingKey is the active key of ring KeyRing.
func signingKey(keys jwtx.Keyring) (*jwtx.Key, error) {
	if keys == nil {
		return nil, errors.New("fakeacr: a keyring is required")
	}
	ring, err := keys.Keys(KeyRing)
	if err != nil {
		return nil, fmt.Errorf("fakeacr: reading key ring %q: %w", KeyRing, err)
	}
	if len(ring) == 0 {
		return nil, errors.New("fakeacr: the key ring is empty")
	}
	return ring[len(ring)-1], nil
}

// SigningKey returns the key ACR tokens are signed with.
func (a *ACR) SigningKey() *jwtx.Key { return a.key }

// reqCtx is what one request is served against: the world snapshot, the
// registry addressed and the simulated time.
type reqCtx struct {
	r   *http.Request
	ix  *world.Index
	reg *world.RegistryInfo
	now time.Time
	// principal is who an authorized data-plane request acts as (the ACR
	// token subject); the registry bounds upload sessions by it.
	principal string
}

// ServeHTTP routes by Host (port stripped) to the registry, then by path
// (protocols.md 3: token endpoints and registry API on the login server).
func (a *ACR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ix := a.store.Snapshot()
	reg, ok := ix.Registry(host)
	if !ok || !strings.EqualFold(reg.LoginServer, host) {
		a.writeError(w, r, notFound(fmt.Sprintf("registry %q not found", host)))
		return
	}
	rc := &reqCtx{r: r, ix: ix, reg: reg, now: a.store.Clock().Now()}
	commonHeaders(w)
	if err := a.route(w, rc); err != nil {
		a.writeError(w, r, err)
	}
}

func (a *ACR) route(w http.ResponseWriter, rc *reqCtx) error {
	p := rc.r.URL.Path
	switch {
	case p == "/oauth2/exchange":
		return a.exchange(w, rc)
	case p == "/oauth2/token":
		return a.token(w, rc)
	case p == "/v2" || strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/acr/v1/"):
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		return a.dataPlane(w, rc)
	default:
		return notFound(fmt.Sprintf("%s %s is not an ACR endpoint", rc.r.Method, p))
	}
}

// commonHeaders are the headers ACR sends on every response (protocols.md 3.1).
func commonHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Server", "openresty")
	h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Ms-Correlation-Request-Id", newUUID())
	h.Add("Access-Control-Expose-Headers", "Docker-Content-Digest")
	h.Add("Access-Control-Expose-Headers", "WWW-Authenticate")
	h.Add("Access-Control-Expose-Headers", "Link")
	h.Add("Access-Control-Expose-Headers", "X-Ms-Correlation-Request-Id")
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
