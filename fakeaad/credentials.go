package fakeaad

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"

	"net/http"
	"strings"
	"time"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionClaims are the claims read from any client assertion.
type assertionClaims struct {
	Iss string            `json:"iss"`
	Sub string            `json:"sub"`
	Aud jwtx.Audience     `json:"aud"`
	Exp *jwtx.NumericDate `json:"exp"`
	Nbf *jwtx.NumericDate `json:"nbf"`
	Iat *jwtx.NumericDate `json:"iat"`
	JTI string            `json:"jti"`
}

// authenticate checks the client credential and returns the appidacr value
// (protocols.md 1.3, 1.7, 1.8).
func (e *Entra) authenticate(r *http.Request, req *tokenRequest, p *world.Principal) (string, *aadError) {
	secret, assertion := req.get("client_secret"), req.get("client_assertion")
	switch {
	case secret != "":
		return acrSecret, e.checkSecret(req, p, secret)
	case assertion != "":
		if t := req.get("client_assertion_type"); t != jwtBearer {
			return "", invalidRequest(7000219, "'client_assertion_type' must be '%s', got '%s'.", jwtBearer, t)
		}
		return acrAssertion, e.clientAssertion(r, req, p, assertion)
	}
	return "", invalidClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

// checkSecret compares the secret with the application's secrets in
// constant time (AADSTS7000215 / 7000222).
func (e *Entra) checkSecret(req *tokenRequest, p *world.Principal, secret string) *aadError {
	if p.Application != nil {
		for _, s := range p.Application.Secrets {
			if subtle.ConstantTimeCompare([]byte(s.Value), []byte(secret)) != 1 {
				continue
			}
			if s.Expires != nil && !e.now().Before(*s.Expires) {
				return invalidClient(7000222, "The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", req.clientID)
			}
			return nil
		}
	}
	return invalidClient(7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", req.clientID)
}

// checkCertificate verifies a certificate client assertion (protocols.md
// 1.3): iss and sub are the client ID (700021), aud is a string (50027),
// the header's x5t#S256 (or x5t) names a certificate of the application and
// the signature verifies with it (700027), aud is one of Entra's own
// endpoints for the tenant (700023), and the assertion is within its
// validity window (700024).
func (e *Entra) checkCertificate(r *http.Request, req *tokenRequest, p *world.Principal, tok *jwtx.Token, c *assertionClaims) *aadError {
	if c.Iss != req.clientID || c.Sub != req.clientID {
		return invalidClient(700021, "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .").
			with(assertionAppHint(req.clientID, c))
	}
	if audIsArray(tok.Payload) {
		// An array aud, even one holding the token endpoint, is refused as
		// malformed (protocols.md 1.3).
		return malformed()
	}
	cert := findCertificate(p, tok)
	if cert == nil || tok.Verify(cert.PublicKey) != nil {
		return invalidClient(700027, "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]", thumbprint(tok), req.clientID)
	}
	want := e.assertionAudiences(r, req.tenant)
	if !audienceIn(c.Aud, want) {
		return invalidClient(700023, "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .").
			with(assertionAudienceHint(c.Aud, want))
	}
	return e.checkWindow(c)
}

// assertionAudiences are the aud values a certificate assertion sent to r
// may carry: Entra's own endpoints on the host the request came to, for the
// tenant by ID or domain. The v2 token endpoint is today's documented
// value; the v1 token endpoint was documented in 2017 (and is what ADAL
// sends); the v2 issuer https://{host}/{tenant}/v2.0 was documented in
// 2020-2022 (protocols.md 1.3) and is accepted unless configured away ([L]).
// Another host, even an Entra alias, is refused (protocols.md 1.3).
func (e *Entra) assertionAudiences(r *http.Request, t *world.TenantInfo) []string {
	suffixes := []string{"/oauth2/v2.0/token", "/oauth2/token"}
	if !e.opts.unconfirmed.RefuseIssuerAudience {
		suffixes = append(suffixes, "/v2.0")
	}
	var out []string
	for _, seg := range []string{t.ID, t.Domain} {
		for _, s := range suffixes {
			out = append(out, baseURL(r)+"/"+seg+s)
		}
	}
	return out
}

// audienceIn reports whether aud holds exactly one of want; the host and
// tenant compare without case, nothing else may differ (no query, no
// fragment, no trailing slash).
func audienceIn(aud jwtx.Audience, want []string) bool {
	for _, a := range aud {
		for _, w := range want {
			// The path after the tenant is exact; what precedes it (scheme,
			// host, tenant) compares without case.
			cut := strings.LastIndex(w, "/oauth2/")
			if cut < 0 {
				cut = strings.LastIndex(w, "/")
			}
			if len(a) == len(w) && a[cut:] == w[cut:] && strings.EqualFold(a[:cut], w[:cut]) {
				return true
			}
		}
	}
	return false
}

func findCertificate(p *world.Principal, tok *jwtx.Token) *x509.Certificate {
	if p.Application == nil {
		return nil
	}
	want := decodeThumbprint(thumbprint(tok))
	if want == nil {
		return nil
	}
	for _, cr := range p.Application.Certificates {
		cert, err := world.ParseCertificatePEM(cr.PEM)
		if err != nil {
			continue
		}
		s256 := sha256.Sum256(cert.Raw)
		s1 := sha1.Sum(cert.Raw)
		if bytes.Equal(want, s256[:]) || bytes.Equal(want, s1[:]) {
			return cert
		}
	}
	return nil
}

// decodeThumbprint accepts the base64 flavours clients use for x5t and
// x5t#S256 (MSAL writes standard base64, RFC 7515 says base64url).
func decodeThumbprint(s string) []byte {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(strings.TrimRight(s, "=")); err == nil {
			return b
		}
	}
	return nil
}

// thumbprint returns the certificate thumbprint a client assertion names.
func thumbprint(tok *jwtx.Token) string {
	for _, h := range []string{"x5t#S256", "x5t"} {
		if v, ok := tok.Header[h].(string); ok && v != "" {
			return strings.TrimRight(v, "=")
		}
	}
	return tok.KID
}

// checkWindow applies exp/nbf/iat with the configured skew (AADSTS700024).
func (e *Entra) checkWindow(c *assertionClaims) *aadError {
	now := e.now()
	skew := e.opts.assertionSkew
	var from, exp time.Time
	if c.Nbf != nil {
		from = c.Nbf.Time
	} else {
		from = time.Unix(0, 0).UTC()
	}
	if c.Exp != nil {
		exp = c.Exp.Time
	}
	// An iat beyond the skew in the future is refused like an early nbf:
	// such an assertion was not issued yet (not confirmed for Entra, [L]).
	if c.Iat != nil && now.Add(skew).Before(c.Iat.Time) && c.Iat.Time.After(from) {
		from = c.Iat.Time
	}
	if c.Exp == nil || now.After(exp.Add(skew)) || now.Add(skew).Before(from) {
		const f = "2006-01-02T15:04:05.0000000Z"
		return invalidClient(700024, "Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
			now.UTC().Format(f), from.UTC().Format(f), exp.UTC().Format(f))
	}
	return nil
}
