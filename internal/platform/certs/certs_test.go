package certs

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func caPaths(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	return filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
}

func TestLoadOrCreateCAPersists(t *testing.T) {
	t.Parallel()
	now := time.Now()
	certPath, keyPath := caPaths(t)
	ca, err := LoadOrCreateCA(certPath, keyPath, now)
	require.NoError(t, err)
	assert.True(t, ca.Cert.IsCA)
	assert.Equal(t, "azsim simulator CA", ca.Cert.Subject.CommonName)
	assert.True(t, ca.Cert.NotAfter.After(now.AddDate(9, 11, 0)), "valid for ten years")
	assert.True(t, ca.Cert.NotBefore.Before(now))

	onDisk, err := os.ReadFile(certPath)
	require.NoError(t, err)
	assert.Equal(t, ca.CertPEM, onDisk)
	fi, err := os.Stat(keyPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the CA key is private")
	fi, err = os.Stat(certPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	again, err := LoadOrCreateCA(certPath, keyPath, now.Add(time.Hour))
	require.NoError(t, err)
	assert.True(t, ca.Cert.Equal(again.Cert), "the same CA after a restart")
	assert.Equal(t, ca.CertPEM, again.CertPEM)
	assert.True(t, ca.key.Equal(again.key))

	// A certificate issued by the reloaded CA verifies against the
	// original pool: clients that trusted ca.crt keep working.
	leaf, err := again.Issue([]string{"login.microsoftonline.com"}, nil, now)
	require.NoError(t, err)
	_, err = leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "login.microsoftonline.com", Roots: ca.Pool(), CurrentTime: now})
	require.NoError(t, err)
}

func TestLoadOrCreateCARecreatesWhenAFileIsMissing(t *testing.T) {
	t.Parallel()
	certPath, keyPath := caPaths(t)
	ca, err := LoadOrCreateCA(certPath, keyPath, time.Now())
	require.NoError(t, err)
	require.NoError(t, os.Remove(keyPath))
	ca2, err := LoadOrCreateCA(certPath, keyPath, time.Now())
	require.NoError(t, err)
	assert.False(t, ca.Cert.Equal(ca2.Cert))
	ca3, err := LoadOrCreateCA(certPath, keyPath, time.Now())
	require.NoError(t, err)
	assert.True(t, ca2.Cert.Equal(ca3.Cert))
}

func TestLoadOrCreateCAErrors(t *testing.T) {
	t.Parallel()
	t.Run("corrupt certificate", func(t *testing.T) {
		t.Parallel()
		certPath, keyPath := caPaths(t)
		_, err := LoadOrCreateCA(certPath, keyPath, time.Now())
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(certPath, []byte("garbage"), 0o644))
		_, err = LoadOrCreateCA(certPath, keyPath, time.Now())
		require.ErrorContains(t, err, "reading CA: not PEM")
	})
	t.Run("wrong key type", func(t *testing.T) {
		t.Parallel()
		certPath, keyPath := caPaths(t)
		_, err := LoadOrCreateCA(certPath, keyPath, time.Now())
		require.NoError(t, err)
		cert, err := os.ReadFile(certPath)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(keyPath, cert, 0o600))
		_, err = LoadOrCreateCA(certPath, keyPath, time.Now())
		require.ErrorContains(t, err, "reading CA key")
	})
	t.Run("unreadable", func(t *testing.T) {
		t.Parallel()
		certPath, keyPath := caPaths(t)
		require.NoError(t, os.Mkdir(certPath, 0o700))
		_, err := LoadOrCreateCA(certPath, keyPath, time.Now())
		require.ErrorContains(t, err, "reading CA")
	})
	t.Run("unwritable", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "missing")
		_, err := LoadOrCreateCA(filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key"), time.Now())
		require.Error(t, err)
	})
}

func TestIssue(t *testing.T) {
	t.Parallel()
	now := time.Now()
	ca, _, err := NewCA(now)
	require.NoError(t, err)
	cert, err := ca.Issue(
		[]string{"login.microsoftonline.com", "*.azurecr.io", "eastus.oic.prod-aks.azure.com"},
		[]net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}, now)
	require.NoError(t, err)
	require.NotNil(t, cert.Leaf)
	require.Len(t, cert.Certificate, 2, "the chain carries the CA")
	assert.Equal(t, ca.Cert.Raw, cert.Certificate[1])
	assert.False(t, cert.Leaf.IsCA)
	assert.True(t, cert.Leaf.NotAfter.After(now.AddDate(0, 11, 0)))

	tests := []struct {
		name string
		ok   bool
	}{
		{"login.microsoftonline.com", true},
		{"foo.azurecr.io", true},
		{"azsimacr.azurecr.io", true},
		{"eastus.oic.prod-aks.azure.com", true},
		{"127.0.0.1", true},
		{"::1", true},
		{"azurecr.io", false},
		{"a.b.azurecr.io", false},
		{"management.azure.com", false},
		{"10.0.0.1", false},
	}
	for _, tt := range tests {
		_, err := cert.Leaf.Verify(x509.VerifyOptions{
			DNSName: tt.name, Roots: ca.Pool(), CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if tt.ok {
			assert.NoError(t, err, tt.name)
		} else {
			assert.Error(t, err, tt.name)
		}
	}

	// Another CA does not vouch for it.
	other, _, err := NewCA(now)
	require.NoError(t, err)
	_, err = cert.Leaf.Verify(x509.VerifyOptions{DNSName: "login.microsoftonline.com", Roots: other.Pool(), CurrentTime: now})
	require.Error(t, err)
	_, err = cert.Leaf.Verify(x509.VerifyOptions{DNSName: "login.microsoftonline.com", Roots: ca.Pool(), CurrentTime: now.AddDate(2, 0, 0)})
	require.Error(t, err, "expired after a year")
}

// TestIssueServesTLS runs a TLS handshake over an in-memory pipe.
func TestIssueServesTLS(t *testing.T) {
	t.Parallel()
	now := time.Now()
	ca, _, err := NewCA(now)
	require.NoError(t, err)
	cert, err := ca.Issue([]string{"*.azurecr.io"}, nil, now)
	require.NoError(t, err)

	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	done := make(chan error, 1)
	go func() {
		srv := tls.Server(s, &tls.Config{Certificates: []tls.Certificate{cert}})
		done <- srv.Handshake()
	}()
	cli := tls.Client(c, &tls.Config{ServerName: "foo.azurecr.io", RootCAs: ca.Pool()})
	require.NoError(t, cli.Handshake())
	require.NoError(t, <-done)
}
