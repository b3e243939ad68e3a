package sim

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/azsim/azsim/internal/platform/certs"
	"github.com/azsim/azsim/world"
)

// CAPool returns a pool holding the simulator's CA certificate.
func (s *Sim) CAPool() *x509.CertPool { return s.ca.Pool() }

// CACertFile is the path of the CA certificate (PEM) in the state directory.
func (s *Sim) CACertFile() string { return s.state.File(caCertFile) }

// CACertPEM returns the CA certificate, PEM-encoded.
func (s *Sim) CACertPEM() []byte { return append([]byte(nil), s.ca.CertPEM...) }

// IssueCertificate issues a serving certificate for names and ips from the
// simulator's CA, valid from now in wall time.
func (s *Sim) IssueCertificate(names []string, ips []net.IP) (tls.Certificate, error) {
	return s.ca.Issue(names, ips, time.Now())
}

// The CA's files in the state directory.
const (
	caCertFile = "ca.crt"
	caKeyFile  = "ca.key"
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
