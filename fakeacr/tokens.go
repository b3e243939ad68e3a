package fakeacr

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// ACR token constants (protocols.md 3.4).
const (
	acrIssuer        = "Azure Container Registry"
	tokenVersion     = "1.0"
	grantRefresh     = "refresh_token"
	grantAccess      = "access_token"
	anonymousSubject = ""
)

// Permissions is the refresh token's permissions claim (protocols.md 3.4).
type Permissions struct {
	Actions    []string `json:"actions"`
	NotActions []string `json:"notActions"`
}

// Access is one entry of an access token's access claim.
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// Claims is the claim set of the ACR JWTs fakeacr mints (protocols.md 3.4).
// Refresh tokens carry Permissions; access tokens carry Access (possibly
// empty, never absent). Sub is the principal's object ID, the registry name
// for the admin user, and empty for anonymous tokens.
type Claims struct {
	JTI         string       `json:"jti"`
	Sub         string       `json:"sub"`
	NBF         int64        `json:"nbf"`
	EXP         int64        `json:"exp"`
	IAT         int64        `json:"iat"`
	Iss         string       `json:"iss"`
	Aud         string       `json:"aud"`
	Version     string       `json:"version"`
	GrantType   string       `json:"grant_type"`
	Tenant      string       `json:"tenant"`
	Permissions *Permissions `json:"permissions,omitempty"`
	Access      *[]Access    `json:"access,omitempty"`
	Roles       []string     `json:"roles"`
}

// mint signs a token of kind grantRefresh or grantAccess for sub.
func (a *ACR) mint(rc *reqCtx, kind, sub string, access []Access) (string, *Claims, error) {
	life := lifetime(rc.reg, kind)
	now := rc.now.Unix()
	c := &Claims{JTI: newUUID(), Sub: sub, NBF: now, IAT: now, EXP: rc.now.Add(life).Unix(), Iss: acrIssuer,
		Aud: rc.reg.LoginServer, Version: tokenVersion, GrantType: kind, Tenant: rc.reg.TenantID, Roles: []string{}}
	if kind == grantRefresh {
		c.Permissions = &Permissions{Actions: []string{"*"}, NotActions: []string{}}
	} else {
		if access == nil {
			access = []Access{}
		}
		c.Access = &access
	}
	raw, err := a.key.Sign(c, false)
	if err != nil {
		return "", nil, fmt.Errorf("signing ACR token: %w", err)
	}
	return raw, c, nil
}

// lifetime is how long a token of kind lives on reg: the world's setting
// (world.RegistryTokens), else the default.
func lifetime(reg *world.RegistryInfo, kind string) time.Duration {
	var set world.Duration
	if t := reg.Tokens; t != nil {
		set = t.AccessTokenLifetime
		if kind == grantRefresh {
			set = t.RefreshTokenLifetime
		}
	}
	switch {
	case set > 0:
		return time.Duration(set)
	case kind == grantRefresh:
		return DefaultRefreshTokenLifetime
	default:
		return DefaultAccessTokenLifetime
	}
}

// acrSkew is the clock skew allowed on an ACR token's iat.
const acrSkew = 5 * time.Minute

// Errors of verifyACR.
var (
	errACRInvalid = errors.New("invalid ACR token")
	errACRExpired = errors.New("ACR token has expired")
)

// verifyACR checks a token this ACR minted for the registry of rc: our
// signature, issuer, audience = login server, kind (grantRefresh,
// grantAccess or "" for either) and nbf/exp on the simulated clock.
func (a *ACR) verifyACR(rc *reqCtx, raw, kind string) (*Claims, error) {
	tok, err := jwtx.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errACRInvalid, err)
	}
	if tok.Alg != "RS256" {
		return nil, fmt.Errorf("%w: algorithm %s; ACR signs RS256", errACRInvalid, tok.Alg)
	}
	if tok.KID != a.key.KID {
		return nil, fmt.Errorf("%w: not signed by this registry", errACRInvalid)
	}
	if err := tok.Verify(&a.key.Private.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: %v", errACRInvalid, err)
	}
	var c Claims
	if err := tok.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", errACRInvalid, err)
	}
	switch {
	case c.Iss != acrIssuer:
		return nil, fmt.Errorf("%w: issuer %q", errACRInvalid, c.Iss)
	case !strings.EqualFold(c.Aud, rc.reg.LoginServer):
		return nil, fmt.Errorf("%w: audience %q is another registry than %s", errACRInvalid, c.Aud, rc.reg.LoginServer)
	case kind != "" && c.GrantType != kind, c.GrantType != grantRefresh && c.GrantType != grantAccess:
		return nil, fmt.Errorf("%w: a %s was presented where a %s is required", errACRInvalid, c.GrantType, kind)
	case rc.now.Unix() >= c.EXP:
		return nil, fmt.Errorf("%w at %s", errACRExpired, time.Unix(c.EXP, 0).UTC().Format(time.RFC3339))
	case !strings.EqualFold(c.Tenant, rc.reg.TenantID):
		return nil, fmt.Errorf("%w: tenant %q is not the registry's tenant", errACRInvalid, c.Tenant)
	case rc.now.Unix() < c.NBF:
		return nil, fmt.Errorf("%w: not valid before %s", errACRInvalid, time.Unix(c.NBF, 0).UTC().Format(time.RFC3339))
	case c.IAT > rc.now.Unix()+int64(acrSkew/time.Second):
		return nil, fmt.Errorf("%w: issued in the future (%s)", errACRInvalid, time.Unix(c.IAT, 0).UTC().Format(time.RFC3339))
	case c.GrantType == grantAccess && c.Access == nil:
		return nil, fmt.Errorf("%w: access token without access claim", errACRInvalid)
	}
	return &c, nil
}

// allows reports whether the access entries grant action on typ:name.
func allows(access []Access, typ, name, action string) bool {
	for _, e := range access {
		if e.Type != typ || e.Name != name {
			continue
		}
		for _, act := range e.Actions {
			if act == action || act == actionAll {
				return true
			}
		}
	}
	return false
}
