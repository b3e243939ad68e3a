package fakeaad

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/platform/ids"
)

// aadError is an Entra error response (protocols.md 1.7).
type aadError struct {
	status int
	code   string // OAuth "error"
	number int    // AADSTS number
	text   string // description without the AADSTS prefix and trace suffix
	// hint explains the refusal by a known pitfall, derived from what the
	// refusing check compared (hints.go).
	hint *api.Hint
}

// with attaches a hint.
func (e *aadError) with(h *api.Hint) *aadError {
	e.hint = h
	return e
}

func (e *aadError) Error() string { return fmt.Sprintf("AADSTS%d: %s", e.number, e.text) }

func newError(status int, code string, number int, format string, args ...any) *aadError {
	return &aadError{status: status, code: code, number: number, text: fmt.Sprintf(format, args...)}
}

// invalidClient is the 401 invalid_client shape used by credential failures.
func invalidClient(number int, format string, args ...any) *aadError {
	return newError(http.StatusUnauthorized, "invalid_client", number, format, args...)
}

func invalidRequest(number int, format string, args ...any) *aadError {
	return newError(http.StatusBadRequest, "invalid_request", number, format, args...)
}

func missingParameter(name string) *aadError {
	return invalidRequest(900144, "The request body must contain the following parameter: '%s'.", name)
}

// errorBody is the JSON body of an Entra error, fields in Entra's order.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

// entraTimestamp is the format of "timestamp" and of the description suffix.
const entraTimestamp = "2006-01-02 15:04:05Z"

// writeError renders e as Entra does: the description carries the AADSTS
// code and a "Trace ID: … Correlation ID: … Timestamp: …" suffix (the 2023+
// single-space form), correlation_id echoes client-request-id.
func writeError(w http.ResponseWriter, r *http.Request, now time.Time, e *aadError) {
	trace := ids.New()
	corr := r.Header.Get("client-request-id")
	if !ids.IsGUID(corr) {
		corr = ids.New()
	}
	ts := now.UTC().Format(entraTimestamp)
	body := errorBody{
		Error:            e.code,
		ErrorDescription: fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", e.number, e.text, trace, corr, ts),
		ErrorCodes:       []int{e.number},
		Timestamp:        ts,
		TraceID:          trace,
		CorrelationID:    corr,
		ErrorURI:         "https://login.microsoftonline.com/error?code=" + strconv.Itoa(e.number),
	}
	w.Header().Set("x-ms-request-id", trace)
	writeJSON(w, e.status, body, true)
}

// writeJSON writes v with Entra's JSON headers; noStore adds the no-cache
// headers of token responses (protocols.md 1.5).
func writeJSON(w http.ResponseWriter, status int, v any, noStore bool) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	if noStore {
		h.Set("Cache-Control", "no-store, no-cache")
		h.Set("Pragma", "no-cache")
		h.Set("Expires", "-1")
	}
	h.Set("x-ms-ests-server", "azsim")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
