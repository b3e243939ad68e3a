package conformance

import (
	"crypto/rand"
	"crypto/rsa"
	"regexp"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/jwtx"
)

// ficCases: the federated client-assertion grant (protocols.md 1.3, 1.6,
// 1.7, 1.8).
func (p *providers) ficCases() []Case {
	fed := []Feature{FeatureFederated}
	admin := []Feature{FeatureFederated, FeatureAdmin}
	fx := []Feature{FeatureEntra, FeatureFixtures}
	return []Case{
		{ID: "entra/token/fic/success", Title: "federated assertion → 200 Bearer token with aud, iss, tid, oid, appid, ver of a v1 ACR token", Needs: fed, Run: p.ficSuccess},
		{ID: "entra/token/fic/unknown-resource", Title: "scope of an unknown resource: 400 invalid_resource AADSTS500011", Needs: fed, Run: p.ficUnknownResource},
		{ID: "entra/token/fic/unknown-client", Title: "valid assertion for an unknown client_id: 400 unauthorized_client AADSTS700016", Needs: fed, Run: p.ficUnknownClient},
		{ID: "entra/token/fic/malformed-assertion", Title: "client_assertion that is not a JWT: 4xx with an AADSTS error", Needs: fed, Run: p.ficMalformed},
		{ID: "entra/token/fic/unknown-kid", Title: "assertion signed with a key the issuer does not publish: 401 invalid_client AADSTS7000272", Needs: fed, Run: p.ficUnknownKid},
		{ID: "entra/token/fic/audience-mismatch", Title: "assertion audience not in the credential: 401 invalid_client AADSTS700212", Needs: admin, Run: p.ficAudience},
		{ID: "entra/token/fic/subject-mismatch", Title: "assertion subject not in the credential: 401 invalid_client AADSTS700213", Needs: admin, Run: p.ficSubject},
		{ID: "entra/token/fic/expired", Title: "expired assertion: 401 invalid_client AADSTS700024", Needs: admin, Run: p.ficExpired},
		{ID: "entra/token/fic/subject-case", Title: "subject differing only in case: 401 invalid_client AADSTS7002138", Needs: fx, Run: p.ficSubjectCase},
		{ID: "entra/token/fic/issuer-mismatch", Title: "credential issuer without the trailing slash: 401 invalid_client AADSTS700211", Needs: fx, Run: p.ficIssuer},
	}
}

const ficPrefix = "No matching federated identity record found for presented assertion "

func (p *providers) ficSuccess(c *C) {
	id := p.t.Identities.Federated
	r, _ := p.postToken(c, p.t.TenantID, assertionForm(id.ClientID, p.assertion(c, id, nil), acrResource+"/.default"))
	r.status(c, 200)
	body := r.object(c)
	c.Equal("token_type", "Bearer", str(body, "token_type"))
	exp, isNum := body["expires_in"].(float64)
	c.Check(isNum && exp > 0, "expires_in: want a positive JSON number (v2 endpoint), got %#v", body["expires_in"])
	cl := claims(c, "access_token", str(body, "access_token"))
	c.Equal("aud", acrResource, str(cl, "aud"))
	c.Equal("iss", "https://sts.windows.net/"+p.t.TenantID+"/", str(cl, "iss"))
	c.Equal("tid", p.t.TenantID, str(cl, "tid"))
	c.Equal("appid", id.ClientID, str(cl, "appid"))
	c.Equal("ver", "1.0", str(cl, "ver"))
	c.Check(str(cl, "oid") != "" && str(cl, "oid") == str(cl, "sub"), "oid %q must be set and equal sub %q (app-only token)", str(cl, "oid"), str(cl, "sub"))
	if id.ObjectID != "" {
		c.Equal("oid", id.ObjectID, str(cl, "oid"))
	}
}

func (p *providers) ficUnknownResource(c *C) {
	id := p.t.Identities.Federated
	res := "https://conformance.invalid"
	r, corr := p.postToken(c, p.t.TenantID, assertionForm(id.ClientID, p.assertion(c, id, nil), res+"/.default"))
	checkAADError(c, r, corr, aadError{400, "invalid_resource", 500011, "The resource principal named " + res + " was not found in the tenant"})
}

func (p *providers) ficUnknownClient(c *C) {
	client := newGUID()
	r, corr := p.postToken(c, p.t.TenantID, assertionForm(client, p.assertion(c, p.t.Identities.Federated, nil), acrResource+"/.default"))
	checkAADError(c, r, corr, aadError{400, "unauthorized_client", 700016, "Application with identifier '" + client + "' was not found in the directory '"})
}

func (p *providers) ficMalformed(c *C) {
	r, corr := p.postToken(c, p.t.TenantID, assertionForm(p.t.Identities.Federated.ClientID, "not.a.jwt", acrResource+"/.default"))
	c.Check(r.StatusCode == 400 || r.StatusCode == 401, "status: want 400 or 401, got %d", r.StatusCode)
	var e struct {
		Error string `json:"error"`
		Codes []int  `json:"error_codes"`
	}
	if err := decodeJSON(r.Body, &e); err != nil {
		c.Fatalf("%v", err)
	}
	c.Must(len(e.Codes) == 1, "error_codes: want one code, got %v", e.Codes)
	c.Check(e.Error == "invalid_request" || e.Error == "invalid_client", "error: want invalid_request or invalid_client, got %q", e.Error)
	checkAADError(c, r, corr, aadError{r.StatusCode, e.Error, e.Codes[0], ""})
}

func (p *providers) ficUnknownKid(c *C) {
	id := p.t.Identities.Federated
	good := claims(c, "service-account token", p.assertion(c, id, nil))
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		c.Broken("generating a key: %v", err)
	}
	k, err := jwtx.NewKey(priv)
	if err != nil {
		c.Broken("wrapping the key: %v", err)
	}
	forged, err := k.SignBare(good)
	if err != nil {
		c.Broken("signing: %v", err)
	}
	r, corr := p.postToken(c, p.t.TenantID, assertionForm(id.ClientID, forged, acrResource+"/.default"))
	checkAADError(c, r, corr, aadError{401, "invalid_client", 7000272,
		"The certificate with identifier " + k.KID + " used to sign the federated credential could not be found in the metadata of identity provider " + str(good, "iss") + "."})
}

func (p *providers) ficMismatch(c *C, id *Identity, mod func(*api.ServiceAccountTokenRequest), code int, text string) {
	r, corr := p.postToken(c, p.t.TenantID, assertionForm(id.ClientID, p.assertion(c, id, mod), acrResource+"/.default"))
	checkAADError(c, r, corr, aadError{401, "invalid_client", code, text})
}

func (p *providers) ficAudience(c *C) {
	aud := "api://AzureCRTokenExchange"
	if p.t.Identities.Federated.Audience == aud {
		aud = DefaultAudience
	}
	p.ficMismatch(c, p.t.Identities.Federated, func(r *api.ServiceAccountTokenRequest) { r.Audiences = []string{aud} }, 700212, ficPrefix+"audience '"+aud+"'.")
}

func (p *providers) ficSubject(c *C) {
	id := p.t.Identities.Federated
	ns := fixtureNamespace + "-other"
	p.ficMismatch(c, id, func(r *api.ServiceAccountTokenRequest) { r.Namespace = ns }, 700213, ficPrefix+"subject 'system:serviceaccount:"+ns+":"+id.SA+"'.")
}

func (p *providers) ficSubjectCase(c *C) {
	id := p.fx.caseID
	p.ficMismatch(c, id, nil, 7002138, ficPrefix+"subject '"+id.Subject()+"'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison.")
}

func (p *providers) ficIssuer(c *C) {
	id := p.fx.noSlash
	p.ficMismatch(c, id, nil, 700211, ficPrefix+"issuer '"+id.Issuer+"'.")
}

var rangeRE = regexp.MustCompile(`Current time: (\S+), assertion valid from (\S+), expiry time of assertion (\S+)\.`)

func (p *providers) ficExpired(c *C) {
	id := p.t.Identities.Federated
	tok := p.assertion(c, id, func(r *api.ServiceAccountTokenRequest) { r.Expiration = "10m" })
	if _, err := p.admin.AdvanceClock(c.Context(), time.Hour); err != nil {
		c.Broken("advancing the clock: %v", err)
	}
	defer func() {
		if _, err := p.admin.AdvanceClock(c.Context(), -time.Hour); err != nil {
			c.Broken("moving the clock back: %v", err)
		}
	}()
	r, corr := p.postToken(c, p.t.TenantID, assertionForm(id.ClientID, tok, acrResource+"/.default"))
	checkAADError(c, r, corr, aadError{401, "invalid_client", 700024, "Client assertion is not within its valid time range."})
	if m := rangeRE.FindStringSubmatch(string(r.Body)); c.Check(m != nil, "the description does not give the current time and the assertion's range") {
		exp := unixClaim(c, claims(c, "assertion", tok), "exp")
		got, err := time.Parse(time.RFC3339Nano, m[3])
		c.Check(err == nil && got.Equal(exp), "expiry time of assertion %s is not the token's exp %s", m[3], exp.UTC().Format(time.RFC3339))
	}
}
