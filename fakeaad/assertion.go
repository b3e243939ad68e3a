package fakeaad

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/azsim/azsim/internal/platform/ids"
	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// nilGUID is the all-zero GUID, a placeholder client ID Entra refuses with
// AADSTS700038 (protocols.md 1.7).
const nilGUID = "00000000-0000-0000-0000-000000000000"

// assertionAlgs are the signature algorithms a client assertion may name.
// Entra lists RS256, RS384 and RS512 in AADSTS5002738 and documents PS256
// for certificate assertions (protocols.md 1.3, 1.7); azsim verifies RS256
// and PS256 and answers the others 50027, as a token it cannot parse.
var assertionAlgs = map[string]bool{"RS256": true, "RS384": true, "RS512": true, "PS256": true, "PS384": true, "PS512": true}

// clientAssertion checks a client_assertion: its shape first (50027, 90014,
// 5002738; protocols.md 1.3, 1.7), then a self-signed assertion as a
// certificate credential (1.3) and any other as a federated one (1.8).
func (e *Entra) clientAssertion(r *http.Request, req *tokenRequest, p *world.Principal, raw string) *aadError {
	// The payload is decoded once; only a token jwtx refuses is peeked at
	// for the claims that choose the error.
	tok, err := jwtx.Parse(raw)
	var c assertionClaims
	if err == nil {
		err = tok.Claims(&c)
	}
	peeked := &c
	if err != nil {
		peeked = peekClaims(raw)
	}
	selfSigned := peeked != nil && isSelfSigned(p, peeked, req.clientID)
	// Federated assertions: the 90014 and 5002738 answers are captured for
	// certificate assertions only ([L], protocols.md 1.8 item 5).
	legacy := e.opts.unconfirmed.FederatedMalformedAs50027 && peeked != nil && peeked.Iss != "" && !selfSigned
	if alg := peekAlg(raw); alg != "" && !assertionAlgs[alg] && !legacy {
		return e.algorithmError(alg)
	}
	if err != nil {
		return malformed()
	}
	switch {
	case c.Iss == "":
		return missingField("iss")
	case len(c.Aud) == 0 && legacy:
		return malformed()
	case len(c.Aud) == 0:
		return missingField("aud")
	}
	if selfSigned {
		return e.checkCertificate(r, req, p, tok, &c)
	}
	return e.checkFederated(r.Context(), p, tok, &c)
}

// isSelfSigned tells a certificate (private_key_jwt) assertion from a
// federated one: it names the application itself (iss = client_id), or it
// has iss = sub as RFC 7523 requires of a client's own assertion, or its
// issuer is an application ID rather than an identity provider no
// credential of p trusts. Federated issuers are URLs whose sub is the
// workload (protocols.md 1.3, 1.8).
func isSelfSigned(p *world.Principal, c *assertionClaims, clientID string) bool {
	if c.Iss == "" {
		return false
	}
	return c.Iss == clientID || c.Iss == c.Sub || ids.IsGUID(c.Iss) && !trustsIssuer(p, c.Iss)
}

func malformed() *aadError {
	return invalidRequest(50027, "JWT token is invalid or malformed.")
}

// missingField is AADSTS90014 for a required claim missing from a client
// assertion (protocols.md 1.7; the 2023 captures for 'iss' and 'aud').
func missingField(name string) *aadError {
	return invalidRequest(90014, "The required field '%s' is missing from the credential. Ensure that you have all the necessary parameters for the login request.", name)
}

// algorithmError is AADSTS5002738 for an assertion signed with an algorithm
// Entra does not take (protocols.md 1.7): 401 invalid_client as captured in
// 2023, or 400 invalid_request as in 2021 when so configured ([L]).
func (e *Entra) algorithmError(alg string) *aadError {
	const format = "Invalid JWT token. '%s' is not a supported signature algorithm. Supported signing algorithms are: 'RS256,RS384,RS512'"
	if e.opts.unconfirmed.AlgorithmErrorInvalidRequest {
		return invalidRequest(5002738, format, clipLog(alg))
	}
	return invalidClient(5002738, format, clipLog(alg))
}

// nilClientIDError is AADSTS700038 for the nil GUID as client_id
// (protocols.md 1.7). No token-endpoint capture shows its status and
// error: 400 unauthorized_client, as 700016, unless configured ([L]).
func (e *Entra) nilClientIDError() *aadError {
	status, code := http.StatusBadRequest, "unauthorized_client"
	if u := e.opts.unconfirmed; u.NilClientIDStatus != 0 {
		status = u.NilClientIDStatus
	}
	if u := e.opts.unconfirmed; u.NilClientIDError != "" {
		code = u.NilClientIDError
	}
	return newError(status, code, 700038, "%s is not a valid application identifier.", nilGUID)
}

// peekAlg returns the alg of a compact JWS's header, or "" when the header
// does not decode to a JSON object with a string alg.
func peekAlg(raw string) string {
	h64, _, ok := strings.Cut(raw, ".")
	if !ok || len(h64) > jwtx.MaxTokenSize {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(h64, "="))
	if err != nil {
		return ""
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &hdr) != nil {
		return ""
	}
	return hdr.Alg
}

// peekClaims decodes the payload of a compact JWS without any check of the
// header or signature, or returns nil; only used to tell the assertion's
// kind before its algorithm is checked.
func peekClaims(raw string) *assertionClaims {
	if len(raw) > jwtx.MaxTokenSize || strings.Count(raw, ".") != 2 {
		return nil
	}
	_, rest, _ := strings.Cut(raw, ".")
	p64, _, _ := strings.Cut(rest, ".")
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p64, "="))
	if err != nil {
		return nil
	}
	var c assertionClaims
	if json.Unmarshal(b, &c) != nil {
		return nil
	}
	return &c
}

// audIsArray reports whether the payload's aud is a JSON array.
func audIsArray(payload []byte) bool {
	var c struct {
		Aud json.RawMessage `json:"aud"`
	}
	return json.Unmarshal(payload, &c) == nil && strings.HasPrefix(strings.TrimSpace(string(c.Aud)), "[")
}
