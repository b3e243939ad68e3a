package credprovider

import (
	"strings"
	"testing"
)

// FuzzReadRequest feeds arbitrary CredentialProviderRequest documents: a
// request is either refused or well-formed, the image's login server is
// derived without panicking, and a service-account token of any shape is
// inspected without panicking.
func FuzzReadRequest(f *testing.F) {
	f.Add(`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"azsimacr.azurecr.io/hello:v1"}`)
	f.Add(`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"azsimacr.azurecr.io/a/b@sha256:0000","serviceAccountToken":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjoxfQ.c2ln","serviceAccountAnnotations":{"azure.workload.identity/client-id":"x"}}`)
	f.Add(`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","image":"x"}`)
	f.Add(`{"image":"docker.io/library/busybox"}`)
	f.Add(`[]`)
	f.Add(`{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"` + strings.Repeat("a", 300) + `.azurecr.io/x"}`)
	f.Fuzz(func(t *testing.T, doc string) {
		req, err := ReadRequest(strings.NewReader(doc))
		if err != nil {
			if req != nil {
				t.Fatalf("a refused request is returned: %#v", req)
			}
			return
		}
		if req.APIVersion != APIVersion || req.Kind != "CredentialProviderRequest" || req.Image == "" {
			t.Fatalf("accepted an invalid request: %#v", req)
		}
		if ls := LoginServer(req.Image); ls != "" && !strings.Contains(strings.ToLower(req.Image), ls) {
			t.Fatalf("login server %q is not in image %q", ls, req.Image)
		}
		_ = lifetime(req.ServiceAccountToken)
		_ = subjectOf(req.ServiceAccountToken)
	})
}
