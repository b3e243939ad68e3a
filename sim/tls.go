package sim

import (
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/azsim/azsim/internal/platform/certs"
	"github.com/azsim/azsim/world"
)

// baseNames are covered by the main serving certificate.
var baseNames = []string{world.EntraHost, "*.azurecr.io", "*.oic.prod-aks.azure.com", "localhost"}

// tlsHost serves certificates from the simulator's CA: one certificate for
// the well-known Azure names, and one issued on demand (and cached) for any
// other host name a world declares (a custom login server or issuer).
type tlsHost struct {
	ca    *certs.CA
	store *world.Store
	// now is wall time: TLS clients check certificates against their own
	// clock, not the simulated one.
	now func() time.Time

	mu    sync.Mutex
	main  *tls.Certificate
	extra map[string]*tls.Certificate
}

func newTLSHost(ca *certs.CA, store *world.Store) *tlsHost {
	return &tlsHost{ca: ca, store: store, now: time.Now, extra: map[string]*tls.Certificate{}}
}

func (h *tlsHost) config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: h.certificate, NextProtos: []string{"h2", "http/1.1"}}
}

func (h *tlsHost) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.main == nil {
		c, err := h.ca.Issue(baseNames, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, h.now())
		if err != nil {
			return nil, err
		}
		h.main = &c
	}
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if name == "" || h.main.Leaf.VerifyHostname(name) == nil {
		return h.main, nil
	}
	if c, ok := h.extra[name]; ok {
		return c, nil
	}
	c, err := h.ca.Issue([]string{name}, nil, h.now())
	if err != nil {
		return nil, err
	}
	h.extra[name] = &c
	return &c, nil
}
