package fakeoidc

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// Option configures the issuer.
type Option func(*options)

type options struct {
	logger *slog.Logger
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Issuer serves the OIDC issuers of every cluster of the world. It is an
// http.Handler for <region>.oic.prod-aks.azure.com (and any other issuer URL
// a world declares).
type Issuer struct {
	store *world.Store
	keys  jwtx.Keyring
	opts  options
}

// New returns the issuer fake. Each cluster's issuer signs with the last
// key of keys' ring Ring(cluster) and publishes all of them; the ring is
// read on every request, so rotations apply at once.
func New(store *world.Store, keys jwtx.Keyring, opts ...Option) (*Issuer, error) {
	var errs []error
	if store == nil {
		errs = append(errs, errors.New("fakeoidc: a world store is required"))
	}
	if keys == nil {
		errs = append(errs, errors.New("fakeoidc: a keyring is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	o := options{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, f := range opts {
		f(&o)
	}
	return &Issuer{store: store, keys: keys, opts: o}, nil
}

// route finds the cluster whose issuer URL has the request's host and is a
// prefix of its path, and returns the rest of the path.
func (i *Issuer) route(r *http.Request) (*world.ClusterInfo, string) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	for _, c := range i.store.Snapshot().Clusters {
		if !c.IssuerEnabled() {
			continue
		}
		rest, ok := strings.CutPrefix(c.IssuerURL, "https://")
		if !ok {
			continue
		}
		ihost, ipath, _ := strings.Cut(rest, "/")
		if !strings.EqualFold(ihost, host) {
			continue
		}
		if tail, ok := strings.CutPrefix(r.URL.Path, "/"+ipath); ok {
			return c, strings.TrimPrefix(tail, "/")
		}
	}
	return nil, ""
}

// ServeHTTP serves {issuer}.well-known/openid-configuration and
// {issuer}openid/v1/jwks (protocols.md 5.2).
func (i *Issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	c, tail := i.route(r)
	if c == nil {
		http.NotFound(w, r)
		return
	}
	switch tail {
	case ".well-known/openid-configuration":
		writeJSON(w, discovery{
			Issuer: c.IssuerURL, JWKSURI: c.IssuerURL + "openid/v1/jwks",
			ResponseTypes: []string{"id_token"}, SubjectTypes: []string{"public"}, Algs: []string{"RS256"},
		})
	case "openid/v1/jwks":
		keys, err := i.clusterKeys(c.Name)
		if err != nil {
			i.opts.logger.Error("loading issuer keys", "cluster", c.Name, "error", err)
			http.Error(w, "issuer keys unavailable", http.StatusInternalServerError)
			return
		}
		set := jose.JSONWebKeySet{}
		for _, k := range keys {
			set.Keys = append(set.Keys, k.JWK())
		}
		writeJSON(w, set)
	default:
		http.NotFound(w, r)
	}
}

type discovery struct {
	Issuer        string   `json:"issuer"`
	JWKSURI       string   `json:"jwks_uri"`
	ResponseTypes []string `json:"response_types_supported"`
	SubjectTypes  []string `json:"subject_types_supported"`
	Algs          []string `json:"id_token_signing_alg_values_supported"`
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
