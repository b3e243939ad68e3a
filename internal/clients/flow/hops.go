package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// imdsToken asks IMDS for an ACR token of the identity clientID
// (protocols.md 2.1), as the kubelet credential provider does.
func (c *Client) imdsToken(ctx context.Context, r *Result, clientID, resource string) (string, bool) {
	q := url.Values{"api-version": {"2018-02-01"}, "resource": {resource}}
	if clientID != "" {
		q.Set("client_id", clientID)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://169.254.169.254/metadata/identity/oauth2/token?"+q.Encode(), nil)
	req.Header.Set("Metadata", "true")
	status, body, err := c.do(req)
	if err != nil {
		r.fail("imds", 0, "IMDS unreachable: %v", err)
		return "", false
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		r.fail("imds", status, "%s", strings.TrimSpace(string(body)))
		return "", false
	}
	r.ok("imds", "managed-identity token for %s (client_id %s)", resource, clientID)
	return tok.AccessToken, true
}

// entraAssertion exchanges a service-account token for an Entra access token
// for ACR (protocols.md 1.3, client-assertion form).
func (c *Client) entraAssertion(ctx context.Context, r *Result, tenant, clientID, assertion, resource string) (string, bool) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_info": {"1"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion},
		"scope": {strings.TrimSuffix(resource, "/") + "/.default openid offline_access profile"}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.authority()+"/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	status, body, err := c.do(req)
	if err != nil {
		r.fail("entra", 0, "Entra ID unreachable: %v", err)
		return "", false
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		r.fail("entra", status, "%s", strings.TrimSpace(string(body)))
		return "", false
	}
	r.ok("entra", "access token for %s (client_id %s)", resource, clientID)
	return tok.AccessToken, true
}

var challengeRE = regexp.MustCompile(`^Bearer realm="([^"]+)",service="([^"]+)"`)

// challenge reads the registry's bearer challenge (protocols.md 3.1); like
// the kubelet provider it needs exactly one Www-Authenticate header.
func (c *Client) challenge(ctx context.Context, r *Result, registry string) (realm, service string, ok bool) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+registry+"/v2/", nil)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		r.fail("challenge", 0, "registry unreachable: %v", err)
		return "", "", false
	}
	resp.Body.Close()
	h := resp.Header.Values("Www-Authenticate")
	if resp.StatusCode != http.StatusUnauthorized || len(h) != 1 || !challengeRE.MatchString(h[0]) {
		r.fail("challenge", resp.StatusCode, "want 401 with one Bearer challenge, got %d %q", resp.StatusCode, h)
		return "", "", false
	}
	m := challengeRE.FindStringSubmatch(h[0])
	r.ok("challenge", "realm %s, service %s", m[1], m[2])
	return m[1], m[2], true
}

// exchange trades the Entra token for an ACR refresh token (protocols.md 3.2).
func (c *Client) exchange(ctx context.Context, r *Result, realm, service, tenant, aadToken string, kubelet bool) (string, bool) {
	u, err := url.Parse(realm)
	if err != nil {
		r.fail("exchange", 0, "bad realm %q: %v", realm, err)
		return "", false
	}
	form := url.Values{"grant_type": {"access_token"}, "service": {service}, "access_token": {aadToken}}
	if kubelet {
		form.Set("grant_type", "access_token_refresh_token")
		form.Set("refresh_token", aadToken)
		form.Set("tenant", tenant)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.Scheme+"://"+u.Host+"/oauth2/exchange", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body, err := c.do(req)
	var out struct {
		RefreshToken string `json:"refresh_token"`
	}
	switch {
	case err != nil:
		r.fail("exchange", 0, "%v", err)
	case status != http.StatusOK || json.Unmarshal(body, &out) != nil || out.RefreshToken == "":
		r.fail("exchange", status, "%s", strings.TrimSpace(string(body)))
	default:
		r.ok("exchange", "ACR refresh token for %s", service)
		return out.RefreshToken, true
	}
	return "", false
}

// accessToken trades the refresh token for a scoped access token
// (protocols.md 3.3, POST refresh_token grant) and reports the granted access.
func (c *Client) accessToken(ctx context.Context, r *Result, realm, service, repo, refresh string) (string, bool) {
	scope := "repository:" + repo + ":pull"
	form := url.Values{"grant_type": {"refresh_token"}, "service": {service}, "scope": {scope}, "refresh_token": {refresh}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, realm, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body, err := c.do(req)
	var out struct {
		AccessToken string `json:"access_token"`
	}
	switch {
	case err != nil:
		r.fail("token", 0, "%v", err)
	case status != http.StatusOK || json.Unmarshal(body, &out) != nil || out.AccessToken == "":
		r.fail("token", status, "%s", strings.TrimSpace(string(body)))
	default:
		granted, err := grantedActions(out.AccessToken, repo)
		if err != nil {
			r.fail("token", status, "unreadable access token: %v", err)
			return "", false
		}
		// ACR answers 200 with the granted subset (possibly empty); the
		// registry then refuses what is missing (protocols.md 3.3).
		r.ok("token", "access token for %s grants [%s]", scope, granted)
		return out.AccessToken, true
	}
	return "", false
}

var errNoAccess = errors.New("no access claim")

// grantedActions reads the actions an ACR access token grants on repo.
func grantedActions(tok, repo string) (string, error) {
	var c struct {
		Access []struct {
			Type    string   `json:"type"`
			Name    string   `json:"name"`
			Actions []string `json:"actions"`
		} `json:"access"`
	}
	if err := decodeJWTPayload(tok, &c); err != nil {
		return "", err
	}
	if c.Access == nil {
		return "", errNoAccess
	}
	for _, a := range c.Access {
		if a.Type == "repository" && a.Name == repo {
			return strings.Join(a.Actions, ","), nil
		}
	}
	return "", nil
}

func decodeJWTPayload(tok string, v any) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return fmt.Errorf("not a JWT")
	}
	b, err := base64URLDecode(parts[1])
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
