package sim_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/world"
)

// testWorld is the default world plus an application with a secret and a
// certificate, and identities whose federated credentials exercise the
// mismatch cases.
func testWorld(t *testing.T, certPEM string) *world.World {
	t.Helper()
	w := world.Default()
	w.Applications = append(w.Applications, world.Application{
		Name:         "ci-app",
		Secrets:      []world.Secret{{Name: "ci", Value: "s3cr3t-value"}},
		Certificates: []world.Certificate{{Name: "ci", PEM: certPEM}},
	})
	ix, err := world.Compile(w, time.Now())
	require.NoError(t, err)
	c, _ := ix.Cluster("aks1")
	w.Identities = append(w.Identities,
		world.Identity{Name: "case-id", ResourceGroup: "rg-azsim", FederatedCredentials: []world.FederatedCredential{
			{Name: "case", Cluster: "aks1", Subject: "system:serviceaccount:Default:case-test", Audiences: []string{"api://AzureADTokenExchange"}}}},
		world.Identity{Name: "unreachable-id", ResourceGroup: "rg-azsim", FederatedCredentials: []world.FederatedCredential{
			{Name: "unreachable", Issuer: "https://127.0.0.1:1/", Subject: "system:serviceaccount:default:app-puller", Audiences: []string{"api://AzureADTokenExchange"}}}},
		world.Identity{Name: "noslash-id", ResourceGroup: "rg-azsim", FederatedCredentials: []world.FederatedCredential{
			{Name: "noslash", Issuer: strings.TrimSuffix(c.IssuerURL, "/"), Subject: "system:serviceaccount:default:noslash", Audiences: []string{"api://AzureADTokenExchange"}}}},
	)
	return w
}

// newCert returns a self-signed RSA certificate and its key.
func newCert(t *testing.T) (*x509.Certificate, *rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ci-app"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func principal(t *testing.T, s *sim.Sim, name string) *world.Principal {
	t.Helper()
	p, ok := s.World().Snapshot().PrincipalByName(name)
	require.True(t, ok, "principal %s", name)
	return p
}

func tenantID(s *sim.Sim) string { return s.World().Snapshot().Tenants[0].ID }

func saToken(t *testing.T, s *sim.Sim, ns, name string, aud ...string) string {
	t.Helper()
	tok, _, err := s.MintServiceAccountToken(api.ServiceAccountTokenRequest{Namespace: ns, ServiceAccount: name, Audiences: aud})
	require.NoError(t, err)
	return tok
}

// claims decodes a JWT payload without verification.
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}
