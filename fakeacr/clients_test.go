package fakeacr

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/containers/azcontainerregistry"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/world"
)

// ggcrAuth is how a client presents an ACR refresh token to
// go-containerregistry: as identity token (POST refresh_token grant) or as
// Basic password of the null user (GET with Basic), as the kubelet does.
type ggcrAuth func(refresh string) authn.Authenticator

var ggcrAuths = map[string]ggcrAuth{
	"identity token": func(rt string) authn.Authenticator {
		return authn.FromConfig(authn.AuthConfig{IdentityToken: rt})
	},
	"basic null user": func(rt string) authn.Authenticator {
		return authn.FromConfig(authn.AuthConfig{Username: nullUser, Password: rt})
	},
}

func (e *env) pull(t *testing.T, ref string, auth authn.Authenticator) error {
	t.Helper()
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	img, err := remote.Image(r, remote.WithTransport(e.tr), remote.WithAuth(auth), remote.WithContext(context.Background()))
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		rc.Close()
	}
	_, err = img.ConfigFile()
	return err
}

func (e *env) push(t *testing.T, ref string, auth authn.Authenticator) error {
	t.Helper()
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	img, err := RandomImage(ref, 1, 512)
	require.NoError(t, err)
	return remote.Write(r, img, remote.WithTransport(e.tr), remote.WithAuth(auth))
}

func requireStatus(t *testing.T, err error, status int) {
	t.Helper()
	require.Error(t, err)
	var te *transport.Error
	require.True(t, errors.As(err, &te), "want a registry error, got %v", err)
	assert.Equal(t, status, te.StatusCode, err.Error())
}

// TestGGCRPullPush: the kubelet identity pulls hello:v1 from the default
// world; AcrPush pushes, AcrPull cannot (clients.md 5.4).
func TestGGCRPullPush(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for mode, auth := range ggcrAuths {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			kubelet := e.refreshToken(t, azsimacr, "aks1-agentpool")
			require.NoError(t, e.pull(t, azsimacr+"/hello:v1", auth(kubelet)))
			requireStatus(t, e.push(t, azsimacr+"/kubelet-"+name.DefaultTag, auth(kubelet)), http.StatusUnauthorized)

			pusher := e.refreshToken(t, azsimacr, "pusher")
			ref := azsimacr + "/pushed/" + map[string]string{"identity token": "idt", "basic null user": "basic"}[mode] + ":v1"
			require.NoError(t, e.push(t, ref, auth(pusher)))
			require.NoError(t, e.pull(t, ref, auth(pusher)))
			require.NoError(t, e.pull(t, ref, auth(kubelet)), "AcrPull on the registry reads the pushed image")
		})
	}
}

// The realm keeps the port, which go-containerregistry requires.
func TestGGCRWithPort(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	rt := e.refreshToken(t, azsimacr, "aks1-agentpool")
	require.NoError(t, e.pull(t, azsimacr+":5443/hello:v1", ggcrAuths["basic null user"](rt)))
}

// TestNegativeTwins: the pitfalls of DESIGN.md, each next to its working twin.
func TestNegativeTwins(t *testing.T) {
	t.Parallel()
	systemOnly := newEnv(t, func(w *world.World) {
		for i := range w.RoleAssignments {
			if w.RoleAssignments[i].Principal == "aks1-agentpool" && w.RoleAssignments[i].Scope == "registry/azsimacr" {
				w.RoleAssignments[i].Principal = "aks1" // the cluster's system-assigned identity
			}
		}
	})
	e := newEnv(t, nil)
	basic := ggcrAuths["basic null user"]
	tests := []struct {
		name    string
		env     *env
		host    string
		who     string
		ref     string
		wantErr int // 0: success
	}{
		{"AcrPull on the cluster identity, kubelet pulls", systemOnly, azsimacr, "aks1-agentpool", azsimacr + "/hello:v1", 401},
		{"AcrPull on the cluster identity, cluster identity pulls", systemOnly, azsimacr, "aks1", azsimacr + "/hello:v1", 0},
		{"role on another registry", e, azsimacr, "other-puller", azsimacr + "/hello:v1", 401},
		{"role on that registry", e, "otheracr.azurecr.io", "other-puller", "otheracr.azurecr.io/hello:v1", 0},
		{"ABAC registry ignores AcrPull", e, "abacacr.azurecr.io", "aks1-agentpool", "abacacr.azurecr.io/hello:v1", 401},
		{"ABAC repository reader, allowed repository", e, "abacacr.azurecr.io", "abac-reader", "abacacr.azurecr.io/hello:v1", 0},
		{"ABAC repository reader, other repository", e, "abacacr.azurecr.io", "abac-reader", "abacacr.azurecr.io/team1/app:v1", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.env.pull(t, tt.ref, basic(tt.env.refreshToken(t, tt.host, tt.who)))
			if tt.wantErr == 0 {
				require.NoError(t, err)
				return
			}
			requireStatus(t, err, tt.wantErr)
		})
	}
	t.Run("denied token has empty actions", func(t *testing.T) {
		t.Parallel()
		tok := systemOnly.accessToken(t, azsimacr, systemOnly.refreshToken(t, azsimacr, "aks1-agentpool"), "repository:hello:pull")
		assert.Equal(t, []Access{{"repository", "hello", []string{}}}, accessOf(t, tok))
	})
	t.Run("anonymous pull", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, e.pull(t, "publicacr.azurecr.io/hello:v1", authn.Anonymous))
		requireStatus(t, e.pull(t, azsimacr+"/hello:v1", authn.Anonymous), http.StatusUnauthorized)
		requireStatus(t, e.push(t, "publicacr.azurecr.io/anon:v1", authn.Anonymous), http.StatusUnauthorized)
	})
	t.Run("admin user", func(t *testing.T) {
		t.Parallel()
		admin := &authn.Basic{Username: "publicacr", Password: "admin-pass"}
		require.NoError(t, e.push(t, "publicacr.azurecr.io/admin:v1", admin))
		require.NoError(t, e.pull(t, "publicacr.azurecr.io/big:v1", admin))
	})
}

// Access is computed when the token is asked for: a role assigned after the
// exchange applies to the same refresh token's next access token.
func TestRoleChangeAppliesToNextToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(w *world.World) { w.RoleAssignments = w.RoleAssignments[:0] })
	rt := e.refreshToken(t, azsimacr, "aks1-agentpool")
	auth := ggcrAuths["identity token"](rt)
	requireStatus(t, e.pull(t, azsimacr+"/hello:v1", auth), http.StatusUnauthorized)
	_, err := e.store.Update(func(w *world.World) error {
		w.RoleAssignments = append(w.RoleAssignments, world.RoleAssignment{Principal: "aks1-agentpool", Role: "AcrPull", Scope: "registry/azsimacr"})
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, e.pull(t, azsimacr+"/hello:v1", auth))
}

// An image a world update adds to an existing registry is served, as one
// in the world at start is (the admin API replaces worlds at run time).
func TestImageAddedByWorldUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	auth := ggcrAuths["identity token"](e.refreshToken(t, azsimacr, "aks1-agentpool"))
	require.NoError(t, e.pull(t, azsimacr+"/hello:v1", auth))
	requireStatus(t, e.pull(t, azsimacr+"/other:v1", auth), http.StatusNotFound)
	_, err := e.store.Update(func(w *world.World) error {
		for i := range w.Registries {
			if w.Registries[i].Name == "azsimacr" {
				w.Registries[i].Images = append(w.Registries[i].Images, world.Image{Repository: "other", Tag: "v1"})
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, e.pull(t, azsimacr+"/other:v1", auth))
}

// staticCredential returns a fixed Entra token, as azidentity would.
type staticCredential struct{ token string }

func (c staticCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestAzureSDKListTags: the ACR Go SDK lists tags through its own
// challenge → exchange → token flow (protocols.md 3.5).
func TestAzureSDKListTags(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	newClient := func(who, aud string, host string) *azcontainerregistry.Client {
		opts := &azcontainerregistry.ClientOptions{ClientOptions: azcore.ClientOptions{
			Transport: &http.Client{Transport: e.tr},
			Retry:     policy.RetryOptions{MaxRetries: -1},
		}}
		c, err := azcontainerregistry.NewClient("https://"+host, staticCredential{e.entraToken(t, who, aud)}, opts)
		require.NoError(t, err)
		return c
	}
	ctx := context.Background()
	page, err := newClient("aks1-agentpool", audACR, azsimacr).NewListTagsPager("hello", nil).NextPage(ctx)
	require.NoError(t, err)
	require.Len(t, page.Tags, 1)
	assert.Equal(t, "v1", *page.Tags[0].Name)
	assert.Equal(t, azsimacr, *page.RegistryLoginServer)

	// ARM tokens work unless authenticationAsArm is disabled.
	_, err = newClient("aks1-agentpool", audARM, azsimacr).NewListTagsPager("hello", nil).NextPage(ctx)
	require.NoError(t, err)
	_, err = newClient("aks1-agentpool", audARM, "noarmacr.azurecr.io").NewListTagsPager("hello", nil).NextPage(ctx)
	var re *azcore.ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusUnauthorized, re.StatusCode)
	assert.Contains(t, err.Error(), "arm aad token disallowed")

	// Without rights the SDK gets a token with no actions and the call fails.
	_, err = newClient("other-puller", audACR, azsimacr).NewListTagsPager("hello", nil).NextPage(ctx)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, http.StatusUnauthorized, re.StatusCode)
}
