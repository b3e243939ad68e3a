package fakeimds

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"

	"github.com/azsim/azsim/world"
)

// tokenResponse is the success body (protocols.md 2.2): every value a
// string, keys in alphabetical order (the field order here).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ClientID     string `json:"client_id"`
	ExpiresIn    string `json:"expires_in"`
	ExpiresOn    string `json:"expires_on"`
	ExtExpiresIn string `json:"ext_expires_in"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	TokenType    string `json:"token_type"`
}

// token serves GET /metadata/identity/oauth2/token (protocols.md 2.1–2.4):
// headers (2.1), query (2.1, 2.6), identity selection (2.3), the Entra
// token from the TokenIssuer, the all-strings body (2.2).
func (h *handler) token(w http.ResponseWriter, r *http.Request) error {
	if err := h.checkHeaders(r, true); err != nil {
		return err
	}
	req, err := parseTokenQuery(r.URL.RawQuery, h.opts.versions, h.opts.messages)
	if err != nil {
		return err
	}
	ix, np, err := h.nodePool()
	if err != nil {
		return err
	}
	p, err := selectIdentity(np, req.Selector)
	trace.Annotate(r, func(d *api.Decision) {
		d.Resource = req.Resource
		d.Facts[api.FactPool], d.Facts[api.FactVMSS] = h.pool, np.VMSS
		if req.Selector.Name != "" {
			d.Facts[api.FactSelector] = req.Selector.Name + "=" + req.Selector.Value
		}
		d.Considered = append(d.Considered, vmssIdentities(np, req.Selector, p)...)
	})
	if err != nil {
		return explainSelection(ix, np, req.Selector, err)
	}
	trace.Annotate(r, func(d *api.Decision) { d.Principal, d.PrincipalID = p.Name, p.ObjectID })
	tok, err := h.issuer.IssueManagedIdentityToken(p, req.mintResource())
	if err != nil {
		return err
	}
	trace.Annotate(r, func(d *api.Decision) { d.TokenOut = tok.ID })
	now := h.store.Clock().Now()
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "imds token issued",
		slog.String("pool", h.pool), slog.String("principal", p.Name),
		slog.String("clientId", p.ClientID), slog.String("resource", req.Resource),
		slog.Time("expiresOn", tok.ExpiresOn))
	h.writeJSON(w, http.StatusOK, newTokenResponse(p, req.Resource, tok, now))
	return nil
}

func newTokenResponse(p *world.Principal, resource string, tok api.IssuedToken, now time.Time) tokenResponse {
	clientID := tok.ClientID
	if clientID == "" {
		clientID = p.ClientID
	}
	// expires_in is the remaining life on the simulated clock (protocols.md
	// 2.2). The fake does not cache tokens as IMDS does, so the token is
	// fresh and ext_expires_in (the full lifetime at issue) equals it.
	remaining := seconds(tok.ExpiresOn.Sub(now))
	return tokenResponse{
		AccessToken:  tok.AccessToken,
		ClientID:     clientID,
		ExpiresIn:    remaining,
		ExpiresOn:    strconv.FormatInt(tok.ExpiresOn.Unix(), 10),
		ExtExpiresIn: remaining,
		NotBefore:    strconv.FormatInt(tok.NotBefore.Unix(), 10),
		Resource:     resource,
		TokenType:    "Bearer",
	}
}

func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return strconv.FormatInt(int64(d/time.Second), 10)
}

// selectIdentity applies the selection table of protocols.md 2.3:
//
//	VMSS identities          selector   result
//	none                     any        400 Identity not found
//	system-assigned (+UAMIs) none       the system-assigned identity
//	exactly one UAMI, no SMI none       that UAMI
//	≥2 UAMIs, no SMI         none       400 Multiple user assigned identities exist…
//	any                      not on VM  400 Identity not found
//	any                      matches    that identity
//
// client_id, object_id and principal_id match any identity of the VMSS
// (system-assigned included) case-insensitively; msi_res_id and mi_res_id
// match user-assigned identities by ARM ID, case-insensitively (ARM IDs are,
// protocols.md 4.4). A selector with an empty value matches nothing.
func selectIdentity(np *world.NodePoolInfo, sel selector) (*world.Principal, error) {
	if sel.Name != "" {
		if p := findAssigned(np, sel); p != nil {
			return p, nil
		}
		return nil, invalidRequest(descIdentityNotFound)
	}
	switch {
	case np.SystemIdentity != nil:
		return np.SystemIdentity, nil
	case len(np.UserAssigned) == 1:
		return np.UserAssigned[0], nil
	case len(np.UserAssigned) == 0:
		return nil, invalidRequest(descIdentityNotFound)
	default:
		return nil, invalidRequest(descMultipleUAMIs)
	}
}

func findAssigned(np *world.NodePoolInfo, sel selector) *world.Principal {
	if sel.Value == "" {
		return nil
	}
	var candidates []*world.Principal
	if np.SystemIdentity != nil && !sel.byResourceID() {
		candidates = append(candidates, np.SystemIdentity)
	}
	candidates = append(candidates, np.UserAssigned...)
	for _, p := range candidates {
		var v string
		switch sel.Name {
		case selClientID:
			v = p.ClientID
		case selObjectID, selPrincipalID:
			v = p.ObjectID
		default:
			v = p.ResourceID
		}
		if strings.EqualFold(v, sel.Value) {
			return p
		}
	}
	return nil
}
