package fakeimds

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
)

// Messages holds the error descriptions whose real wording is not confirmed
// (protocols.md 2.4 and section 7 mark them [L]). Empty fields keep the
// defaults; "{param}" and "{value}" are replaced where noted.
type Messages struct {
	// MissingAPIVersion: token request without api-version.
	MissingAPIVersion string
	// UnsupportedAPIVersion: token request with an api-version IMDS does
	// not serve for the identity category; {value} is the version sent.
	UnsupportedAPIVersion string
	// MissingResource: token request without resource.
	MissingResource string
	// ForwardedFor: a request that carries X-Forwarded-For.
	ForwardedFor string
	// DuplicateParameter: a query parameter given twice; {param} is its name.
	DuplicateParameter string
	// MalformedQuery: a query string that does not decode.
	MalformedQuery string
	// MultipleSelectors: more than one identity selector; {param} lists them.
	MultipleSelectors string
}

// defaultMessages are the [L] texts; each is modelled on the confirmed
// "Required metadata header not specified" wording or on the generic
// invalid_request description of the IMDS token documentation.
var defaultMessages = Messages{
	MissingAPIVersion:     "Required api-version parameter not specified",
	UnsupportedAPIVersion: "api-version '{value}' is not supported for managed identity; use 2018-02-01 or greater",
	MissingResource:       "Required audience variable not specified",
	ForwardedFor:          "Requests with the X-Forwarded-For header are not allowed",
	DuplicateParameter:    "Query parameter '{param}' is specified more than once",
	MalformedQuery:        "The request query string is malformed",
	MultipleSelectors:     "Only one of client_id, object_id, principal_id, msi_res_id or mi_res_id may be specified; got {param}",
}

func (m Messages) merge(o Messages) Messages {
	pick := func(a, b string) string {
		if b != "" {
			return b
		}
		return a
	}
	return Messages{
		MissingAPIVersion:     pick(m.MissingAPIVersion, o.MissingAPIVersion),
		UnsupportedAPIVersion: pick(m.UnsupportedAPIVersion, o.UnsupportedAPIVersion),
		MissingResource:       pick(m.MissingResource, o.MissingResource),
		ForwardedFor:          pick(m.ForwardedFor, o.ForwardedFor),
		DuplicateParameter:    pick(m.DuplicateParameter, o.DuplicateParameter),
		MalformedQuery:        pick(m.MalformedQuery, o.MalformedQuery),
		MultipleSelectors:     pick(m.MultipleSelectors, o.MultipleSelectors),
	}
}

func fill(tmpl, param, value string) string {
	return strings.NewReplacer("{param}", param, "{value}", value).Replace(tmpl)
}

// Exact descriptions confirmed by real captures (protocols.md 2.3, 2.4) [H].
const (
	descMetadataHeader   = "Required metadata header not specified"
	descIdentityNotFound = "Identity not found"
	descMultipleUAMIs    = "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"
)

// apiError is a failure rendered as an IMDS response. body is marshalled
// as-is (structs keep the key order IMDS uses).
type apiError struct {
	status int
	body   any
	reason string // for the log only
	// hint explains the refusal by a known pitfall (hints.go).
	hint *api.Hint
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.reason) }

// oauthBody is the token endpoint's error shape (protocols.md 2.4).
type oauthBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// instanceBody is the /metadata/instance error shape (protocols.md 2.4).
type instanceBody struct {
	Error          string   `json:"error"`
	NewestVersions []string `json:"newest-versions,omitempty"`
}

// invalidRequest is a 400 invalid_request of the token endpoint.
func invalidRequest(desc string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: oauthBody{"invalid_request", desc}, reason: desc}
}

// instanceError is an error of the /metadata/instance family.
func instanceError(status int, msg string) *apiError {
	return &apiError{status: status, body: instanceBody{Error: msg}, reason: msg}
}

// newestVersions is how many versions the api-version error lists.
const newestVersions = 3

// badInstanceAPIVersion is the exact /instance api-version error (protocols.md 2.4 [H]).
func badInstanceAPIVersion(versions []string) *apiError {
	newest := make([]string, 0, newestVersions)
	for i := len(versions) - 1; i >= 0 && len(newest) < newestVersions; i-- {
		newest = append(newest, versions[i])
	}
	msg := "Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds"
	return &apiError{status: http.StatusBadRequest, body: instanceBody{Error: msg, NewestVersions: newest}, reason: "bad api-version"}
}

// errPoolGone is answered when the node pool left the world: the VM this
// IMDS belongs to no longer exists. Real IMDS has no such state; 500 with
// the "unknown" error (protocols.md 2.4 "Transient") is the closest.
func errPoolGone(pool string) *apiError {
	desc := fmt.Sprintf("node pool %q is not in the simulated world", pool)
	return &apiError{status: http.StatusInternalServerError, body: oauthBody{"unknown", desc}, reason: desc}
}

// writeError renders every failure of the fake (the only place errors are
// written). *apiError is written as built; *api.ProtocolError (from the
// TokenIssuer) as IMDS relays Entra errors, {"error","error_description"}
// with its status; anything else as a 500 "unknown" (protocols.md 2.4).
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var pe *api.ProtocolError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &pe):
		status := pe.Status
		if status == 0 {
			status = http.StatusBadRequest
		}
		ae = &apiError{status: status, body: oauthBody{pe.Code, pe.Description}, reason: pe.Code}
	default:
		ae = &apiError{status: http.StatusInternalServerError,
			body:   oauthBody{"unknown", "Failed to retrieve token from the Active directory. For details see logs in the node's IMDS trace"},
			reason: err.Error()}
	}
	if ae.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodGet)
	}
	trace.Annotate(r, func(d *api.Decision) {
		d.Error, d.Reason = errorText(ae.body), ae.reason
		d.Facts[api.FactPool] = h.pool
		if ae.hint != nil {
			d.Hint = ae.hint
		}
	})
	h.log.LogAttrs(r.Context(), slog.LevelInfo, "imds request refused",
		slog.String("pool", h.pool), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", ae.status), slog.String("reason", ae.reason))
	h.writeJSON(w, ae.status, ae.body)
}

// errorText is the identifier of an error body for the trace: the
// error_description (or error) IMDS answered.
func errorText(body any) string {
	switch b := body.(type) {
	case oauthBody:
		if b.ErrorDescription != "" {
			return b.ErrorDescription
		}
		return b.Error
	case instanceBody:
		return b.Error
	}
	return ""
}
