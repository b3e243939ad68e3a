package fakeaad

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// appidacr values (protocols.md 1.6).
const (
	acrSecret    = "1"
	acrAssertion = "2"
)

func opaque(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// mint signs a v1 access token for p (protocols.md 1.6): iat = nbf = now − 5
// min, exp = now + lifetime, aud = the resource as requested.
func (e *Entra) mint(p *world.Principal, resource, appidacr string, lifetime time.Duration) (api.IssuedToken, error) {
	now := e.now().UTC().Truncate(time.Second)
	iss := "https://sts.windows.net/" + p.TenantID + "/"
	c := api.EntraClaims{
		Aud: resource, Iss: iss, IDP: iss,
		Iat: now.Add(-world.Backdate).Unix(), Nbf: now.Add(-world.Backdate).Unix(), Exp: now.Add(lifetime).Unix(),
		AIO: opaque(12), AppID: p.ClientID, AppIDACR: appidacr, IDTyp: "app",
		OID: p.ObjectID, Sub: p.ObjectID, TID: p.TenantID, UTI: opaque(16), Ver: "1.0",
		RH: "1." + opaque(24) + ".",
	}
	if p.IsManagedIdentity() {
		c.XMSMirid = p.ResourceID
	}
	raw, err := e.active().Sign(c, true)
	if err != nil {
		return api.IssuedToken{}, err
	}
	return api.IssuedToken{
		AccessToken: raw, ID: c.UTI, Resource: resource, ClientID: p.ClientID,
		IssuedAt: now.Add(-world.Backdate), NotBefore: now.Add(-world.Backdate), ExpiresOn: now.Add(lifetime),
	}, nil
}

type v2Response struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
}

type v1Response struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    string `json:"expires_in"`
	ExtExpiresIn string `json:"ext_expires_in"`
	ExpiresOn    string `json:"expires_on"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	AccessToken  string `json:"access_token"`
}

// tokenResponse renders a token as the v2 endpoint (numbers) or the v1
// endpoint (strings, with resource) does (protocols.md 1.5).
func tokenResponse(t api.IssuedToken, v2 bool) any {
	in := int64(t.ExpiresOn.Sub(t.NotBefore.Add(world.Backdate))/time.Second) - 1
	if v2 {
		return v2Response{"Bearer", in, in, t.AccessToken}
	}
	s := strconv.FormatInt(in, 10)
	return v1Response{"Bearer", s, s, strconv.FormatInt(t.ExpiresOn.Unix(), 10),
		strconv.FormatInt(t.NotBefore.Unix(), 10), t.Resource, t.AccessToken}
}

// IssueManagedIdentityToken mints the 24-hour token IMDS hands out for a
// managed identity (protocols.md 1.6, 2.2). resource is as the caller sent it.
func (e *Entra) IssueManagedIdentityToken(p *world.Principal, resource string) (api.IssuedToken, error) {
	if !p.IsManagedIdentity() {
		return api.IssuedToken{}, fmt.Errorf("principal %q is not a managed identity", p.Name)
	}
	ix := e.store.Snapshot()
	if !knownResource(ix, resource) {
		name := p.TenantID
		if t, ok := ix.Tenant(p.TenantID); ok {
			name = t.Name
		}
		return api.IssuedToken{}, &api.ProtocolError{Status: http.StatusBadRequest, Code: "invalid_resource",
			Description: fmt.Sprintf("AADSTS500011: The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", resource, name)}
	}
	return e.mint(p, resource, acrAssertion, world.ManagedIdentityLifetime)
}

// Errors of VerifyAccessToken.
var (
	ErrTokenInvalid = errors.New("access token is invalid")
	ErrTokenExpired = errors.New("access token has expired")
)

// VerifyAccessToken checks an access token this Entra minted: the signature
// with one of its keys, the v1 issuer of a tenant of the world, and nbf/exp
// on the simulated clock. The audience is the caller's to check.
func (e *Entra) VerifyAccessToken(raw string) (*api.EntraClaims, error) {
	tok, err := jwtx.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	if tok.Alg != "RS256" {
		return nil, fmt.Errorf("%w: algorithm %s; Entra signs RS256", ErrTokenInvalid, tok.Alg)
	}
	var key *jwtx.Key
	for _, k := range e.keys {
		if k.KID == tok.KID {
			key = k
		}
	}
	if key == nil {
		return nil, fmt.Errorf("%w: unknown signing key %q", ErrTokenInvalid, tok.KID)
	}
	if err := tok.Verify(&key.Private.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	var c api.EntraClaims
	if err := tok.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	tid, ok := strings.CutPrefix(c.Iss, "https://sts.windows.net/")
	if _, known := e.store.Snapshot().Tenant(strings.TrimSuffix(tid, "/")); !ok || !known || tid != c.TID+"/" {
		return nil, fmt.Errorf("%w: issuer %q is not a tenant of this world", ErrTokenInvalid, c.Iss)
	}
	now := e.now().Unix()
	if now >= c.Exp {
		return nil, fmt.Errorf("%w at %s", ErrTokenExpired, time.Unix(c.Exp, 0).UTC().Format(time.RFC3339))
	}
	if now < c.Nbf {
		return nil, fmt.Errorf("%w: not valid before %s", ErrTokenInvalid, time.Unix(c.Nbf, 0).UTC().Format(time.RFC3339))
	}
	if c.Iat > now+int64(world.Backdate/time.Second) {
		return nil, fmt.Errorf("%w: issued in the future (%s)", ErrTokenInvalid, time.Unix(c.Iat, 0).UTC().Format(time.RFC3339))
	}
	return &c, nil
}
