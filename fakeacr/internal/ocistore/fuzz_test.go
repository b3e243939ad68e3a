package ocistore

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzManifestPut: any manifest push is answered in the registry's error
// format or accepted, never with a panic; what is accepted is served back
// byte for byte under its digest.
func FuzzManifestPut(f *testing.F) {
	f.Add("v1", "application/vnd.oci.image.manifest.v1+json", []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}`))
	f.Add("v1", "application/vnd.oci.image.index.v1+json", []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}]}`))
	f.Add("sha256:abc", "", []byte(`{}`))
	f.Add("v1", "text/plain", []byte("not json"))
	r, err := Open(context.Background(), "", loginServer)
	if err != nil {
		f.Fatal(err)
	}
	cfg := []byte("{}")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v2/app/blobs/uploads/?digest="+digestOf(cfg), bytes.NewReader(cfg)))
	f.Fuzz(func(t *testing.T, ref, contentType string, body []byte) {
		req, err := http.NewRequest(http.MethodPut, "/v2/app/manifests/"+ref, bytes.NewReader(body))
		if err != nil || req.URL.Path != "/v2/app/manifests/"+ref {
			return // not a path of one reference
		}
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code == http.StatusCreated {
			get := httptest.NewRecorder()
			r.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/v2/app/manifests/"+digestOf(body), nil))
			if !bytes.Equal(get.Body.Bytes(), body) {
				t.Fatalf("accepted manifest not served back: %d", get.Code)
			}
			return
		}
		var e errorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || len(e.Errors) == 0 || e.Errors[0].Code == "" {
			t.Fatalf("status %d without the error envelope: %q", rec.Code, rec.Body.String())
		}
	})
}
