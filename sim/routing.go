package sim

import (
	"net"
	"net/http"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/world"
)

// hostRouter sends each request to the fake that owns its host name:
// login.microsoftonline.com → Entra, a registry login server → ACR, a
// cluster issuer host → the OIDC issuer (DESIGN.md "Network shape").
func (s *Sim) hostRouter() http.Handler {
	entra, issuer := s.wrap(api.ServiceEntra, s.entra), s.wrap(api.ServiceOIDC, s.issuer)
	var acr http.Handler
	if s.acr != nil {
		acr = s.registryOrToken(s.wrap(api.ServiceACR, s.acr), s.wrap(api.ServiceRegistry, s.acr))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		ix := s.store.Snapshot()
		switch {
		case host == world.EntraHost:
			entra.ServeHTTP(w, r)
		case acr != nil && isRegistry(ix, host):
			acr.ServeHTTP(w, r)
		case isIssuerHost(ix, host):
			issuer.ServeHTTP(w, r)
		default:
			http.Error(w, "azsim: no fake serves host "+host, http.StatusMisdirectedRequest)
		}
	})
}

func isRegistry(ix *world.Index, host string) bool {
	r, ok := ix.Registry(host)
	return ok && r.LoginServer == host
}

func isIssuerHost(ix *world.Index, host string) bool {
	for _, c := range ix.Clusters {
		if rest, ok := strings.CutPrefix(c.IssuerURL, "https://"); ok {
			if h, _, _ := strings.Cut(rest, "/"); strings.EqualFold(h, host) {
				return true
			}
		}
	}
	return false
}

// registryOrToken traces ACR's registry API (/v2/...) as the registry
// service and the rest of the login server (/oauth2/..., /acr/v1/...) as
// ACR, so that decisions and fault rules can tell them apart.
func (s *Sim) registryOrToken(token, registry http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2" || strings.HasPrefix(r.URL.Path, "/v2/") {
			registry.ServeHTTP(w, r)
			return
		}
		token.ServeHTTP(w, r)
	})
}
