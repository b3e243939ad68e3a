package fakeacr

import (
	"net/http"
	"net/url"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
)

// tokenResponse is the /oauth2/token success body (protocols.md 3.3).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// token implements /oauth2/token (protocols.md 3.3): POST with the
// refresh_token grant (SDK, az) or the anonymous password grant, GET with
// Basic credentials or anonymously (docker, containerd fallback).
func (a *ACR) token(w http.ResponseWriter, rc *reqCtx) error {
	var params url.Values
	switch rc.r.Method {
	case http.MethodPost:
		if err := parseForm(w, rc.r); err != nil {
			return err
		}
		params = rc.r.PostForm
	case http.MethodGet:
		params = rc.r.URL.Query()
	default:
		return notFound(rc.r.Method + " /oauth2/token is not supported; use GET or POST")
	}
	if err := checkService(rc, params.Get("service")); err != nil {
		return err
	}
	scopes, err := ParseScopes(params["scope"])
	if err != nil {
		return badRequest(err.Error())
	}
	var s subject
	if rc.r.Method == http.MethodPost {
		s, err = a.postSubject(rc, params)
	} else {
		s, err = a.getSubject(rc)
	}
	if err != nil {
		return err
	}
	s.annotate(rc)
	return a.issueAccess(w, rc, s, scopes)
}

func (a *ACR) issueAccess(w http.ResponseWriter, rc *reqCtx, s subject, scopes []Scope) error {
	access := grant(rc, s, scopes)
	tok, c, err := a.mint(rc, grantAccess, s.sub(rc), access)
	if err != nil {
		return err
	}
	resp := tokenResponse{AccessToken: tok}
	if a.opts.refreshInGET && rc.r.Method == http.MethodGet && s.kind == subjectPrincipal && s.limit == nil {
		if resp.RefreshToken, _, err = a.mint(rc, grantRefresh, s.sub(rc), nil); err != nil {
			return err
		}
	}
	trace.Annotate(rc.r, func(d *api.Decision) { d.TokenOut = c.JTI })
	a.log.Info("acr access token issued", "registry", rc.reg.Name, "sub", c.Sub, "jti", c.JTI)
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// postSubject handles the POST grants (protocols.md 3.3).
func (a *ACR) postSubject(rc *reqCtx, f url.Values) (subject, error) {
	switch g := f.Get("grant_type"); g {
	case "refresh_token":
		raw := f.Get("refresh_token")
		if raw == "" {
			return subject{}, badRequest("refresh_token is required for grant_type refresh_token")
		}
		c, err := a.verifyACR(rc, raw, grantRefresh)
		if err != nil {
			return subject{}, unauthorized(msgAuthRequired, "refresh token rejected: "+err.Error())
		}
		return subjectOf(rc, c)
	case "password":
		// containerd's password grant gets 400 so that it falls back to GET
		// with Basic (clients.md 5.2); the SDK's anonymous request sends no
		// credentials and an empty refresh_token.
		if f.Get("username") != "" || f.Get("password") != "" || f.Get("refresh_token") != "" {
			return subject{}, badRequest("grant_type password is not supported on POST; use GET with basic authentication")
		}
		return anonymous(rc)
	case "":
		return subject{}, badRequest("grant_type is required")
	default:
		return subject{}, badRequest("grant_type " + clip(g) + " is not supported")
	}
}

// getSubject handles GET: Basic credentials or anonymous.
func (a *ACR) getSubject(rc *reqCtx) (subject, error) {
	if rc.r.Header.Get("Authorization") == "" {
		return anonymous(rc)
	}
	user, pass, ok := rc.r.BasicAuth()
	if !ok {
		return subject{}, unauthorized(msgAuthRequired, "the Authorization header is not Basic credentials")
	}
	return a.basicSubject(rc, user, pass)
}

// anonymous is allowed on anonymous-pull registries only, with the
// confirmed 401 body otherwise (protocols.md 3.3, 3.6).
func anonymous(rc *reqCtx) (subject, error) {
	if !rc.reg.AnonymousPull {
		return subject{}, unauthorized(msgAuthRequired, "no credentials and anonymous pull is disabled on "+rc.reg.Name)
	}
	return subject{kind: subjectAnonymous}, nil
}
