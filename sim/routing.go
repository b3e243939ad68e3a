package sim

import (
	"net"
	"net/http"
	"strings"

	"github.com/azsim/azsim/world"
)

// hostRouter sends each request to the fake that owns its host name:
// login.microsoftonline.com → Entra, a registry login server → ACR, a
// cluster issuer host → the OIDC issuer (DESIGN.md "Network shape").
func (s *Sim) hostRouter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		ix := s.Store.Snapshot()
		switch {
		case host == world.EntraHost:
			s.Entra.ServeHTTP(w, r)
		case s.ACR != nil && isRegistry(ix, host):
			s.ACR.ServeHTTP(w, r)
		case isIssuerHost(ix, host):
			s.Issuer.ServeHTTP(w, r)
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
