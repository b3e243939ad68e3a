package fakeacr

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
	"github.com/azsim/azsim/world"
)

// Audiences /oauth2/exchange accepts (protocols.md 3.2).
var (
	acrAudiences = []string{"https://containerregistry.azure.net", "https://containerregistry.azure.net/"}
	armAudiences = []string{"https://management.azure.com/", "https://management.azure.com",
		"https://management.core.windows.net/", "https://management.core.windows.net"}
)

// maxFormBytes bounds the token endpoints' request bodies.
const maxFormBytes = 1 << 20

// parseForm reads a POST form (query parameters such as api-version are
// tolerated and ignored).
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return badRequest("the request body is not a valid form: " + err.Error())
	}
	return nil
}

// checkService requires the service parameter to name this registry.
func checkService(rc *reqCtx, service string) error {
	switch {
	case service == "":
		return badRequest("service is required")
	case !strings.EqualFold(service, rc.reg.LoginServer):
		return unauthorized(msgAuthRequired, fmt.Sprintf("service %q is not this registry (%s)", clip(service), rc.reg.LoginServer))
	}
	return nil
}

// exchange implements POST /oauth2/exchange: Entra access token → ACR
// refresh token (protocols.md 3.2). GET and other methods answer 404.
func (a *ACR) exchange(w http.ResponseWriter, rc *reqCtx) error {
	r := rc.r
	if r.Method != http.MethodPost {
		return notFound(r.Method + " /oauth2/exchange is not supported; use POST")
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	if err := checkService(rc, r.PostForm.Get("service")); err != nil {
		return err
	}
	raw, err := exchangeToken(r.PostForm)
	if err != nil {
		return err
	}
	s, err := a.entraSubject(rc, raw, r.PostForm.Get("tenant"))
	if err != nil {
		return err
	}
	s.annotate(rc)
	tok, c, err := a.mint(rc, grantRefresh, s.sub(rc), nil)
	if err != nil {
		return err
	}
	trace.Annotate(r, func(d *api.Decision) { d.TokenOut = c.JTI })
	a.log.Info("acr refresh token issued", "registry", rc.reg.Name, "principal", s.principal.Name, "jti", c.JTI)
	writeJSON(w, http.StatusOK, map[string]string{"refresh_token": tok})
	return nil
}

// exchangeToken picks the Entra token of the grant (protocols.md 3.2).
func exchangeToken(f url.Values) (string, error) {
	get := f.Get
	switch g := get("grant_type"); g {
	case "access_token":
		if get("access_token") == "" {
			return "", badRequest("access_token is required for grant_type access_token")
		}
		return get("access_token"), nil
	case "access_token_refresh_token":
		if get("access_token") == "" || get("refresh_token") == "" {
			return "", badRequest("access_token and refresh_token are required for grant_type access_token_refresh_token")
		}
		return get("access_token"), nil
	case "refresh_token":
		// The fake Entra ID issues no refresh tokens: the refresh_token
		// field is checked as an Entra access token (see the package doc).
		if get("refresh_token") == "" {
			return "", badRequest("refresh_token is required for grant_type refresh_token")
		}
		return get("refresh_token"), nil
	case "":
		return "", badRequest("grant_type is required")
	default:
		return "", badRequest(fmt.Sprintf("grant_type %q is not supported", clip(g)))
	}
}

// entraSubject checks an Entra access token for this registry: validity
// (TokenVerifier), audience, tenant and principal (protocols.md 3.2).
func (a *ACR) entraSubject(rc *reqCtx, raw, tenant string) (subject, error) {
	c, err := a.verifier.VerifyAccessToken(raw)
	if err != nil {
		return subject{}, unauthorized("invalid aad access token", "Entra token rejected: "+err.Error())
	}
	trace.Annotate(rc.r, func(d *api.Decision) {
		d.TokenIn, d.PrincipalID = c.UTI, c.OID
		d.Facts[api.FactRegistry] = rc.reg.LoginServer
		d.Facts[api.FactAudience] = c.Aud
	})
	switch {
	case containsFold(armAudiences, c.Aud):
		if !rc.reg.ArmAudienceAllowed() {
			trace.Annotate(rc.r, func(d *api.Decision) { d.Hint = armDisallowedHint(rc.reg) })
			return subject{}, unauthorized(msgArmDisallow, msgArmDisallow+": ARM audience "+c.Aud+", but authenticationAsArm is disabled on "+rc.reg.Name)
		}
	case !containsFold(acrAudiences, c.Aud):
		return subject{}, unauthorized("invalid aad access token audience",
			fmt.Sprintf("Entra token audience %q is neither ACR (https://containerregistry.azure.net) nor ARM", c.Aud))
	}
	if !strings.EqualFold(c.TID, rc.reg.TenantID) {
		return subject{}, unauthorized("aad access token tenant does not match the registry tenant",
			fmt.Sprintf("token tenant %s, registry %s is in tenant %s", c.TID, rc.reg.Name, rc.reg.TenantID))
	}
	if tenant != "" && !sameTenant(rc.ix, tenant, rc.reg.TenantID) {
		return subject{}, unauthorized("tenant does not match the registry tenant",
			fmt.Sprintf("tenant parameter %q, registry %s is in tenant %s", clip(tenant), rc.reg.Name, rc.reg.TenantID))
	}
	s, err := principalSubject(rc, c.OID)
	if err != nil {
		return subject{}, err
	}
	s.tokenIn = c.UTI
	return s, nil
}

func sameTenant(ix *world.Index, given, id string) bool {
	if strings.EqualFold(given, id) {
		return true
	}
	t, ok := ix.Tenant(given)
	return ok && strings.EqualFold(t.ID, id)
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
