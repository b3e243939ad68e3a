package conformance

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// acrCases: the challenge and /oauth2/exchange (protocols.md 3.1, 3.2, 3.4).
func (p *providers) acrCases() []Case {
	need := []Feature{FeatureACR}
	return []Case{
		{ID: "acr/challenge/ping", Title: "/v2/ without credentials: 401, one Bearer challenge with quoted realm and service, no spaces", Needs: need, Run: p.acrPing},
		{ID: "acr/challenge/manifest-scope", Title: "manifest without credentials: the challenge adds scope repository:<repo>:pull, the body lists it in detail", Needs: need, Run: p.acrResourceChallenge("manifests", "pull")},
		{ID: "acr/challenge/tags-scope", Title: "tag list without credentials: the challenge adds scope repository:<repo>:metadata_read", Needs: need, Run: p.acrResourceChallenge("tags", "metadata_read")},
		{ID: "acr/exchange/access-token", Title: "POST /oauth2/exchange grant_type=access_token → 200 {refresh_token}", Needs: need, Run: p.acrExchange("access_token")},
		{ID: "acr/exchange/access-token-refresh-token", Title: "grant_type=access_token_refresh_token with tenant (kubelet provider) → 200 {refresh_token}", Needs: need, Run: p.acrExchange("access_token_refresh_token")},
		{ID: "acr/exchange/get-not-found", Title: "GET /oauth2/exchange: 404", Needs: need, Run: p.acrExchangeGet},
		{ID: "acr/exchange/refresh-token-claims", Title: "refresh token payload decodes with standard base64; iss Azure Container Registry, aud the login server, exp", Needs: need, Run: p.acrRefreshClaims},
	}
}

var challengeRE = regexp.MustCompile(`^Bearer realm="([^"]+)",service="([^"]+)"(?:,scope="([^"]+)")?(?:,error="([^"]+)")?$`)

func (p *providers) registry() (RegistryTarget, string) {
	r := p.t.Registries[0]
	return r, "https://" + r.LoginServer
}

// checkChallenge checks a registry 401: exactly one Www-Authenticate in
// ACR's exact shape with the wanted scope and error, a JSON body ending
// with a newline, code UNAUTHORIZED.
func (p *providers) checkChallenge(c *C, r *response, scope, errCode string) map[string]any {
	reg, base := p.registry()
	c.Must(r.StatusCode == 401, "status: want 401, got %d (body %q)", r.StatusCode, clip(string(r.Body)))
	vals := r.Header.Values("Www-Authenticate")
	c.Must(len(vals) == 1, "want exactly one Www-Authenticate header (the kubelet provider requires it), got %d: %q", len(vals), vals)
	m := challengeRE.FindStringSubmatch(vals[0])
	c.Must(m != nil, "Www-Authenticate %q is not Bearer realm=\"…\",service=\"…\"[,scope=\"…\"][,error=\"…\"] (quoted, comma-separated, no spaces)", vals[0])
	c.Equal("challenge realm", base+"/oauth2/token", m[1])
	c.Equal("challenge service", reg.LoginServer, m[2])
	c.Equal("challenge scope", scope, m[3])
	c.Equal("challenge error", errCode, m[4])
	c.Check(strings.HasSuffix(string(r.Body), "}\n"), "the body must be JSON ending with a newline, got %q", clip(string(r.Body)))
	c.Check(strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"), "Content-Type: want application/json, got %q", r.Header.Get("Content-Type"))
	var body struct {
		Errors []map[string]any `json:"errors"`
	}
	if err := decodeJSON(r.Body, &body); err != nil {
		c.Fatalf("%v", err)
	}
	c.Must(len(body.Errors) > 0, "errors is empty")
	c.Equal("errors[0].code", "UNAUTHORIZED", str(body.Errors[0], "code"))
	return body.Errors[0]
}

func (p *providers) acrPing(c *C) {
	_, base := p.registry()
	r := p.get(c, base+"/v2/", nil)
	e := p.checkChallenge(c, r, "", "")
	c.Equal("Docker-Distribution-Api-Version", "registry/2.0", r.Header.Get("Docker-Distribution-Api-Version"))
	_, has := e["detail"]
	c.Check(has && e["detail"] == nil, "errors[0].detail: want null, got %#v", e["detail"])
}

func (p *providers) acrResourceChallenge(kind, action string) func(*C) {
	return func(c *C) {
		reg, base := p.registry()
		u := base + "/v2/" + reg.Repository + "/manifests/" + reg.Reference
		if kind == "tags" {
			u = base + "/v2/" + reg.Repository + "/tags/list"
		}
		e := p.checkChallenge(c, p.get(c, u, nil), "repository:"+reg.Repository+":"+action, "")
		want, _ := json.Marshal([]map[string]string{{"Type": "repository", "Name": reg.Repository, "Action": action}})
		got, _ := json.Marshal(e["detail"])
		c.Check(string(got) == string(want), "errors[0].detail: want %s, got %s", want, got)
	}
}

// exchange posts an Entra token to /oauth2/exchange.
func (p *providers) exchange(c *C, grant, aad string) *response {
	reg, base := p.registry()
	f := url.Values{"grant_type": {grant}, "service": {reg.LoginServer}, "access_token": {aad}}
	if grant == "access_token_refresh_token" {
		f.Set("refresh_token", aad)
		f.Set("tenant", p.t.TenantID)
	}
	return p.postForm(c, base+"/oauth2/exchange", f, map[string]string{"Accept": "application/json"})
}

// refreshToken runs the exchange for id (a prerequisite of later cases).
func (p *providers) refreshToken(c *C, id *Identity) string {
	r := p.exchange(c, "access_token", p.entraToken(c, id, acrResource))
	c.Must(r.StatusCode == 200, "prerequisite: /oauth2/exchange: status %d (body %q)", r.StatusCode, clip(string(r.Body)))
	tok := str(r.object(c), "refresh_token")
	c.Must(tok != "", "prerequisite: /oauth2/exchange answered no refresh_token")
	return tok
}

func (p *providers) acrExchange(grant string) func(*C) {
	return func(c *C) {
		r := p.exchange(c, grant, p.entraToken(c, p.t.Identities.Kubelet, acrResource))
		r.status(c, 200)
		c.Check(strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"), "Content-Type: want application/json, got %q", r.Header.Get("Content-Type"))
		c.Check(str(r.object(c), "refresh_token") != "", "no refresh_token in %q", clip(string(r.Body)))
	}
}

func (p *providers) acrExchangeGet(c *C) {
	_, base := p.registry()
	r := p.get(c, base+"/oauth2/exchange", nil)
	c.Check(r.StatusCode == http.StatusNotFound, "status: want 404, got %d", r.StatusCode)
}

func (p *providers) acrRefreshClaims(c *C) {
	reg, _ := p.registry()
	m, err := stdPayload(p.refreshToken(c, p.t.Identities.Kubelet))
	c.Must(err == nil, "the refresh token's payload breaks clients that decode it with standard base64 (the ACR SDK): %v", err)
	c.Equal("iss", "Azure Container Registry", str(m, "iss"))
	c.Equal("aud", reg.LoginServer, str(m, "aud"))
	exp, ok := m["exp"].(float64)
	c.Check(ok && int64(exp) > time.Now().Add(-24*time.Hour).Unix(), "exp: want a numeric expiry, got %#v", m["exp"])
}
