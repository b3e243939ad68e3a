package sim

import (
	"time"

	"github.com/azsim/azsim/fakeaad"
)

// EntraSettings tune the fake Entra ID where protocols.md leaves a choice
// open or marks a fact unconfirmed. Zero fields keep the defaults; negative
// durations make New fail.
type EntraSettings struct {
	// TokenLifetime is the lifetime of tokens minted for applications and
	// federated identities (default 75 minutes, the mean of Entra's random
	// 60–90; protocols.md 1.5). Managed-identity tokens always live 24 h.
	TokenLifetime time.Duration
	// AssertionSkew is the clock skew allowed on client assertions' nbf and
	// exp (default 5 minutes; protocols.md 1.8, unconfirmed).
	AssertionSkew time.Duration
	// IssuerMetadataTTL is how long federated issuers' discovery documents
	// and JWKS are cached, in simulated time (default 5 minutes); an unknown
	// kid always triggers one refetch.
	IssuerMetadataTTL time.Duration
	// LegacyFICErrors answers every federated-credential mismatch with the
	// generic AADSTS70021, as Entra did before 2024 (protocols.md 1.7).
	LegacyFICErrors bool
	// Unconfirmed picks the answers public captures leave open: certificate
	// assertion audiences, the status of AADSTS700038 and 5002738, and
	// whether malformed federated assertions get 90014/5002738 or 50027
	// (protocols.md 1.3, 1.7).
	Unconfirmed fakeaad.Unconfirmed
}

// WithEntra tunes the fake Entra ID.
func WithEntra(e EntraSettings) Option { return func(o *options) { o.entra = e } }

// fakeOptions are the fakeaad options the settings stand for.
func (e EntraSettings) fakeOptions() []fakeaad.Option {
	var opts []fakeaad.Option
	if e.TokenLifetime != 0 {
		opts = append(opts, fakeaad.WithTokenLifetime(e.TokenLifetime))
	}
	if e.AssertionSkew != 0 {
		opts = append(opts, fakeaad.WithAssertionSkew(e.AssertionSkew))
	}
	if e.IssuerMetadataTTL != 0 {
		opts = append(opts, fakeaad.WithIssuerMetadataTTL(e.IssuerMetadataTTL))
	}
	if e.LegacyFICErrors {
		opts = append(opts, fakeaad.WithLegacyFICErrors())
	}
	if e.Unconfirmed != (fakeaad.Unconfirmed{}) {
		opts = append(opts, fakeaad.WithUnconfirmed(e.Unconfirmed))
	}
	return opts
}
