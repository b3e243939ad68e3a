package ocistore

import (
	"encoding/json"
	"net/http"
)

type errorEntry struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type errorBody struct {
	Errors []errorEntry `json:"errors"`
}

// regError writes the distribution-spec error envelope, with a trailing
// newline, as the fake ACR writes its own errors.
func regError(w http.ResponseWriter, status int, code, message string) {
	b, err := json.Marshal(errorBody{Errors: []errorEntry{{Code: code, Message: message}}})
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errors":[{"code":"INTERNAL_SERVER_ERROR","message":"encoding response"}]}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
