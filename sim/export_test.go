package sim

import (
	"crypto/rsa"

	"github.com/azsim/azsim/fakeaad"
	"github.com/azsim/azsim/internal/platform/jwtx"
)

// EntraOf returns the fake Entra ID of s, for tests that mint or verify its
// tokens without a request.
func EntraOf(s *Sim) *fakeaad.Entra { return s.entra }

// IssuerKeysOf returns the signing keys of cluster's issuer, the active one
// last, for tests that forge service-account tokens.
func IssuerKeysOf(s *Sim, cluster string) ([]*jwtx.Key, error) {
	return s.issuerKeys.IssuerKeys(cluster)
}

// SigningKeys returns the private keys of ring ("entra", "acr") from the
// state directory, the active one last.
func SigningKeys(s *Sim, ring string) ([]*rsa.PrivateKey, error) { return s.state.Ring(ring) }

// ACRSigningKID is the key ID the fake ACR signs its tokens with.
func ACRSigningKID(s *Sim) string { return s.acr.SigningKey().KID }
