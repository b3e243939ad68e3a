package fakeaad

import (
	"encoding/base64"
	"math/big"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/azsim/azsim/world"
)

// tenantFor resolves the {tenant} path segment (GUID or domain,
// case-insensitive; protocols.md 1.1) or returns AADSTS90002/900023.
func (e *Entra) tenantFor(ix *world.Index, seg string, code string) (*world.TenantInfo, *aadError) {
	if t, ok := ix.Tenant(seg); ok {
		return t, nil
	}
	if !validTenantSegment(seg) {
		return nil, newError(http.StatusBadRequest, "invalid_request", 900023,
			"Specified tenant identifier '%s' is neither a valid DNS name, nor a valid external domain.", seg)
	}
	return nil, newError(http.StatusBadRequest, code, 90002,
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", seg)
}

func validTenantSegment(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func baseURL(r *http.Request) string { return "https://" + r.Host }

// openIDConfiguration serves the v2 (v2=true) or v1 OpenID configuration
// (protocols.md 1.1, 1.9). The issuer is on the request's own host:port so
// that MSAL's issuer/authority check passes (protocols.md 0 item 3).
func (e *Entra) openIDConfiguration(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		seg := chi.URLParam(r, "tenant")
		tid := ""
		switch strings.ToLower(seg) {
		case "common", "organizations", "consumers":
			tid = "{tenantid}"
		default:
			t, aerr := e.tenantFor(e.store.Snapshot(), seg, "invalid_tenant")
			if aerr != nil {
				writeError(w, r, e.now(), aerr)
				return
			}
			tid = t.ID
		}
		w.Header().Set("Cache-Control", "max-age=86400, private")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeJSON(w, http.StatusOK, configDocument(baseURL(r), seg, tid, v2), false)
	}
}

func configDocument(base, seg, tid string, v2 bool) map[string]any {
	ep := base + "/" + tidOr(seg, tid)
	doc := map[string]any{
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"request_uri_parameter_supported":       false,
		"userinfo_endpoint":                     "https://graph.microsoft.com/oidc/userinfo",
		"http_logout_supported":                 true,
		"frontchannel_logout_supported":         true,
		"tenant_region_scope":                   "WW",
		"cloud_instance_name":                   "microsoftonline.com",
		"cloud_graph_host_name":                 "graph.windows.net",
		"msgraph_host":                          "graph.microsoft.com",
		"rbac_url":                              "https://pas.windows.net",
	}
	if v2 {
		doc["token_endpoint"] = ep + "/oauth2/v2.0/token"
		doc["jwks_uri"] = ep + "/discovery/v2.0/keys"
		doc["issuer"] = base + "/" + tid + "/v2.0"
		doc["authorization_endpoint"] = ep + "/oauth2/v2.0/authorize"
		doc["device_authorization_endpoint"] = ep + "/oauth2/v2.0/devicecode"
		doc["end_session_endpoint"] = ep + "/oauth2/v2.0/logout"
		doc["kerberos_endpoint"] = ep + "/kerberos"
		return doc
	}
	doc["token_endpoint"] = ep + "/oauth2/token"
	doc["jwks_uri"] = ep + "/discovery/keys"
	doc["issuer"] = "https://sts.windows.net/" + tid + "/"
	doc["authorization_endpoint"] = ep + "/oauth2/authorize"
	doc["end_session_endpoint"] = ep + "/oauth2/logout"
	return doc
}

func tidOr(seg, tid string) string {
	if strings.HasPrefix(tid, "{") {
		return seg
	}
	return tid
}

// jwk is one entry of Entra's JWKS (protocols.md 1.9).
type jwk struct {
	Kty    string `json:"kty"`
	Use    string `json:"use"`
	Kid    string `json:"kid"`
	X5t    string `json:"x5t"`
	N      string `json:"n"`
	E      string `json:"e"`
	Issuer string `json:"issuer,omitempty"`
}

// jwks serves the signing keys (protocols.md 1.1, 1.9).
func (e *Entra) jwks(v2 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		issuer := ""
		if v2 {
			seg := chi.URLParam(r, "tenant")
			if t, ok := e.store.Snapshot().Tenant(seg); ok {
				issuer = baseURL(r) + "/" + t.ID + "/v2.0"
			} else {
				issuer = baseURL(r) + "/{tenantid}/v2.0"
			}
		}
		out := struct {
			Keys []jwk `json:"keys"`
		}{}
		for _, k := range e.keys {
			pub := k.Private.PublicKey
			out.Keys = append(out.Keys, jwk{Kty: "RSA", Use: "sig", Kid: k.KID, X5t: k.KID,
				N: base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
				E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()), Issuer: issuer})
		}
		w.Header().Set("Cache-Control", "max-age=86400, private")
		writeJSON(w, http.StatusOK, out, false)
	}
}

type instanceMetadata struct {
	PreferredNetwork string   `json:"preferred_network"`
	PreferredCache   string   `json:"preferred_cache"`
	Aliases          []string `json:"aliases"`
}

// publicCloudMetadata is the real instance-discovery metadata (protocols.md 1.9).
var publicCloudMetadata = []instanceMetadata{
	{"login.microsoftonline.com", "login.windows.net", []string{"login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"}},
	{"login.partner.microsoftonline.cn", "login.partner.microsoftonline.cn", []string{"login.partner.microsoftonline.cn", "login.chinacloudapi.cn"}},
	{"login.microsoftonline.de", "login.microsoftonline.de", []string{"login.microsoftonline.de"}},
	{"login.microsoftonline.us", "login.microsoftonline.us", []string{"login.microsoftonline.us", "login.usgovcloudapi.net"}},
	{"login-us.microsoftonline.com", "login-us.microsoftonline.com", []string{"login-us.microsoftonline.com"}},
}

// instanceDiscovery answers /common/discovery/instance (protocols.md 1.2,
// 1.9). The authority host must be login.microsoftonline.com, on any port (the
// simulator may serve it on a non-standard port); others get AADSTS50049.
func (e *Entra) instanceDiscovery(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ae, err := url.Parse(q.Get("authorization_endpoint"))
	if q.Get("authorization_endpoint") == "" || err != nil || ae.Scheme != "https" || !strings.EqualFold(ae.Hostname(), world.EntraHost) {
		writeError(w, r, e.now(), newError(http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance."))
		return
	}
	tenant := strings.Split(strings.TrimPrefix(ae.Path, "/"), "/")[0]
	host := strings.ToLower(ae.Host)
	meta := publicCloudMetadata
	if host != world.EntraHost {
		meta = []instanceMetadata{{host, host, []string{host}}}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"tenant_discovery_endpoint": "https://" + host + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata":                  meta,
	}, false)
}
