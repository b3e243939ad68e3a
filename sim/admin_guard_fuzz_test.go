package sim

import (
	"net"
	"net/url"
	"strings"
	"testing"
)

// FuzzAdminOrigin: whatever Host and Origin a request carries, the guard
// never panics, and what it lets through names this machine and, for an
// origin, the admin API's own port.
func FuzzAdminOrigin(f *testing.F) {
	for _, s := range []struct{ host, origin string }{
		{"127.0.0.1:8078", "http://127.0.0.1:8078"}, {"localhost:8078", "http://localhost:8078"},
		{"evil.example", "https://evil.example"}, {"[::1]:8078", "http://[::1]:8078"}, {"", "null"},
		{"127.0.0.1.evil.example:8078", "http://127.0.0.1:8078@evil.example"}, {"evil.example:8078", "http://evil.example:8078"}, {"LOCALHOST", "http://LOCALHOST:8078/"},
	} {
		f.Add(s.host, s.origin)
	}
	const bound = "127.0.0.1:8078"
	f.Fuzz(func(t *testing.T, host, origin string) {
		if allowedHost(host, bound) {
			h := host
			if hh, _, err := net.SplitHostPort(host); err == nil {
				h = hh
			}
			if !loopbackName(h) {
				t.Fatalf("host %q let through", host)
			}
		}
		if allowedOrigin(origin, bound) {
			u, err := url.Parse(origin)
			if err != nil || u.Scheme != "http" || u.Port() != "8078" || !loopbackName(u.Hostname()) {
				t.Fatalf("origin %q let through", origin)
			}
		}
	})
}

func loopbackName(h string) bool {
	h = strings.ToLower(strings.Trim(h, "[]"))
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}
