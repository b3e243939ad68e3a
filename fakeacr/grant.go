package fakeacr

import (
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
	"github.com/azsim/azsim/world"
)

// nullUser is the Basic user name that goes with an ACR token as password
// (protocols.md 3.3, clients.md 3.4).
const nullUser = "00000000-0000-0000-0000-000000000000"

type subjectKind int

const (
	subjectAnonymous subjectKind = iota
	subjectPrincipal
	subjectAdmin
)

// subject is who a token request or data-plane request acts as.
type subject struct {
	kind      subjectKind
	principal *world.Principal // subjectPrincipal
	// limit, when set, caps the grant at the access of a presented ACR
	// access token.
	limit   *[]Access
	tokenIn string // jti/uti of the token presented, for the trace
}

// sub is the ACR token subject (see Claims).
func (s subject) sub(rc *reqCtx) string {
	switch s.kind {
	case subjectPrincipal:
		return s.principal.ObjectID
	case subjectAdmin:
		return rc.reg.Name
	}
	return anonymousSubject
}

func (s subject) annotate(rc *reqCtx) {
	trace.Annotate(rc.r, func(d *api.Decision) {
		d.TokenIn = s.tokenIn
		d.Facts[api.FactRegistry] = rc.reg.LoginServer
		switch s.kind {
		case subjectPrincipal:
			d.Principal, d.PrincipalID = s.principal.Name, s.principal.ObjectID
		case subjectAdmin:
			d.Principal = "admin user " + rc.reg.Name
		default:
			d.Principal = "anonymous"
		}
	})
}

// principalSubject resolves an object ID to a principal that exists now.
func principalSubject(rc *reqCtx, oid string) (subject, error) {
	p, ok := rc.ix.PrincipalByObjectID(oid)
	if !ok {
		return subject{}, unauthorized(msgAuthRequired, fmt.Sprintf("principal %q does not exist in the world", oid))
	}
	return subject{kind: subjectPrincipal, principal: p}, nil
}

// subjectOf is the subject of an ACR token this registry minted.
func subjectOf(rc *reqCtx, c *Claims) (subject, error) {
	s := subject{kind: subjectAnonymous}
	switch {
	case c.Sub == anonymousSubject:
		if !rc.reg.AnonymousPull {
			return subject{}, unauthorized(msgAuthRequired, "anonymous token, but anonymous pull is disabled")
		}
	case strings.EqualFold(c.Sub, rc.reg.Name):
		if rc.reg.AdminUser == nil || !rc.reg.AdminUser.Enabled {
			return subject{}, unauthorized(msgAuthRequired, "admin user token, but the admin user is disabled")
		}
		s.kind = subjectAdmin
	default:
		var err error
		if s, err = principalSubject(rc, c.Sub); err != nil {
			return subject{}, err
		}
	}
	if c.GrantType == grantAccess {
		s.limit = c.Access
	}
	s.tokenIn = c.JTI
	return s, nil
}

// basicSubject checks Basic credentials (protocols.md 3.3, 3.6): the
// null user with an ACR refresh or access token, the admin user, or an
// application's client ID and secret.
func (a *ACR) basicSubject(rc *reqCtx, user, pass string) (subject, error) {
	switch {
	case user == nullUser:
		c, err := a.verifyACR(rc, pass, "")
		if err != nil {
			return subject{}, unauthorized(msgAuthRequired, "basic auth with an ACR token: "+err.Error())
		}
		return subjectOf(rc, c)
	case strings.EqualFold(user, rc.reg.Name):
		au := rc.reg.AdminUser
		if au == nil || !au.Enabled {
			return subject{}, unauthorized(msgAuthRequired, "admin user is disabled on "+rc.reg.Name)
		}
		if subtle.ConstantTimeCompare([]byte(pass), []byte(au.Password)) != 1 {
			return subject{}, unauthorized(msgAuthRequired, "wrong admin user password")
		}
		return subject{kind: subjectAdmin}, nil
	}
	p, ok := rc.ix.PrincipalByClientID(user)
	if !ok || p.Application == nil {
		return subject{}, unauthorized(msgAuthRequired, fmt.Sprintf("unknown user %q", clip(user)))
	}
	if !strings.EqualFold(p.TenantID, rc.reg.TenantID) {
		return subject{}, unauthorized(msgAuthRequired, "application "+p.Name+" belongs to another tenant than the registry")
	}
	for _, s := range p.Application.Secrets {
		if (s.Expires == nil || rc.now.Before(*s.Expires)) &&
			subtle.ConstantTimeCompare([]byte(pass), []byte(s.Value)) == 1 {
			return subject{kind: subjectPrincipal, principal: p}, nil
		}
	}
	return subject{}, unauthorized(msgAuthRequired, "wrong or expired client secret for application "+p.Name)
}

// allRepositoryActions are the repository actions the admin user holds.
var allRepositoryActions = []string{world.ActionPull, world.ActionMetadataRead, world.ActionPush,
	world.ActionMetadataWrite, world.ActionDelete}

// held returns the repository actions s holds on repo now, with the role
// assignments weighed for a principal (protocols.md 4.1, 4.2).
func held(rc *reqCtx, s subject, repo string) ([]string, world.Grant) {
	var acts []string
	var g world.Grant
	switch s.kind {
	case subjectAdmin:
		acts = slices.Clone(allRepositoryActions)
	case subjectPrincipal:
		g = rc.ix.RepositoryActions(s.principal.ObjectID, rc.reg, repo, rc.now)
		acts = slices.Clone(g.Allowed)
	}
	if rc.reg.AnonymousPull && !slices.Contains(acts, world.ActionPull) {
		acts = append(acts, world.ActionPull)
	}
	if s.limit != nil {
		acts = slices.DeleteFunc(acts, func(act string) bool { return !allows(*s.limit, typeRepository, repo, act) })
	}
	return acts, g
}

func catalogHeld(rc *reqCtx, s subject) bool {
	ok := s.kind == subjectAdmin ||
		s.kind == subjectPrincipal && rc.ix.CatalogAllowed(s.principal.ObjectID, rc.reg, rc.now)
	return ok && (s.limit == nil || allows(*s.limit, typeRegistry, nameCatalog, actionAll))
}

// grant computes the access of a token for the requested scopes at this
// moment; denied and unknown actions are dropped (protocols.md 3.3). The
// decision records the role assignments weighed and, for the first
// repository action denied, the hint derived from them.
func grant(rc *reqCtx, s subject, scopes []Scope) []Access {
	out := []Access{}
	g := grantNotes{hinted: -1}
	for i, sc := range scopes {
		e := Access{Type: sc.Type, Name: sc.Name, Actions: []string{}}
		switch {
		case sc.Type == typeRepository:
			acts, wg := held(rc, s, sc.Name)
			g.why = append(g.why, wg.Considered(rc.reg)...)
			for _, req := range sc.Actions {
				for _, act := range acts {
					if (req == act || req == actionAll) && !slices.Contains(e.Actions, act) {
						e.Actions = append(e.Actions, act)
					}
				}
				if req != actionAll && !slices.Contains(acts, req) {
					if g.deny(sc.Type+":"+sc.Name+":"+req, func() *api.Hint { return rbacHint(rc, s, sc.Name, req, wg) }) {
						g.hinted = i
					}
				}
			}
			g.considered = append(g.considered, considered(rc, wg)...)
		case sc.Type == typeRegistry && sc.Name == nameCatalog && slices.Contains(sc.Actions, actionAll):
			if catalogHeld(rc, s) {
				e.Actions = []string{actionAll}
			} else {
				g.deny(sc.String(), nil)
			}
		default:
			g.deny(sc.String(), nil)
		}
		out = append(out, e)
	}
	annotateGrant(rc, scopes, out, g)
	return out
}

// grantNotes collects what a grant denied and why, for the decision.
type grantNotes struct {
	denied, why []string
	considered  []api.Considered
	hint        *api.Hint
	// hinted is the index of the scope the hint explains (-1: none).
	hinted int
}

// deny records a denied scope; the first denial with an explanation gives
// the decision its hint (deny reports whether this one did).
func (g *grantNotes) deny(scope string, explain func() *api.Hint) bool {
	g.denied = append(g.denied, scope)
	if g.hint == nil && explain != nil {
		g.hint = explain()
		return g.hint != nil
	}
	return false
}

func considered(rc *reqCtx, g world.Grant) []api.Considered {
	out := make([]api.Considered, 0, len(g.Checks))
	for _, c := range g.Checks {
		out = append(out, c.Considered(rc.reg))
	}
	return out
}

func annotateGrant(rc *reqCtx, scopes []Scope, granted []Access, g grantNotes) {
	var req []string
	for _, sc := range scopes {
		req = append(req, sc.String())
	}
	trace.Annotate(rc.r, func(d *api.Decision) {
		d.Resource = strings.Join(req, " ")
		for i, sc := range scopes {
			// The facts name the repository the hint explains, else the first.
			if g.hinted >= 0 && i != g.hinted {
				continue
			}
			if sc.Type == typeRepository {
				d.Facts[api.FactRepository] = sc.Name
				d.Facts[api.FactActions] = strings.Join(sc.Actions, ",")
				d.Facts[api.FactGranted] = strings.Join(granted[i].Actions, ",")
				break
			}
		}
		d.Considered = append(d.Considered, g.considered...)
		if len(g.denied) > 0 {
			d.Reason = "not granted: " + strings.Join(g.denied, " ")
			if len(g.why) > 0 {
				d.Reason += "; " + strings.Join(slices.Compact(g.why), "; ")
			}
			d.Hint = g.hint
		}
	})
}

// scopesOf renders an access claim as scopes, for the trace.
func scopesOf(access []Access) string {
	var out []string
	for _, e := range access {
		out = append(out, e.Type+":"+e.Name+":"+strings.Join(e.Actions, ","))
	}
	return strings.Join(out, " ")
}
