package conformance

import (
	"encoding/json"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/jwtx"
)

// oidcCases: the AKS OIDC issuer (protocols.md 5.2).
func (p *providers) oidcCases() []Case {
	need := []Feature{FeatureOIDC}
	return []Case{
		{ID: "oidc/discovery/document", Title: "{issuer}.well-known/openid-configuration: issuer with trailing slash, jwks_uri {issuer}openid/v1/jwks, RS256", Needs: need, Run: p.oidcDiscovery},
		{ID: "oidc/jwks/rs256", Title: "JWKS: public RSA keys with kid, alg RS256, use sig", Needs: need, Run: p.oidcJWKS},
		{ID: "oidc/jwks/verifies-sa-token", Title: "a service-account token's kid is in the JWKS and its signature verifies", Needs: []Feature{FeatureOIDC, FeatureAdmin}, Run: p.oidcVerifies},
	}
}

func (p *providers) issuerDoc(c *C) map[string]any {
	iss := p.t.Issuers[0].URL
	r := p.get(c, strings.TrimSuffix(iss, "/")+"/.well-known/openid-configuration", nil)
	r.status(c, 200)
	return r.object(c)
}

func listHas(v any, want string) bool {
	l, _ := v.([]any)
	for _, x := range l {
		if x == want {
			return true
		}
	}
	return false
}

func (p *providers) oidcDiscovery(c *C) {
	iss := p.t.Issuers[0].URL
	doc := p.issuerDoc(c)
	c.Check(strings.HasSuffix(iss, "/"), "the declared issuer %s has no trailing slash (AKS issuers end with /)", iss)
	c.Equal("issuer", iss, str(doc, "issuer"))
	c.Equal("jwks_uri", strings.TrimSuffix(iss, "/")+"/openid/v1/jwks", str(doc, "jwks_uri"))
	c.Check(listHas(doc["id_token_signing_alg_values_supported"], "RS256"), "id_token_signing_alg_values_supported lacks RS256: %v", doc["id_token_signing_alg_values_supported"])
	c.Check(listHas(doc["response_types_supported"], "id_token"), "response_types_supported lacks id_token: %v", doc["response_types_supported"])
	c.Check(listHas(doc["subject_types_supported"], "public"), "subject_types_supported lacks public: %v", doc["subject_types_supported"])
}

func (p *providers) issuerKeys(c *C) jose.JSONWebKeySet {
	r := p.get(c, str(p.issuerDoc(c), "jwks_uri"), nil)
	r.status(c, 200)
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := decodeJSON(r.Body, &raw); err != nil {
		c.Fatalf("%v", err)
	}
	for i, k := range raw.Keys {
		c.Check(str(k, "kty") == "RSA" && str(k, "alg") == "RS256" && str(k, "use") == "sig" && str(k, "kid") != "",
			"keys[%d]: want kty RSA, alg RS256, use sig and a kid, got kty %v alg %v use %v kid %v", i, k["kty"], k["alg"], k["use"], k["kid"])
		c.Check(k["d"] == nil, "keys[%d] publishes the private exponent", i)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(r.Body, &set); err != nil {
		c.Fatalf("the JWKS does not decode: %v", err)
	}
	c.Must(len(set.Keys) > 0, "the JWKS is empty")
	return set
}

func (p *providers) oidcJWKS(c *C) { p.issuerKeys(c) }

func (p *providers) oidcVerifies(c *C) {
	set := p.issuerKeys(c)
	cluster := p.t.Issuers[0].Cluster
	sa, err := p.admin.ServiceAccountToken(c.Context(), api.ServiceAccountTokenRequest{Cluster: cluster, Namespace: fixtureNamespace, ServiceAccount: "verify", Audiences: []string{DefaultAudience}})
	if err != nil {
		c.Broken("minting a service-account token: %v", err)
	}
	tok := sa.Token
	t, err := jwtx.Parse(tok)
	c.Must(err == nil, "the service-account token is not a JWT: %v", err)
	keys := set.Key(t.KID)
	c.Must(len(keys) == 1, "kid %q of the service-account token is not in the JWKS (exactly once)", t.KID)
	c.Check(t.Verify(keys[0].Key) == nil, "the service-account token's signature does not verify with the published key %s", t.KID)
	c.Equal("token iss", p.t.Issuers[0].URL, str(claims(c, "service-account token", tok), "iss"))
}
