package fakeimds

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"
)

// FuzzParseTokenQuery checks the token query parser: no panic; either a
// valid request (supported api-version, a resource, at most one selector)
// or a 400 invalid_request error with a well-formed body; the same answer
// twice.
func FuzzParseTokenQuery(f *testing.F) {
	for _, seed := range []string{
		"", "api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F",
		"api-version=2018-02-01&resource=x&client_id=a&msi_res_id=b",
		"api-version=2018-02-01&resource=x&resource=y", "resource=%zz", "a=b;c=d&&=",
		"api-version=2018-02-01&resource=/.default", "api-version=2017-03-01&resource=x",
		"api-version=2018-02-01&resource=x&mi_res_id=%2Fsubscriptions%2Fs",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		req, err := parseTokenQuery(raw, apiVersions, defaultMessages)
		req2, err2 := parseTokenQuery(raw, apiVersions, defaultMessages)
		if req != req2 || (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("not deterministic: %+v %v / %+v %v", req, err, req2, err2)
		}
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusBadRequest {
				t.Fatalf("error %v is not a 400 apiError", err)
			}
			body, ok := ae.body.(oauthBody)
			if !ok || body.Error != "invalid_request" || body.ErrorDescription == "" {
				t.Fatalf("bad error body %#v", ae.body)
			}
			if _, mErr := json.Marshal(body); mErr != nil {
				t.Fatalf("body does not marshal: %v", mErr)
			}
			return
		}
		if req.mintResource() == "" || !slices.Contains(apiVersions, req.APIVersion) || req.APIVersion < minIdentityVersion {
			t.Fatalf("accepted an invalid request %+v", req)
		}
		if req.Selector.Name != "" && !slices.Contains(selectorNames, req.Selector.Name) {
			t.Fatalf("unknown selector %+v", req.Selector)
		}
	})
}
