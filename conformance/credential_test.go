package conformance_test

import (
	"context"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/conformance"
	"github.com/azsim/azsim/conformance/conformancetest"
	"github.com/azsim/azsim/sim/simtest"
)

func clientOptions(env conformance.Env) azcore.ClientOptions {
	return azcore.ClientOptions{Transport: env.HTTPClient, Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: env.AuthorityHost},
		Retry: policy.RetryOptions{MaxRetries: -1}}
}

// TestTokenCredentialClientAssertion runs the token-credential cases on
// azidentity's ClientAssertionCredential.
func TestTokenCredentialClientAssertion(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	conformancetest.TestTokenCredential(t, simTarget(t, s, true), func(env conformance.Env) (azcore.TokenCredential, error) {
		return azidentity.NewClientAssertionCredential(env.TenantID, env.ClientID, env.Assertion,
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: clientOptions(env)})
	})
}

// TestTokenCredentialWorkloadIdentity runs them on WorkloadIdentityCredential
// reading the token file.
func TestTokenCredentialWorkloadIdentity(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	conformancetest.TestTokenCredential(t, simTarget(t, s, true), func(env conformance.Env) (azcore.TokenCredential, error) {
		return azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: clientOptions(env), TenantID: env.TenantID, ClientID: env.ClientID, TokenFilePath: env.TokenFile})
	})
}

// staticCredential ignores everything and returns a fixed token: the
// token-credential cases must catch it.
type staticCredential struct{}

func (staticCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "not-a-jwt", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestTokenCredentialCatchesABrokenCredential(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	suite, err := conformance.TokenCredentialSuite(simTarget(t, s, true), func(conformance.Env) (azcore.TokenCredential, error) {
		return staticCredential{}, nil
	}, t.TempDir())
	require.NoError(t, err)
	rep := conformance.Run(context.Background(), suite, conformance.Options{})
	assert.ElementsMatch(t, []string{"clients/token-credential/baseline", "clients/token-credential/errors/audience-mismatch",
		"clients/token-credential/errors/unknown-client", "clients/token-credential/refresh/after-clock-advance"}, rep.WithStatus(conformance.Fail))
	assert.Contains(t, rep.Root.Find("clients/token-credential/errors/audience-mismatch").Message, "want an error carrying AADSTS700212")
}
