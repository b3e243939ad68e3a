package sim

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// IMDSHost is the link-local address of IMDS.
const IMDSHost = "169.254.169.254"

// Transport returns a transport that trusts the simulator's CA and sends
// every connection to the simulator: 169.254.169.254 to the first node
// pool's IMDS, any other host to the HTTPS listener (so clients use the real
// Azure host names and ports).
func (s *Sim) Transport() *http.Transport {
	t, _ := s.TransportForPool("")
	return t
}

// TransportForPool is Transport with 169.254.169.254 reaching the IMDS of
// pool ("cluster/pool" or a unique pool name; "" for the first pool).
func (s *Sim) TransportForPool(pool string) (*http.Transport, error) {
	imds := s.DefaultIMDSAddr()
	if pool != "" {
		a, ok := s.IMDSAddr(pool)
		if !ok {
			return nil, fmt.Errorf("unknown node pool %q", pool)
		}
		imds = a
	}
	var d net.Dialer
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if host == IMDSHost {
				return d.DialContext(ctx, network, imds)
			}
			return d.DialContext(ctx, network, s.HTTPSAddr())
		},
		TLSClientConfig:     &tls.Config{RootCAs: s.CAPool(), MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}, nil
}

// Client returns an http.Client over Transport.
func (s *Sim) Client() *http.Client {
	return &http.Client{Transport: s.Transport(), Timeout: 30 * time.Second}
}

// upstreamClient is what the fake Entra ID uses to fetch federated issuers'
// metadata: Azure host names the simulator serves go to the HTTPS listener;
// anything else (a kind cluster's API server, say) is dialled for real. Both
// the system roots and the simulator's CA are trusted.
func (s *Sim) upstreamClient() *http.Client {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	roots.AddCert(s.ca.Cert)
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err == nil && s.servesHost(host) && len(s.lns) > 0 {
				addr = s.HTTPSAddr()
			}
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 16,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// servesHost reports whether host is an Azure name the simulator answers.
func (s *Sim) servesHost(host string) bool {
	host = strings.ToLower(host)
	for _, h := range s.store.Snapshot().Hosts() {
		if h == host {
			return true
		}
	}
	return strings.HasSuffix(host, ".azurecr.io") || strings.HasSuffix(host, ".oic.prod-aks.azure.com")
}
