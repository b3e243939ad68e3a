package fakeimds

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/world"
)

// TokenIssuer mints Entra access tokens for managed identities; the fake
// Entra ID implements it and sim wires it in. resource is the requested
// resource with any "/.default" suffix removed. A *api.ProtocolError
// result is relayed to the client as IMDS relays Entra errors (for example
// 400 invalid_resource AADSTS500011 for an unknown resource).
type TokenIssuer interface {
	IssueManagedIdentityToken(p *world.Principal, resource string) (api.IssuedToken, error)
}

// Option configures the handler.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	messages Messages
	versions []string
	server   string
}

// WithLogger sets the logger for request decisions (silent by default).
// Tokens are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithMessages overrides the error descriptions whose real wording is not
// confirmed (protocols.md marks them [L]); empty fields keep the defaults.
func WithMessages(m Messages) Option {
	return func(o *options) { o.messages = o.messages.merge(m) }
}

// WithAPIVersions replaces the api-version list, oldest first (default
// DefaultAPIVersions). /metadata/versions lists it, /metadata/instance accepts
// any of it, the token endpoint any of it from 2018-02-01 on.
func WithAPIVersions(v []string) Option {
	return func(o *options) {
		if len(v) > 0 {
			o.versions = append([]string(nil), v...)
		}
	}
}

// WithServerHeader sets the Server response header (default ServerHeader).
func WithServerHeader(s string) Option {
	return func(o *options) { o.server = s }
}

// ServerHeader is the default Server header, in the shape real IMDS sends
// (protocols.md 2.2).
const ServerHeader = "IMDS/150.870.65.1684"

// DefaultAPIVersions returns the IMDS api-versions, oldest first
// (protocols.md 2.1: 2017-03-01 … 2025-04-07, the IMDS documentation's
// supported list).
func DefaultAPIVersions() []string { return append([]string(nil), apiVersions...) }

var apiVersions = []string{
	"2017-03-01", "2017-04-02", "2017-08-01", "2017-10-01", "2017-12-01",
	"2018-02-01", "2018-04-02", "2018-10-01", "2019-02-01", "2019-03-11",
	"2019-04-30", "2019-06-01", "2019-06-04", "2019-08-01", "2019-08-15",
	"2019-11-01", "2020-06-01", "2020-07-15", "2020-09-01", "2020-10-01",
	"2020-12-01", "2021-01-01", "2021-02-01", "2021-03-01", "2021-05-01",
	"2021-10-01", "2021-11-01", "2021-11-15", "2021-12-13", "2023-07-01",
	"2023-11-15", "2024-03-15", "2024-07-17", "2025-04-07",
}

// minIdentityVersion is the first api-version of the identity category
// (protocols.md 2.1: "2018-02-01 or greater").
const minIdentityVersion = "2018-02-01"

type handler struct {
	store  *world.Store
	pool   string
	issuer TokenIssuer
	log    *slog.Logger
	opts   options
}

// New returns the IMDS of one node pool. pool is "<cluster>/<pool>" or a
// pool name unique in the world; it is resolved on every request from
// store.Snapshot(), so world changes apply at once. IMDS signs nothing: the
// tokens it serves come from issuer, so unlike the other fakes it takes no
// keyring.
func New(store *world.Store, pool string, issuer TokenIssuer, opts ...Option) (http.Handler, error) {
	var errs []error
	if store == nil {
		errs = append(errs, errors.New("fakeimds: a world store is required"))
	}
	if pool == "" {
		errs = append(errs, errors.New("fakeimds: a node pool is required"))
	}
	if issuer == nil {
		errs = append(errs, errors.New("fakeimds: a token issuer is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	o := options{
		logger:   slog.New(slog.DiscardHandler),
		messages: defaultMessages,
		versions: apiVersions,
		server:   ServerHeader,
	}
	for _, opt := range opts {
		opt(&o)
	}
	h := &handler{store: store, pool: pool, issuer: issuer, log: o.logger, opts: o}
	r := chi.NewRouter()
	r.Get("/metadata/identity/oauth2/token", h.handle(h.token))
	r.Get("/metadata/instance", h.handle(h.instance))
	r.Get("/metadata/instance/*", h.handle(h.instance))
	r.Get("/metadata/versions", h.handle(h.versions))
	r.MethodNotAllowed(h.handle(h.methodNotAllowed))
	r.NotFound(h.handle(h.notFound))
	return r, nil
}

// handle adapts a handler that returns its failure as a value.
func (h *handler) handle(fn func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.writeError(w, r, err)
		}
	}
}

func isIdentityPath(p string) bool { return strings.HasPrefix(p, "/metadata/identity") }

// methodNotAllowed: IMDS answers 405 to anything but GET (protocols.md 2.4, 2.6).
func (h *handler) methodNotAllowed(_ http.ResponseWriter, r *http.Request) error {
	if isIdentityPath(r.URL.Path) {
		return &apiError{status: http.StatusMethodNotAllowed,
			body: oauthBody{"invalid_request", "The HTTP method " + r.Method + " is not supported"}, reason: "method"}
	}
	return instanceError(http.StatusMethodNotAllowed, "Bad request. The HTTP method "+r.Method+" is not supported") // [L]
}

// notFound: unknown paths (protocols.md 2.6: 404 element not found; body [L]).
func (h *handler) notFound(_ http.ResponseWriter, r *http.Request) error {
	if isIdentityPath(r.URL.Path) {
		return &apiError{status: http.StatusNotFound, body: oauthBody{"invalid_request", "Not found"}, reason: "path"}
	}
	return instanceError(http.StatusNotFound, "Not found")
}

// checkHeaders enforces the SSRF guards shared by every IMDS endpoint
// (protocols.md 2.1 [H COMPUTE]): `Metadata: true` (exactly, lower case as
// the documentation requires) and no X-Forwarded-For. The Metadata check
// comes first, so the DefaultAzureCredential probe (no query, no header;
// protocols.md 2.5) gets the 88-byte body.
//
// X-Forwarded-For: the documentation only says such requests are rejected;
// no captured body exists. The closest documented behaviour is the other
// SSRF guard, the missing-header 400, so it is a 400 invalid_request (on
// /metadata/instance a 400 "Bad request." body) with its own [L] text.
func (h *handler) checkHeaders(r *http.Request, identity bool) error {
	if r.Header.Get("Metadata") != "true" {
		if identity {
			e := invalidRequest(descMetadataHeader)
			e.hint = &api.Hint{Pitfall: "imds-metadata-header", Fix: "send the header Metadata: true",
				Text: "IMDS requires the header 'Metadata: true' (an SSRF guard)"}
			return e
		}
		return instanceError(http.StatusBadRequest, "Bad request. "+descMetadataHeader) // [L]
	}
	if _, ok := r.Header["X-Forwarded-For"]; ok {
		if identity {
			return invalidRequest(h.opts.messages.ForwardedFor)
		}
		return instanceError(http.StatusBadRequest, "Bad request. "+h.opts.messages.ForwardedFor) // [L]
	}
	return nil
}

// nodePool resolves the pool in the current world; the snapshot it was
// found in comes with it, so that one request decides on one world.
func (h *handler) nodePool() (*world.Index, *world.NodePoolInfo, error) {
	ix := h.store.Snapshot()
	np, ok := ix.NodePool(h.pool)
	if !ok {
		return nil, nil, errPoolGone(h.pool)
	}
	return ix, np, nil
}

// writeJSON writes v without a trailing newline and without HTML escaping,
// with the headers real IMDS sends (protocols.md 2.2).
func (h *handler) writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own plain structs and maps are encoded; this cannot happen.
		h.log.Error("encoding response", slog.String("error", err.Error()))
		status, buf = http.StatusInternalServerError, *bytes.NewBufferString(`{"error":"unknown","error_description":"encoding failed"}` + "\n")
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h.write(w, status, "application/json; charset=utf-8", body)
}

func (h *handler) write(w http.ResponseWriter, status int, contentType string, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if h.opts.server != "" {
		hd.Set("Server", h.opts.server)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
