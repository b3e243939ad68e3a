package fakeaad

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// Option configures the fake Entra ID.
type Option func(*options)

type options struct {
	logger         *slog.Logger
	client         *http.Client
	appLifetime    time.Duration
	assertionSkew  time.Duration
	legacyFICCodes bool
	metadataTTL    time.Duration
	unconfirmed    Unconfirmed
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithHTTPClient sets the client used to fetch federated issuers' discovery
// documents and JWKS (default: http.DefaultClient with a 10 s timeout).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

// WithTokenLifetime sets the lifetime of tokens minted for applications and
// federated identities (default 75 minutes, the mean of Entra's random 60–90;
// protocols.md 1.5). Managed-identity tokens always live 24 h.
func WithTokenLifetime(d time.Duration) Option { return func(o *options) { o.appLifetime = d } }

// WithAssertionSkew sets the clock skew allowed on client assertions'
// nbf/exp (default 5 minutes; [L] in protocols.md 1.8).
func WithAssertionSkew(d time.Duration) Option { return func(o *options) { o.assertionSkew = d } }

// WithLegacyFICErrors makes every federated-credential mismatch answer the
// generic AADSTS70021 instead of 700211/700212/700213/7002138, as Entra did
// before 2024 (protocols.md 1.7).
func WithLegacyFICErrors() Option { return func(o *options) { o.legacyFICCodes = true } }

// WithIssuerMetadataTTL sets how long fetched issuer discovery documents and
// JWKS are cached (default 5 minutes of simulated time); an unknown kid always
// triggers one refetch.
func WithIssuerMetadataTTL(d time.Duration) Option { return func(o *options) { o.metadataTTL = d } }

// Unconfirmed picks Entra's answer where public captures disagree or show
// nothing (the [L] facts of protocols.md 1.3, 1.7 and 1.8). The zero value
// is azsim's default.
type Unconfirmed struct {
	// RefuseIssuerAudience refuses a certificate assertion whose aud is the
	// tenant's v2 issuer, https://{host}/{tenant}/v2.0, which Entra's
	// certificate-credential page documented in 2020-2022 and no longer
	// lists. By default it is accepted, as the token endpoints are.
	RefuseIssuerAudience bool
	// FederatedMalformedAs50027 answers a federated assertion without aud,
	// or with an unsupported alg, AADSTS50027 instead of 90014 and 5002738,
	// which are captured for certificate assertions only.
	FederatedMalformedAs50027 bool
	// AlgorithmErrorInvalidRequest answers AADSTS5002738 with 400
	// invalid_request (the 2021 capture) instead of 401 invalid_client (2023).
	AlgorithmErrorInvalidRequest bool
	// NilClientIDStatus and NilClientIDError are the HTTP status and OAuth
	// error of AADSTS700038, the nil GUID as client_id (default 400
	// unauthorized_client, as AADSTS700016).
	NilClientIDStatus int
	NilClientIDError  string
}

// WithUnconfirmed sets how the fake answers where Entra's behaviour is
// unconfirmed (see Unconfirmed).
func WithUnconfirmed(u Unconfirmed) Option { return func(o *options) { o.unconfirmed = u } }

// Entra is the fake Entra ID. It is an http.Handler for login.microsoftonline.com.
type Entra struct {
	store  *world.Store
	keys   []*jwtx.Key // last is active
	opts   options
	router http.Handler
	meta   *metadataCache
}

// KeyRing is the ring of the keyring the fake Entra ID signs with.
const KeyRing = "entra"

// New returns a fake Entra ID that signs with the last key of keys' ring
// KeyRing and publishes all of them. Their key IDs are the keys' SHA-1
// thumbprints, the shape of Entra's kid and x5t.
func New(store *world.Store, keys jwtx.Keyring, opts ...Option) (*Entra, error) {
	o := options{appLifetime: 75 * time.Minute, assertionSkew: 5 * time.Minute, metadataTTL: 5 * time.Minute}
	for _, f := range opts {
		f(&o)
	}
	signing, err := thumbprintKeys(keys)
	if err := errors.Join(requireStore(store), err, o.validate()); err != nil {
		return nil, err
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.client == nil {
		o.client = &http.Client{Timeout: 10 * time.Second}
	}
	e := &Entra{store: store, keys: signing, opts: o}
	e.meta = newMetadataCache(o.client, store.Clock(), o.metadataTTL)
	e.router = e.routes()
	return e, nil
}

func (e *Entra) routes() http.Handler {
	r := chi.NewRouter()
	r.Get("/common/discovery/instance", e.instanceDiscovery)
	r.Get("/{tenant}/v2.0/.well-known/openid-configuration", e.openIDConfiguration(true))
	r.Get("/{tenant}/.well-known/openid-configuration", e.openIDConfiguration(false))
	r.Get("/{tenant}/discovery/v2.0/keys", e.jwks(true))
	r.Get("/{tenant}/discovery/keys", e.jwks(false))
	r.HandleFunc("/{tenant}/oauth2/v2.0/token", e.token(true))
	r.HandleFunc("/{tenant}/oauth2/token", e.token(false))
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, e.now(), invalidRequest(900561, "The endpoint only accepts GET requests. Received a %s request.", r.Method))
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, e.now(), newError(http.StatusNotFound, "invalid_request", 900561,
			"The endpoint %s is not served by this tenant.", r.URL.Path))
	})
	return r
}

// ServeHTTP implements http.Handler.
func (e *Entra) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.router.ServeHTTP(w, r) }

func (e *Entra) now() time.Time { return e.store.Clock().Now() }

func (e *Entra) active() *jwtx.Key { return e.keys[len(e.keys)-1] }

// SigningKID is the key ID of the key tokens are signed with now.
func (e *Entra) SigningKID() string { return e.active().KID }
