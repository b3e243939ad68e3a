package conformance

import (
	"net/url"
	"strings"
)

// entraCases: discovery, keys, instance discovery and the token endpoint's
// request validation (protocols.md 1.1, 1.2, 1.4, 1.7, 1.9).
func (p *providers) entraCases() []Case {
	need := []Feature{FeatureEntra}
	return []Case{
		{ID: "entra/discovery/document", Title: "v2 OpenID configuration has the endpoints on the authority, tenant substituted", Needs: need, Run: p.discoveryDocument},
		{ID: "entra/discovery/issuer-host", Title: "the configuration's issuer is on the authority's scheme and host (MSAL checks it)", Needs: need, Run: p.discoveryIssuerHost},
		{ID: "entra/discovery/unknown-tenant", Title: "configuration of an unknown tenant: 400 invalid_tenant AADSTS90002", Needs: need, Run: p.discoveryUnknownTenant},
		{ID: "entra/keys/shape", Title: "the jwks_uri serves RSA signing keys with kid, n, e and no private parts", Needs: need, Run: p.keysShape},
		{ID: "entra/instance-discovery/metadata", Title: "instance discovery names the tenant discovery endpoint and the authority host as an alias", Needs: []Feature{FeatureInstanceDiscovery}, Run: p.instanceDiscovery},
		{ID: "entra/token/errors/unknown-tenant", Title: "token request to an unknown tenant: 400 invalid_request AADSTS90002", Needs: need, Run: p.tokenUnknownTenant},
		{ID: "entra/token/errors/unknown-client", Title: "unknown client_id: 400 unauthorized_client AADSTS700016", Needs: need, Run: p.tokenUnknownClient},
		{ID: "entra/token/errors/bad-scope", Title: "client-credentials scope without /.default: 400 invalid_scope AADSTS1002012", Needs: need, Run: p.tokenBadScope},
	}
}

func (p *providers) configURL(tenant string) string {
	return p.t.Entra.Authority + "/" + tenant + "/v2.0/.well-known/openid-configuration"
}

func (p *providers) config(c *C) map[string]any {
	r := p.get(c, p.configURL(p.t.TenantID), nil)
	r.status(c, 200)
	return r.object(c)
}

func (p *providers) discoveryDocument(c *C) {
	doc := p.config(c)
	base := p.t.Entra.Authority + "/" + p.t.TenantID
	c.Equal("token_endpoint", base+"/oauth2/v2.0/token", str(doc, "token_endpoint"))
	c.Equal("authorization_endpoint", base+"/oauth2/v2.0/authorize", str(doc, "authorization_endpoint"))
	c.Equal("issuer", base+"/v2.0", str(doc, "issuer"))
	c.Equal("jwks_uri", base+"/discovery/v2.0/keys", str(doc, "jwks_uri"))
}

func (p *providers) discoveryIssuerHost(c *C) {
	iss, err := url.Parse(str(p.config(c), "issuer"))
	c.Must(err == nil && iss.Host != "", "issuer is not a URL: %v", err)
	auth, _ := url.Parse(p.t.Entra.Authority)
	c.Check(strings.EqualFold(iss.Scheme, auth.Scheme) && strings.EqualFold(iss.Host, auth.Host),
		"issuer %s is not on the authority %s: MSAL refuses it (issuer does not match authority)", iss, p.t.Entra.Authority)
}

func (p *providers) discoveryUnknownTenant(c *C) {
	tenant := newGUID()
	corr := newGUID()
	r := p.get(c, p.configURL(tenant), map[string]string{"client-request-id": corr})
	checkAADError(c, r, corr, aadError{400, "invalid_tenant", 90002, "Tenant '" + tenant + "' not found."})
}

func (p *providers) keysShape(c *C) {
	r := p.get(c, str(p.config(c), "jwks_uri"), nil)
	r.status(c, 200)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := decodeJSON(r.Body, &set); err != nil {
		c.Fatalf("%v", err)
	}
	c.Must(len(set.Keys) > 0, "the key set is empty")
	for i, k := range set.Keys {
		c.Check(str(k, "kty") == "RSA", "keys[%d].kty: want RSA, got %v", i, k["kty"])
		c.Check(str(k, "use") == "sig", "keys[%d].use: want sig, got %v", i, k["use"])
		for _, f := range []string{"kid", "n", "e"} {
			c.Check(str(k, f) != "", "keys[%d] has no %s", i, f)
		}
		for _, f := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			c.Check(k[f] == nil, "keys[%d] publishes the private parameter %s", i, f)
		}
	}
}

func (p *providers) instanceDiscovery(c *C) {
	authz := p.t.Entra.Authority + "/" + p.t.TenantID + "/oauth2/v2.0/authorize"
	r := p.get(c, p.t.Entra.InstanceDiscovery+"?"+url.Values{"api-version": {"1.1"}, "authorization_endpoint": {authz}}.Encode(), nil)
	r.status(c, 200)
	var doc struct {
		Endpoint   string `json:"tenant_discovery_endpoint"`
		APIVersion string `json:"api-version"`
		Metadata   []struct {
			Aliases []string `json:"aliases"`
		} `json:"metadata"`
	}
	if err := decodeJSON(r.Body, &doc); err != nil {
		c.Fatalf("%v", err)
	}
	c.Equal("tenant_discovery_endpoint", p.configURL(p.t.TenantID), doc.Endpoint)
	c.Equal("api-version", "1.1", doc.APIVersion)
	host := strings.TrimPrefix(p.t.Entra.Authority, "https://")
	found := false
	for _, m := range doc.Metadata {
		for _, a := range m.Aliases {
			found = found || strings.EqualFold(a, host)
		}
	}
	c.Check(found, "no metadata entry lists the authority host %s as an alias", host)
}

func secretForm(clientID, scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {"not-a-secret"}, "scope": {scope}}
}

func (p *providers) tokenUnknownTenant(c *C) {
	tenant := newGUID()
	r, corr := p.postToken(c, tenant, secretForm(newGUID(), armResource+"/.default"))
	checkAADError(c, r, corr, aadError{400, "invalid_request", 90002, "Tenant '" + tenant + "' not found."})
}

func (p *providers) tokenUnknownClient(c *C) {
	client := newGUID()
	r, corr := p.postToken(c, p.t.TenantID, secretForm(client, armResource+"/.default"))
	checkAADError(c, r, corr, aadError{400, "unauthorized_client", 700016, "Application with identifier '" + client + "' was not found in the directory '"})
}

func (p *providers) anyClientID() string {
	for _, id := range []*Identity{p.t.Identities.Federated, p.t.Identities.Kubelet, p.t.Identities.NoPull} {
		if id != nil {
			return id.ClientID
		}
	}
	return newGUID()
}

func (p *providers) tokenBadScope(c *C) {
	scope := armResource + "/user_impersonation"
	r, corr := p.postToken(c, p.t.TenantID, secretForm(p.anyClientID(), scope))
	checkAADError(c, r, corr, aadError{400, "invalid_scope", 1002012, "The provided value for scope " + scope + " is not valid."})
}
