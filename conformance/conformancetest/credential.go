// Package conformancetest runs the token-credential suite of package
// conformance as Go subtests. It is the part of the conformance engine that
// imports testing, so that binaries linking conformance do not.
package conformancetest

import (
	"context"
	"strings"
	"testing"

	"github.com/azsim/azsim/conformance"
)

// TestTokenCredential checks the credential that factory builds against an
// azsim target with an admin API and a federated identity (see
// conformance.TargetFromEndpoints): a baseline token for ACR with the right
// claims, errors that carry the AADSTS code of a mismatched assertion or an
// unknown client, and a fresh, valid token after the simulated clock passes
// the first token's expiry. Each case is a subtest of t.
func TestTokenCredential(t *testing.T, target *conformance.Target, factory conformance.CredentialFactory) {
	t.Helper()
	suite, err := conformance.TokenCredentialSuite(target, factory, t.TempDir())
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	rep := conformance.Run(context.Background(), suite, conformance.Options{})
	for _, r := range rep.Cases() {
		t.Run(strings.TrimPrefix(r.ID, suite.Name+"/"), func(t *testing.T) {
			for _, l := range r.Log {
				t.Log(l)
			}
			switch r.Status {
			case conformance.Fail, conformance.Error:
				t.Errorf("%s: %s", r.Status, r.Message)
			case conformance.Skip, conformance.Disabled, conformance.Unknown:
				t.Skipf("%s: %s", r.Status, r.Message)
			}
		})
	}
}
