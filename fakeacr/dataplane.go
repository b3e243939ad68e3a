package fakeacr

import (
	"errors"
	"net/http"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/fakeacr/internal/ocistore"
	"github.com/azsim/azsim/internal/middleware/trace"
	"github.com/azsim/azsim/world"
)

// need is the access a registry API request requires (protocols.md 3.1
// table): one action on one resource, and the actions its challenge names.
type need struct {
	typ, name        string
	action           string
	challengeActions []string
}

func (n *need) challengeScope() string {
	return n.typ + ":" + n.name + ":" + strings.Join(n.challengeActions, ",")
}

func repoNeed(name, action string) (*need, error) {
	if !validName(name) {
		return nil, &apiError{status: http.StatusNotFound, code: "NAME_INVALID", message: "invalid repository name",
			reason: "invalid repository name " + clip(name)}
	}
	ch := []string{action}
	if action == world.ActionPush {
		ch = []string{world.ActionPull, world.ActionPush} // Docker convention
	}
	return &need{typ: typeRepository, name: name, action: action, challengeActions: ch}, nil
}

var catalogNeed = &need{typ: typeRegistry, name: nameCatalog, action: actionAll, challengeActions: []string{actionAll}}

// requiredAccess maps a data-plane request to the access it needs; nil for
// the /v2/ ping (protocols.md 3.1).
func requiredAccess(r *http.Request) (*need, error) {
	p := r.URL.Path
	switch {
	case p == "/v2" || p == "/v2/":
		return nil, nil
	case p == "/v2/_catalog" || p == "/acr/v1/_catalog":
		return catalogNeed, nil
	case strings.HasPrefix(p, "/acr/v1/") && strings.HasSuffix(p, "/_tags"):
		return repoNeed(strings.TrimSuffix(strings.TrimPrefix(p, "/acr/v1/"), "/_tags"), world.ActionMetadataRead)
	case strings.HasPrefix(p, "/acr/v1/"):
		return nil, notFound("ACR API " + clip(p) + " is not simulated")
	}
	segs := strings.Split(strings.TrimPrefix(p, "/v2/"), "/")
	n := len(segs)
	name, kind := "", ""
	switch {
	case n >= 3 && segs[n-2] == "tags" && segs[n-1] == "list":
		name, kind = strings.Join(segs[:n-2], "/"), "tags"
	case n >= 4 && segs[n-3] == "blobs" && segs[n-2] == "uploads":
		name, kind = strings.Join(segs[:n-3], "/"), "blobs"
	case n >= 3 && (segs[n-2] == "manifests" || segs[n-2] == "blobs" || segs[n-2] == "referrers"):
		name, kind = strings.Join(segs[:n-2], "/"), segs[n-2]
	default:
		return nil, notFound("unknown registry API " + clip(p))
	}
	return repoNeed(name, methodAction(r.Method, kind))
}

func methodAction(method, kind string) string {
	switch {
	case kind == "tags":
		return world.ActionMetadataRead
	case method == http.MethodGet || method == http.MethodHead:
		return world.ActionPull
	case method == http.MethodDelete:
		return world.ActionDelete
	default: // PUT, POST, PATCH
		return world.ActionPush
	}
}

// dataPlane authorizes a registry API request and serves it from the
// registry's backend (protocols.md 3.1, 3.5): a Bearer ACR access token
// whose access covers the request, or Basic credentials (package doc).
func (a *ACR) dataPlane(w http.ResponseWriter, rc *reqCtx) error {
	nd, err := requiredAccess(rc.r)
	if err != nil {
		return err
	}
	if err := a.authorize(rc, nd); err != nil {
		return err
	}
	b, err := a.backend(rc.r.Context(), rc.reg)
	if err != nil {
		return err
	}
	if strings.HasPrefix(rc.r.URL.Path, "/acr/v1/") {
		return a.acrAPI(w, rc, b, nd)
	}
	b.h.ServeHTTP(w, rc.r.WithContext(ocistore.WithPrincipal(rc.r.Context(), rc.principal)))
	return nil
}

func (a *ACR) authorize(rc *reqCtx, nd *need) error {
	trace.Annotate(rc.r, func(d *api.Decision) {
		d.Facts[api.FactRegistry] = rc.reg.LoginServer
		if nd != nil {
			d.Resource = nd.typ + ":" + nd.name + ":" + nd.action
		}
		if nd != nil && nd.typ == typeRepository {
			d.Facts[api.FactRepository], d.Facts[api.FactActions] = nd.name, nd.action
		}
	})
	scheme, cred, _ := strings.Cut(rc.r.Header.Get("Authorization"), " ")
	switch {
	case scheme == "":
		return challengeError(rc, nd, "", "no credentials")
	case strings.EqualFold(scheme, "Bearer"):
		return a.authorizeBearer(rc, nd, strings.TrimSpace(cred))
	case strings.EqualFold(scheme, "Basic"):
		return a.authorizeBasic(rc, nd)
	default:
		return challengeError(rc, nd, errInvalidToken, "unsupported authorization scheme "+clip(scheme))
	}
}

func (a *ACR) authorizeBearer(rc *reqCtx, nd *need, raw string) error {
	c, err := a.verifyACR(rc, raw, grantAccess)
	if err != nil {
		return challengeError(rc, nd, errInvalidToken, "bearer token rejected: "+err.Error())
	}
	rc.principal = c.Sub
	trace.Annotate(rc.r, func(d *api.Decision) {
		d.TokenIn, d.PrincipalID = c.JTI, c.Sub
		d.Facts[api.FactTokenScopes] = scopesOf(*c.Access)
	})
	if p, ok := rc.ix.PrincipalByObjectID(c.Sub); ok {
		trace.Annotate(rc.r, func(d *api.Decision) { d.Principal = p.Name })
	}
	if nd != nil && !allows(*c.Access, nd.typ, nd.name, nd.action) {
		if h := scopeMismatchHint(*c.Access, nd); h != nil {
			trace.Annotate(rc.r, func(d *api.Decision) { d.Hint = h })
		}
		return challengeError(rc, nd, errInsufficientScope, "the access token does not grant "+nd.challengeScope())
	}
	return nil
}

func (a *ACR) authorizeBasic(rc *reqCtx, nd *need) error {
	user, pass, ok := rc.r.BasicAuth()
	var s subject
	var err error
	if ok {
		s, err = a.basicSubject(rc, user, pass)
	} else {
		err = unauthorized(msgAuthRequired, "malformed basic credentials")
	}
	var ae *apiError
	if errors.As(err, &ae) {
		ae.challenge = basicChallenge
		return ae
	} else if err != nil {
		return err
	}
	s.annotate(rc)
	rc.principal = s.sub(rc)
	if nd == nil {
		return nil
	}
	access := grant(rc, s, []Scope{{Type: nd.typ, Name: nd.name, Actions: []string{nd.action}}})
	if !allows(access, nd.typ, nd.name, nd.action) {
		return challengeError(rc, nd, errInsufficientScope, "the credentials do not grant "+nd.challengeScope())
	}
	return nil
}
