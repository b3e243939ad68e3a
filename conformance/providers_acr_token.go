package conformance

import (
	"net/url"
	"strings"
)

// acrTokenCases: /oauth2/token and registry authorization (protocols.md
// 3.1, 3.3, 3.5).
func (p *providers) acrTokenCases() []Case {
	need := []Feature{FeatureACR}
	noPull := []Feature{FeatureACR, FeatureNoPull}
	return []Case{
		{ID: "acr/token/refresh-grant", Title: "POST /oauth2/token grant_type=refresh_token → access token granting pull", Needs: need, Run: p.acrRefreshGrant},
		{ID: "acr/token/password-post", Title: "POST grant_type=password with credentials: 400 (containerd then falls back to GET)", Needs: need, Run: p.acrPasswordPost},
		{ID: "acr/token/basic-get", Title: "GET with Basic 00000000-…:<refresh token> → access token granting pull", Needs: need, Run: p.acrBasicGet},
		{ID: "acr/token/multiple-scopes", Title: "two scope parameters (GET) and two space-separated scopes (POST) are both granted", Needs: need, Run: p.acrMultipleScopes},
		{ID: "acr/token/invalid-refresh-token", Title: "a refresh token that is not one: 401", Needs: need, Run: p.acrInvalidRefresh},
		{ID: "acr/token/no-pull-access-empty", Title: "identity without pull: the access claim does not grant pull (no 401 at the token endpoint)", Needs: noPull, Run: p.acrNoPullToken},
		{ID: "acr/registry/pull-manifest", Title: "the granted access token pulls the manifest", Needs: need, Run: p.acrPull},
		{ID: "acr/registry/invalid-token", Title: "a bearer token that is not valid: 401 with error=\"invalid_token\" and the scope", Needs: need, Run: p.acrInvalidBearer},
		{ID: "acr/registry/insufficient-scope", Title: "a token for another repository: 401 with error=\"insufficient_scope\"", Needs: need, Run: p.acrOtherRepo},
		{ID: "acr/registry/no-pull-identity", Title: "identity without pull: the pull is refused with 401 insufficient_scope", Needs: noPull, Run: p.acrNoPullPull},
	}
}

const zeroUser = "00000000-0000-0000-0000-000000000000"

func (p *providers) pullScope() string {
	reg, _ := p.registry()
	return "repository:" + reg.Repository + ":pull"
}

func (p *providers) otherRepo() string {
	reg, _ := p.registry()
	return reg.Repository + "-conformance-other"
}

// accessToken runs /oauth2/token with the refresh-token grant.
func (p *providers) accessToken(c *C, refresh string, scopes ...string) *response {
	reg, base := p.registry()
	f := url.Values{"grant_type": {"refresh_token"}, "service": {reg.LoginServer}, "refresh_token": {refresh}, "scope": {strings.Join(scopes, " ")}}
	return p.postForm(c, base+"/oauth2/token", f, nil)
}

// access decodes the access claim of an ACR access token response.
func access(c *C, r *response) map[string][]string {
	r.status(c, 200)
	tok := str(r.object(c), "access_token")
	c.Must(tok != "", "no access_token in %q", clip(string(r.Body)))
	m, err := stdPayload(tok)
	c.Must(err == nil, "access token payload: %v", err)
	out := map[string][]string{}
	list, _ := m["access"].([]any)
	for _, e := range list {
		em, _ := e.(map[string]any)
		for _, a := range asList(em["actions"]) {
			key := str(em, "type") + ":" + str(em, "name")
			out[key] = append(out[key], a.(string))
		}
	}
	return out
}

func grants(acc map[string][]string, repo, action string) bool {
	for _, a := range acc["repository:"+repo] {
		if a == action || a == "*" {
			return true
		}
	}
	return false
}

func (p *providers) acrRefreshGrant(c *C) {
	reg, _ := p.registry()
	acc := access(c, p.accessToken(c, p.refreshToken(c, p.t.Identities.Kubelet), p.pullScope()))
	c.Check(grants(acc, reg.Repository, "pull"), "access does not grant pull on %s: %v", reg.Repository, acc)
}

func (p *providers) acrPasswordPost(c *C) {
	reg, base := p.registry()
	f := url.Values{"grant_type": {"password"}, "service": {reg.LoginServer}, "scope": {p.pullScope()},
		"username": {zeroUser}, "password": {p.refreshToken(c, p.t.Identities.Kubelet)}, "client_id": {"containerd-client"}}
	r := p.postForm(c, base+"/oauth2/token", f, nil)
	c.Check(r.StatusCode == 400, "status: want 400, got %d", r.StatusCode)
}

func (p *providers) basicGet(c *C, refresh string, scopes ...string) *response {
	reg, base := p.registry()
	q := url.Values{"service": {reg.LoginServer}, "scope": scopes}
	req := newRequest(c, "GET", base+"/oauth2/token?"+q.Encode())
	req.SetBasicAuth(zeroUser, refresh)
	return p.do(c, req)
}

func (p *providers) acrBasicGet(c *C) {
	reg, _ := p.registry()
	acc := access(c, p.basicGet(c, p.refreshToken(c, p.t.Identities.Kubelet), p.pullScope()))
	c.Check(grants(acc, reg.Repository, "pull"), "access does not grant pull on %s: %v", reg.Repository, acc)
}

func (p *providers) acrMultipleScopes(c *C) {
	reg, _ := p.registry()
	refresh := p.refreshToken(c, p.t.Identities.Kubelet)
	other := "repository:" + p.otherRepo() + ":pull"
	for name, r := range map[string]*response{"GET": p.basicGet(c, refresh, p.pullScope(), other), "POST": p.accessToken(c, refresh, p.pullScope(), other)} {
		acc := access(c, r)
		c.Check(grants(acc, reg.Repository, "pull") && grants(acc, p.otherRepo(), "pull"), "%s: want pull on %s and %s, got %v", name, reg.Repository, p.otherRepo(), acc)
	}
}

func (p *providers) acrInvalidRefresh(c *C) {
	r := p.accessToken(c, "not-a-refresh-token", p.pullScope())
	c.Check(r.StatusCode == 401, "status: want 401, got %d", r.StatusCode)
}

func (p *providers) manifest(c *C, bearer string) *response {
	reg, base := p.registry()
	req := newRequest(c, "GET", base+"/v2/"+reg.Repository+"/manifests/"+reg.Reference)
	req.Header.Set("Accept", strings.Join([]string{"application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
		"application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json"}, ", "))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return p.do(c, req)
}

func (p *providers) acrPull(c *C) {
	r := p.accessToken(c, p.refreshToken(c, p.t.Identities.Kubelet), p.pullScope())
	r.status(c, 200)
	m := p.manifest(c, str(r.object(c), "access_token"))
	m.status(c, 200)
	c.Check(strings.HasPrefix(m.Header.Get("Docker-Content-Digest"), "sha256:"), "Docker-Content-Digest: want sha256:…, got %q", m.Header.Get("Docker-Content-Digest"))
}

func (p *providers) acrInvalidBearer(c *C) {
	p.checkChallenge(c, p.manifest(c, "not-a-token"), p.pullScope(), "invalid_token")
}

func (p *providers) acrOtherRepo(c *C) {
	r := p.accessToken(c, p.refreshToken(c, p.t.Identities.Kubelet), "repository:"+p.otherRepo()+":pull")
	r.status(c, 200)
	p.checkChallenge(c, p.manifest(c, str(r.object(c), "access_token")), p.pullScope(), "insufficient_scope")
}

// noPullAccess runs the exchange and token request for the identity
// without pull; nil when the registry already refused the exchange.
func (p *providers) noPullAccess(c *C) *response {
	r := p.exchange(c, "access_token", p.entraToken(c, p.noPull(), acrResource))
	if r.StatusCode != 200 {
		c.Check(r.StatusCode == 401, "exchange for an identity without pull: want 200 or 401, got %d", r.StatusCode)
		c.Logf("the registry refused the exchange itself (%d)", r.StatusCode)
		return nil
	}
	return p.accessToken(c, str(r.object(c), "refresh_token"), p.pullScope())
}

func (p *providers) acrNoPullToken(c *C) {
	reg, _ := p.registry()
	if r := p.noPullAccess(c); r != nil {
		acc := access(c, r)
		c.Check(!grants(acc, reg.Repository, "pull"), "access grants pull on %s to an identity without pull: %v", reg.Repository, acc)
	}
}

func (p *providers) acrNoPullPull(c *C) {
	r := p.noPullAccess(c)
	if r == nil {
		return
	}
	r.status(c, 200)
	p.checkChallenge(c, p.manifest(c, str(r.object(c), "access_token")), p.pullScope(), "insufficient_scope")
}
