package fakeimds

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/azsim/azsim/internal/platform/ids"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/world"
)

// These tests drive the real, unmodified azidentity ManagedIdentityCredential
// (and DefaultAzureCredential) against the fake through a transport that
// sends 169.254.169.254 to the httptest server (protocols.md 0 item 8).
//
// MSAL caches managed-identity tokens in a process-global cache keyed by
// identity and resource, so every test asks for its own resource.

// skipIfManagedIdentityEnv skips when the environment would make azidentity
// choose another managed-identity source or credential.
func skipIfManagedIdentityEnv(t *testing.T, vars ...string) {
	t.Helper()
	vars = append(vars, "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "IMDS_ENDPOINT")
	for _, v := range vars {
		if os.Getenv(v) != "" {
			t.Skipf("%s is set; azidentity would not use IMDS", v)
		}
	}
	if _, err := os.Stat("/opt/azcmagent/bin/himds"); err == nil {
		t.Skip("Azure Arc agent present; azidentity would not use IMDS")
	}
}

func clientOptions(t *testing.T, srv http.Handler) azcore.ClientOptions {
	t.Helper()
	return azcore.ClientOptions{
		Transport: imdsClient(t, newServer(t, srv)),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

func getToken(t *testing.T, cred azcore.TokenCredential, scope string) (azcore.AccessToken, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
}

func TestManagedIdentityCredential(t *testing.T) {
	t.Parallel()
	skipIfManagedIdentityEnv(t)
	s := newTestStore(t, world.NewSimClock())
	kubelet, addon := principal(t, s, "kubelet"), principal(t, s, "addon")
	smi := principal(t, s, "aks1/smi")
	tests := []struct {
		name string
		pool string
		id   azidentity.ManagedIDKind
		want *world.Principal
	}{
		{name: "user-assigned by client ID", pool: "two", id: azidentity.ClientID(addon.ClientID), want: addon},
		{name: "user-assigned by resource ID", pool: "two", id: azidentity.ResourceID(kubelet.ResourceID), want: kubelet},
		{name: "user-assigned by object ID", pool: "smiuami", id: azidentity.ObjectID(addon.ObjectID), want: addon},
		{name: "system-assigned", pool: "smi", want: smi},
		{name: "single user-assigned without ID", pool: "one", want: kubelet},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
				ClientOptions: clientOptions(t, newIMDS(t, s, tc.pool, &testIssuer{t: t, clock: s.Clock()})),
				ID:            tc.id,
			})
			require.NoError(t, err)
			resource := "https://mi" + string(rune('a'+i)) + ".test.azsim"
			tok, err := getToken(t, cred, resource+"/.default")
			require.NoError(t, err)
			c := decodeClaims(t, tok.Token)
			assert.Equal(t, resource, c.Aud)
			assert.Equal(t, tc.want.ObjectID, c.OID)
			assert.Equal(t, tc.want.ClientID, c.AppID)
			assert.Equal(t, tc.want.TenantID, c.TID)
			assert.Equal(t, tc.want.ResourceID, c.XMSMirid)
			assert.WithinDuration(t, time.Unix(c.Exp, 0), tok.ExpiresOn, time.Second)
		})
	}
}

func TestManagedIdentityCredentialFailures(t *testing.T) {
	t.Parallel()
	skipIfManagedIdentityEnv(t)
	s := newTestStore(t, world.NewSimClock())
	stranger := principal(t, s, "stranger")
	tests := []struct {
		name, pool string
		id         azidentity.ManagedIDKind
		want       []string
	}{
		{name: "identity not assigned to the VMSS", pool: "two", id: azidentity.ClientID(stranger.ClientID),
			want: []string{"the requested identity isn't assigned to this resource", "Identity not found"}},
		{name: "several user-assigned identities, none selected", pool: "two",
			want: []string{"failed to authenticate a system assigned identity", "Multiple user assigned identities exist"}},
		{name: "no identity at all", pool: "none",
			want: []string{"failed to authenticate a system assigned identity", "Identity not found"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
				ClientOptions: clientOptions(t, newIMDS(t, s, tc.pool, &testIssuer{t: t, clock: s.Clock()})),
				ID:            tc.id,
			})
			require.NoError(t, err)
			_, err = getToken(t, cred, "https://fail"+string(rune('a'+i))+".test.azsim/.default")
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// recorder remembers the requests the fake saw.
type recorder struct {
	mu   sync.Mutex
	reqs []string
	next http.Handler
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.URL.RawQuery+" Metadata="+req.Header.Get("Metadata"))
	r.mu.Unlock()
	r.next.ServeHTTP(w, req)
}

func TestDefaultAzureCredentialProbe(t *testing.T) {
	t.Parallel()
	skipIfManagedIdentityEnv(t, "AZURE_TOKEN_CREDENTIALS", "AZURE_CLIENT_ID", "AZURE_TENANT_ID",
		"AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_USERNAME", "AZURE_CLIENT_CERTIFICATE_PATH")
	s := newTestStore(t, world.NewSimClock())
	rec := &recorder{next: newIMDS(t, s, "smi", &testIssuer{t: t, clock: s.Clock()})}
	cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: clientOptions(t, rec)})
	require.NoError(t, err)
	// A resource of its own: MSAL caches managed-identity tokens process-wide,
	// so a repeated run (-count) would otherwise be answered from the cache.
	tok, err := getToken(t, cred, "https://dac-"+ids.New()+".test.azsim/.default")
	require.NoError(t, err)
	assert.Equal(t, principal(t, s, "aks1/smi").ObjectID, decodeClaims(t, tok.Token).OID)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.reqs, 2, "probe, then the token request")
	assert.Equal(t, " Metadata=", rec.reqs[0], "the probe has no query and no Metadata header")
	assert.True(t, strings.HasSuffix(rec.reqs[1], " Metadata=true"), rec.reqs[1])
}

func TestProbeAnswer(t *testing.T) {
	t.Parallel()
	resp := do(t, serve(t, fixedStore(t), "none"), http.MethodGet, "/metadata/identity/oauth2/token", map[string]string{})
	assert.Equal(t, http.StatusBadRequest, resp.status)
	assert.Equal(t, bodyMetadata, string(resp.body))
	assert.Equal(t, "88", resp.header.Get("Content-Length"))
}
