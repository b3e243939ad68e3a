package ocistore

import (
	"encoding/json"
	"net/http"
)

type errorEntry struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail,omitempty"`
}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

// regError writes the distribution-spec error envelope, with a trailing
// newline, as the fake ACR writes its own errors.
func regError(w http.ResponseWriter, status int, code, message string) {
	regErrors(w, status, errorEntry{Code: code, Message: message})
}

// regErrors writes an envelope of several errors (protocols.md 3.8).
func regErrors(w http.ResponseWriter, status int, errs ...errorEntry) {
	b, err := json.Marshal(errorBody{Errors: errs})
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errors":[{"code":"INTERNAL_SERVER_ERROR","message":"encoding response"}]}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeDigestInvalid is ACR's answer to content that does not hash to the
// digest given for it (protocols.md 3.8, captured for blob uploads; ACR's
// text for a manifest PUT by digest is not captured and is taken to be the
// same [L]).
func writeDigestInvalid(w http.ResponseWriter) {
	regErrors(w, http.StatusBadRequest, errorEntry{Code: "DIGEST_INVALID",
		Message: "provided digest did not match uploaded content", Detail: json.RawMessage(`"digest parsing failed"`)})
}
