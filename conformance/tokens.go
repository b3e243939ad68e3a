package conformance

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/azsim/azsim/api"
)

// Resource identifiers the cases request tokens for.
const (
	acrResource = "https://containerregistry.azure.net"
	armResource = "https://management.azure.com"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// newGUID returns a random version-4 GUID (client-request-id values).
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (p *providers) tokenURL(tenant string) string {
	return p.t.Entra.Authority + "/" + tenant + "/oauth2/v2.0/token"
}

// assertion returns a service-account token for id: minted through the
// admin API (mod may change the request), else read from its assertion file.
func (p *providers) assertion(c *C, id *Identity, mod func(*api.ServiceAccountTokenRequest)) string {
	if p.admin == nil {
		if mod != nil || id.AssertionFile == "" {
			c.Broken("a crafted assertion needs the admin API")
		}
		b, err := os.ReadFile(id.AssertionFile)
		if err != nil {
			c.Broken("reading the assertion file: %v", err)
		}
		return strings.TrimSpace(string(b))
	}
	req := api.ServiceAccountTokenRequest{Cluster: p.clusterOf(id.Issuer), Namespace: id.Namespace, ServiceAccount: id.SA, Audiences: []string{id.Audience}}
	if mod != nil {
		mod(&req)
	}
	tok, err := p.admin.ServiceAccountToken(c.Context(), req)
	if err != nil {
		c.Broken("minting a service-account token: %v", err)
	}
	return tok.Token
}

func assertionForm(clientID, assertion, scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_info": {"1"},
		"client_assertion_type": {assertionType}, "client_assertion": {assertion},
		"scope": {scope + " openid offline_access profile"}}
}

// postToken sends a token request with a fresh client-request-id and
// returns the response and that id.
func (p *providers) postToken(c *C, tenant string, form url.Values) (*response, string) {
	corr := newGUID()
	r := p.postForm(c, p.tokenURL(tenant), form, map[string]string{"client-request-id": corr, "return-client-request-id": "false"})
	return r, corr
}

// entraToken gets an Entra access token for id and resource, through IMDS
// or the federated exchange; failures stop the case (a prerequisite).
func (p *providers) entraToken(c *C, id *Identity, resource string) string {
	if id.Pool != "" {
		m := p.t.imds(id.Pool)
		r := p.imdsGet(c, m.URL, url.Values{"api-version": {"2018-02-01"}, "resource": {resource}, "client_id": {id.ClientID}}, true)
		c.Must(r.StatusCode == 200, "prerequisite: IMDS token for %s: status %d (body %q)", id.ClientID, r.StatusCode, clip(string(r.Body)))
		return str(r.object(c), "access_token")
	}
	r, _ := p.postToken(c, p.t.TenantID, assertionForm(id.ClientID, p.assertion(c, id, nil), resource+"/.default"))
	c.Must(r.StatusCode == 200, "prerequisite: Entra token for %s: status %d (body %q)", id.ClientID, r.StatusCode, clip(string(r.Body)))
	tok := str(r.object(c), "access_token")
	c.Must(tok != "", "prerequisite: Entra token response for %s has no access_token", id.ClientID)
	return tok
}

// imdsGet calls the IMDS token endpoint with the Metadata header when meta.
func (p *providers) imdsGet(c *C, base string, q url.Values, meta bool) *response {
	u := base + "/metadata/identity/oauth2/token"
	if q != nil {
		u += "?" + q.Encode()
	}
	hdr := map[string]string{}
	if meta {
		hdr["Metadata"] = "true"
	}
	return p.get(c, u, hdr)
}
