package conformance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// HTTPClient returns a client for the target: it trusts the system roots
// and CAFile, sends connections through Resolve, and never follows
// redirects (cases look at every response as sent).
func (t *Target) HTTPClient() (*http.Client, error) {
	tr, err := t.Transport()
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, nil
}

// Transport is the transport of HTTPClient.
func (t *Target) Transport() (*http.Transport, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading the target CA: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("target CA %s holds no PEM certificate", t.CAFile)
		}
	}
	var d net.Dialer
	resolve := t.Resolve
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, resolveAddr(resolve, addr))
		},
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}, nil
}

// resolveAddr applies the Resolve map to host:port: an exact host entry
// first, then the longest matching "*.suffix" entry.
func resolveAddr(resolve map[string]string, addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || len(resolve) == 0 {
		return addr
	}
	host = strings.ToLower(host)
	to, ok := resolve[host]
	if !ok {
		best := ""
		for pat, a := range resolve {
			if suffix, wild := strings.CutPrefix(pat, "*"); wild && strings.HasSuffix(host, strings.ToLower(suffix)) && len(pat) > len(best) {
				best, to = pat, a
			}
		}
		if best == "" {
			return addr
		}
	}
	if _, _, err := net.SplitHostPort(to); err != nil {
		return net.JoinHostPort(to, port)
	}
	return to
}
