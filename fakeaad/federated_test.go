package fakeaad

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// TestSubjectCaseText: AADSTS7002138 reads as the 2025 captures do, down
// to its two closing links (protocols.md 1.7).
func TestSubjectCaseText(t *testing.T) {
	t.Parallel()
	e, store := newEntra(t)
	p, ok := store.Snapshot().PrincipalByName("app-puller")
	require.True(t, ok)
	c := &assertionClaims{Iss: "https://issuer.example/", Sub: "repo:Org/Repo:environment:Production", Aud: jwtx.Audience{"api://AzureADTokenExchange"}}
	fic := world.FederatedCredential{Name: "gh", Issuer: c.Iss, Subject: "repo:org/repo:environment:Production", Audiences: c.Aud}
	aerr := e.ficError(p, c, []world.FederatedCredential{fic}, false, true, false)
	require.NotNil(t, aerr)
	assert.Equal(t, 7002138, aerr.number)
	assert.Equal(t, "invalid_client", aerr.code)
	assert.Equal(t, "No matching federated identity record found for presented assertion subject 'repo:Org/Repo:environment:Production'. "+
		"The subject matches with case-insensitive comparison, but not with case-sensitive comparison. "+
		"Check your federated identity credential Subject, Audience and Issuer against the presented assertion. "+
		"See documentation at: https://learn.microsoft.com/entra/workload-id/workload-identity-federation. "+
		"See breaking change notification and remediation at: https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024.", aerr.text)
}
