package fakeacr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/middleware/trace"
)

// Error codes and confirmed messages (protocols.md 3.1, 3.2, 3.3).
const (
	codeUnauthorized = "UNAUTHORIZED"
	codeBadRequest   = "BAD_REQUEST"
	codeNotFound     = "NOT_FOUND"
	codeInternal     = "INTERNAL_SERVER_ERROR"

	msgAuthRequired = "authentication required, visit https://aka.ms/acr/authorization for more information."
	msgArmDisallow  = "arm aad token disallowed"
)

// Challenge error values (protocols.md 3.1).
const (
	errInvalidToken      = "invalid_token"
	errInsufficientScope = "insufficient_scope"
)

// detailNull is the literal "detail":null of the /v2/ challenge body.
var detailNull = json.RawMessage("null")

// apiError is a failure rendered in ACR's error envelope
// {"errors":[{"code","message"[,"detail"]}]}. Handlers return it as a value;
// writeError is the only place it is written.
type apiError struct {
	status  int
	code    string
	message string
	detail  json.RawMessage // nil: no "detail" key
	// challenge is the Www-Authenticate value, if any.
	challenge string
	// reason explains the decision for the trace and log; never sent.
	reason string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s (%s)", e.status, e.code, e.message, e.reason)
}

func unauthorized(message, reason string) *apiError {
	return &apiError{status: http.StatusUnauthorized, code: codeUnauthorized, message: message, reason: reason}
}

func badRequest(message string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeBadRequest, message: message, reason: message}
}

func notFound(message string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeNotFound, message: message, reason: message}
}

type errorEntry struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail,omitempty"`
}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

// writeError renders every failure of the fake (protocols.md 3.1: JSON
// bodies with a trailing newline, charset utf-8). Errors that are not
// *apiError become a 500.
func (a *ACR) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, code: codeInternal, message: "internal error", reason: err.Error()}
	}
	h := w.Header()
	if ae.challenge != "" {
		h.Set("Www-Authenticate", ae.challenge)
	}
	trace.Annotate(r, func(d *api.Decision) {
		d.Error = ae.code
		if d.Reason == "" {
			d.Reason = ae.reason
		}
	})
	a.log.Info("acr request failed", "method", r.Method, "host", r.Host, "path", r.URL.Path,
		"status", ae.status, "code", ae.code, "reason", ae.reason)
	writeJSON(w, ae.status, errorBody{Errors: []errorEntry{{Code: ae.code, Message: ae.message, Detail: ae.detail}}})
}

// writeJSON writes v with a trailing newline (protocols.md 3.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errors":[{"code":"INTERNAL_SERVER_ERROR","message":"encoding response"}]}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// bearerChallenge builds the exact ACR challenge (protocols.md 0 item 11,
// 3.1): every value quoted, comma-separated, no spaces. The realm is on the
// request's host:port, which go-containerregistry requires (clients.md 5.4).
func bearerChallenge(requestHost, service, scope, errCode string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `Bearer realm="https://%s/oauth2/token",service="%s"`, requestHost, service)
	if scope != "" {
		fmt.Fprintf(&b, `,scope="%s"`, scope)
	}
	if errCode != "" {
		fmt.Fprintf(&b, `,error="%s"`, errCode)
	}
	return b.String()
}

// basicChallenge is answered to wrong Basic credentials (protocols.md 3.1).
const basicChallenge = `Basic realm="Azure Container Registry"`

// accessDetail is one entry of the challenge body's detail (protocols.md 3.1).
type accessDetail struct {
	Type   string `json:"Type"`
	Name   string `json:"Name"`
	Action string `json:"Action"`
}

// challengeError is the 401 of a registry API: the Bearer challenge with the
// scope needed and, for a presented token, error=errCode; the body lists the
// missing access (protocols.md 3.1).
func challengeError(rc *reqCtx, need *need, errCode, reason string) *apiError {
	e := unauthorized(msgAuthRequired, reason)
	scope := ""
	if need == nil {
		e.detail = detailNull
	} else {
		scope = need.challengeScope()
		var d []accessDetail
		for _, act := range need.challengeActions {
			d = append(d, accessDetail{Type: need.typ, Name: need.name, Action: act})
		}
		e.detail, _ = json.Marshal(d)
	}
	e.challenge = bearerChallenge(rc.r.Host, rc.reg.LoginServer, scope, errCode)
	return e
}
