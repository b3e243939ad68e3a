package fakeaad

import (
	"context"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

const ficDocs = "https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation"

// checkFederated validates a federated client assertion (protocols.md 1.8):
// issuer metadata and JWKS (90061, 7000272), RS256 signature, validity window
// (700024), then federated identity credential matching on issuer (700211),
// subject (700213, 7002138 when only the case differs) and audience (700212).
func (e *Entra) checkFederated(ctx context.Context, p *world.Principal, tok *jwtx.Token, c *assertionClaims) *aadError {
	trace.AnnotateContext(ctx, func(d *api.Decision) {
		d.TokenIn = c.JTI
		d.Facts[api.FactIssuer], d.Facts[api.FactSubject], d.Facts[api.FactAudience] = c.Iss, c.Sub, strings.Join(c.Aud, ",")
		d.Facts[api.FactKID] = tok.KID
		if c.Exp != nil {
			d.Facts[api.FactAssertionExpiry] = c.Exp.UTC().Format(time.RFC3339)
		}
		if c.Iat != nil {
			d.Facts[api.FactAssertionIssued] = c.Iat.UTC().Format(time.RFC3339)
		}
	})
	if c.Iss == "" || c.Sub == "" || len(c.Aud) == 0 {
		return invalidRequest(50027, "JWT token is invalid or malformed.")
	}
	// An issuer no credential trusts is refused before anything is fetched
	// from it: Entra has no reason to contact an issuer it does not trust
	// (the order of protocols.md 1.8 is inferred, [M]; this one also keeps
	// the fake from fetching arbitrary URLs named by an assertion).
	if !trustsIssuer(p, c.Iss) {
		return e.matchFIC(ctx, p, c)
	}
	pub, found, err := e.meta.key(ctx, c.Iss, tok.KID)
	if err != nil {
		e.opts.logger.Info("federated issuer metadata unreachable", "issuer", c.Iss, "error", err)
		return invalidRequest(90061, "Request to External OIDC endpoint failed.").with(issuerUnreachableHint(c.Iss))
	}
	if !found {
		return invalidClient(7000272, "The certificate with identifier %s used to sign the federated credential could not be found in the metadata of identity provider %s. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.", tok.KID, c.Iss).
			with(keyRotatedHint(tok.KID, c.Iss))
	}
	if tok.Alg != "RS256" || tok.Verify(pub) != nil {
		// The code for a bad federated signature is not confirmed ([L],
		// protocols.md 1.7); Entra uses 700027 for certificate assertions.
		return invalidClient(700027, "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Key ID: '%s', Issuer: '%s']", tok.KID, c.Iss)
	}
	if aerr := e.checkWindow(c); aerr != nil {
		return aerr.with(e.windowHint(c))
	}
	return e.matchFIC(ctx, p, c)
}

func trustsIssuer(p *world.Principal, iss string) bool {
	for _, f := range p.FederatedCredentials {
		if f.Issuer == iss {
			return true
		}
	}
	return false
}

// matchFIC finds a federated identity credential that matches the
// assertion exactly. Credentials not yet propagated (effectiveAfter in the
// future) do not match and turn a would-be match into AADSTS70021. When
// none matches, every credential is recorded on the decision, compared
// field by field.
func (e *Entra) matchFIC(ctx context.Context, p *world.Principal, c *assertionClaims) *aadError {
	now := e.now()
	var issuerOK, subjectOK []world.FederatedCredential
	caseOnly, pending := false, false
	for _, f := range p.FederatedCredentials {
		if f.Issuer != c.Iss {
			continue
		}
		if f.EffectiveAfter != nil && now.Before(*f.EffectiveAfter) {
			pending = pending || f.Subject == c.Sub
			continue
		}
		issuerOK = append(issuerOK, f)
		switch {
		case f.Subject == c.Sub:
			subjectOK = append(subjectOK, f)
		case strings.EqualFold(f.Subject, c.Sub):
			caseOnly = true
		}
	}
	for _, f := range subjectOK {
		for _, a := range f.Audiences {
			if c.Aud.Contains(a) {
				return nil
			}
		}
	}
	// Refused: record every credential, compared field by field.
	seen := make([]api.Considered, 0, len(p.FederatedCredentials))
	for _, f := range p.FederatedCredentials {
		seen = append(seen, compareFIC(f, c, now))
	}
	trace.AnnotateContext(ctx, func(d *api.Decision) { d.Considered = append(d.Considered, seen...) })
	return e.ficError(p, c, issuerOK, pending, caseOnly, len(subjectOK) > 0)
}

// ficError is the AADSTS error, with its hint, for an assertion no
// credential matched.
func (e *Entra) ficError(p *world.Principal, c *assertionClaims, issuerOK []world.FederatedCredential, pending, caseOnly, subjectOK bool) *aadError {
	aud := strings.Join(c.Aud, ", ")
	switch {
	case pending || e.opts.legacyFICCodes:
		return invalidClient(70021, "No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'. %s", c.Iss, c.Sub, aud, ficDocs).
			with(notPropagatedHint(p, pending))
	case len(issuerOK) == 0:
		return invalidClient(700211, "No matching federated identity record found for presented assertion issuer '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. %s", c.Iss, ficDocs).
			with(issuerHint(p, c.Iss))
	case !subjectOK && caseOnly:
		// The 2025 text (Azure/login#515; protocols.md 1.7).
		return invalidClient(7002138, "No matching federated identity record found for presented assertion subject '%s'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. See documentation at: https://learn.microsoft.com/entra/workload-id/workload-identity-federation. See breaking change notification and remediation at: https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024.", c.Sub).
			with(subjectCaseHint(p, c.Sub))
	case !subjectOK:
		return invalidClient(700213, "No matching federated identity record found for presented assertion subject '%s'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation", c.Sub).
			with(subjectHint(p, c.Sub, issuerOK))
	}
	return invalidClient(700212, "No matching federated identity record found for presented assertion audience '%s'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. %s", aud, ficDocs).
		with(audienceHint(p, strings.Join(c.Aud, ","), issuerOK))
}
