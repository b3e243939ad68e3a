package fakeaad

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"

	"github.com/go-chi/chi/v5"

	"github.com/azsim/azsim/world"
)

// maxFormSize bounds a token request body.
const maxFormSize = 1 << 20

// tokenRequest is a parsed client-credentials request.
type tokenRequest struct {
	v2       bool
	tenant   *world.TenantInfo
	clientID string
	scope    string // as sent (v2)
	resource string // resource identifier the token is for
	form     map[string][]string
}

func (t *tokenRequest) get(k string) string {
	if v := t.form[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// token serves the v2 (v2=true) and v1 token endpoints for the
// client-credentials grant (protocols.md 1.3, 1.5, 1.7).
func (e *Entra) token(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		resp, aerr := e.issue(r, v2)
		if aerr != nil {
			trace.Annotate(r, func(d *api.Decision) {
				d.Error, d.Reason = fmt.Sprintf("AADSTS%d", aerr.number), aerr.text
				d.Hint = aerr.hint
			})
			e.opts.logger.Info("token request refused", "path", r.URL.Path, "code", aerr.number, "client_id", clipLog(r.PostForm.Get("client_id")))
			writeError(w, r, e.now(), aerr)
			return
		}
		writeJSON(w, http.StatusOK, resp, true)
	}
}

func (e *Entra) issue(r *http.Request, v2 bool) (any, *aadError) {
	if r.Method != http.MethodPost {
		return nil, invalidRequest(900561, "The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method)
	}
	r.Body = http.MaxBytesReader(nil, r.Body, maxFormSize)
	if err := r.ParseForm(); err != nil {
		return nil, invalidRequest(90014, "The request body could not be parsed as application/x-www-form-urlencoded: %v.", err)
	}
	ix := e.store.Snapshot()
	tenant, aerr := e.tenantFor(ix, chi.URLParam(r, "tenant"), "invalid_request")
	if aerr != nil {
		return nil, aerr
	}
	req := &tokenRequest{v2: v2, tenant: tenant, form: r.PostForm}
	if aerr := req.parse(); aerr != nil {
		return nil, aerr
	}
	trace.Annotate(r, func(d *api.Decision) {
		d.Resource = req.resource
		d.Facts[api.FactClientID], d.Facts[api.FactTenant] = req.clientID, tenant.ID
	})
	if req.clientID == nilGUID {
		return nil, e.nilClientIDError()
	}
	p, ok := ix.PrincipalByClientID(req.clientID)
	if !ok || p.TenantID != tenant.ID || p.Kind == world.KindSystemAssigned {
		return nil, newError(http.StatusBadRequest, "unauthorized_client", 700016,
			"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", req.clientID, tenant.Name).
			with(unknownClientHint(req.clientID, tenant.ID))
	}
	trace.Annotate(r, func(d *api.Decision) { d.Principal, d.PrincipalID = p.Name, p.ObjectID })
	acr, aerr := e.authenticate(r, req, p)
	if aerr != nil {
		return nil, aerr
	}
	if !knownResource(ix, req.resource) {
		return nil, newError(http.StatusBadRequest, "invalid_resource", 500011,
			"The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", req.resource, tenant.Name).
			with(unknownResourceHint(req.resource))
	}
	tok, err := e.mint(p, req.resource, acr, e.opts.appLifetime)
	if err != nil {
		return nil, newError(http.StatusInternalServerError, "server_error", 50000, "There was an error issuing a token: %v.", err)
	}
	trace.Annotate(r, func(d *api.Decision) { d.TokenOut = tok.ID })
	return tokenResponse(tok, v2), nil
}

// parse checks grant_type, client_id and the scope (v2) or resource (v1).
func (t *tokenRequest) parse() *aadError {
	gt := t.get("grant_type")
	switch {
	case gt == "":
		return missingParameter("grant_type")
	case gt != "client_credentials":
		return newError(http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", gt)
	}
	if t.clientID = t.get("client_id"); t.clientID == "" {
		return missingParameter("client_id")
	}
	if !t.v2 {
		if t.resource = t.get("resource"); t.resource == "" {
			return missingParameter("resource")
		}
		return nil
	}
	t.scope = t.get("scope")
	if t.scope == "" {
		return missingParameter("scope")
	}
	res, aerr := resourceFromScope(t.scope)
	t.resource = res
	return aerr
}

// oidcScopes are the scopes MSAL appends to every request (protocols.md 0 item 5).
var oidcScopes = map[string]bool{"openid": true, "offline_access": true, "profile": true, "email": true}

// resourceFromScope turns a v2 client-credentials scope into the resource
// identifier: exactly one "<resource>/.default" scope, the last path segment
// stripped, so ".../.default" keeps a trailing slash when the scope had "//"
// (protocols.md 1.4).
func resourceFromScope(scope string) (string, *aadError) {
	var resources []string
	for _, s := range strings.Fields(scope) {
		if !oidcScopes[strings.ToLower(s)] {
			resources = append(resources, s)
		}
	}
	if len(resources) == 0 {
		return "", missingParameter("scope")
	}
	if len(resources) > 1 {
		return "", newError(http.StatusBadRequest, "invalid_scope", 70011,
			"The provided value for the input parameter 'scope' is not valid. One or more scopes in '%s' are not compatible with each other.", scope)
	}
	if !strings.HasSuffix(resources[0], "/.default") || resources[0] == "/.default" {
		return "", newError(http.StatusBadRequest, "invalid_scope", 1002012,
			"The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", resources[0]).
			with(scopeHint(resources[0]))
	}
	return strings.TrimSuffix(resources[0], "/.default"), nil
}

// wellKnownResources are first-party resources every tenant has.
var wellKnownResources = []string{
	"https://management.azure.com", "https://management.core.windows.net",
	"https://containerregistry.azure.net", "https://vault.azure.net", "https://graph.microsoft.com",
	"https://storage.azure.com", "https://database.windows.net", "https://monitor.azure.com",
	"https://servicebus.azure.net", "https://eventhubs.azure.net", "https://cognitiveservices.azure.com",
	"6dae42f8-4368-4678-94ff-3960e28e3630", // the AKS AAD server application
}

// knownResource reports whether resource names a resource principal: a
// first-party resource or an application of the world (by client ID or
// identifier URI). Trailing slashes and case do not matter.
func knownResource(ix *world.Index, resource string) bool {
	r := strings.ToLower(strings.TrimRight(resource, "/"))
	for _, k := range wellKnownResources {
		if r == k {
			return true
		}
	}
	for _, p := range ix.Principals {
		if p.Application == nil {
			continue
		}
		if r == strings.ToLower(p.ClientID) || r == "api://"+strings.ToLower(p.ClientID) {
			return true
		}
		for _, u := range p.Application.IdentifierURIs {
			if r == strings.ToLower(strings.TrimRight(u, "/")) {
				return true
			}
		}
	}
	return false
}

// clipLog shortens a client-supplied value for a log line.
func clipLog(s string) string {
	if len(s) > 256 {
		return s[:256] + "…"
	}
	return s
}
