package sim

import (
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The admin API can rewrite the world and read its secrets, so a web page
// must not be able to reach it through the user's browser:
//   - a Host that is not the bound address or a loopback name is refused
//     (DNS rebinding: evil.example resolving to 127.0.0.1); bound to a
//     wildcard address the API needs a token, which protects it instead;
//   - a request carrying a foreign Origin is refused (cross-site fetches and
//     form posts; the admin API's own pages have its origin);
//   - a write must say it sends JSON or YAML: the content types a page can
//     send without a preflight (text/plain, forms) are refused.

// loopbackNames are the host names that always mean this machine.
var loopbackNames = []string{"localhost", "127.0.0.1", "::1"}

// allowedHost reports whether the request's host name may address the
// admin API bound at bound (host:port).
func allowedHost(reqHost, bound string) bool {
	boundHost, _, _ := net.SplitHostPort(bound)
	if ip := net.ParseIP(boundHost); ip != nil && ip.IsUnspecified() {
		return true
	}
	h := reqHost
	if hh, _, err := net.SplitHostPort(reqHost); err == nil {
		h = hh
	}
	h = strings.ToLower(strings.Trim(h, "[]"))
	for _, n := range append(loopbackNames, boundHost) {
		if h == strings.ToLower(n) {
			return true
		}
	}
	return false
}

// allowedOrigin reports whether origin is the admin API's own: http, a host
// allowedHost accepts, and the bound port.
func allowedOrigin(origin, bound string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme != "http" || u.Path != "" && u.Path != "/" {
		return false
	}
	_, port, _ := net.SplitHostPort(bound)
	return u.Port() == port && allowedHost(u.Host, bound)
}

// guardBrowser refuses foreign Hosts and Origins (403).
func (s *Sim) guardBrowser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowedHost(r.Host, s.admin) {
			adminError(w, http.StatusForbidden, fmt.Errorf("host %q is not the admin API's address %s or a loopback name", clipField(r.Host), s.admin))
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !allowedOrigin(o, s.admin) {
			adminError(w, http.StatusForbidden, fmt.Errorf("cross-origin request from %q refused", clipField(o)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeTypes are the media types a write may carry.
var writeTypes = []string{"application/json", "application/yaml", "application/x-yaml", "text/yaml"}

// requireWriteType refuses (415) writes whose body is not declared JSON or
// YAML; a write without a body needs no type.
func requireWriteType(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		ct := r.Header.Get("Content-Type")
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case ct == "" && r.ContentLength == 0:
		case err != nil || !isWriteType(mt):
			adminError(w, http.StatusUnsupportedMediaType,
				fmt.Errorf("Content-Type %q: a write to the admin API must be application/json or application/yaml", clipField(ct)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isWriteType(mt string) bool {
	for _, t := range writeTypes {
		if mt == t {
			return true
		}
	}
	return strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// isYAML reports whether a Content-Type declares YAML.
func isYAML(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/yaml" || mt == "application/x-yaml" || mt == "text/yaml")
}
