package fakeacr

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// TestTokenLifetimesFromTheWorld: a registry's world-file token lifetimes
// set the exp of the ACR tokens it issues; unset ones keep the defaults.
func TestTokenLifetimesFromTheWorld(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		tokens               *world.RegistryTokens
		wantRefresh, wantAcc time.Duration
	}{
		{"defaults", nil, DefaultRefreshTokenLifetime, DefaultAccessTokenLifetime},
		{"both set", &world.RegistryTokens{RefreshTokenLifetime: world.Duration(8 * time.Hour),
			AccessTokenLifetime: world.Duration(10 * time.Minute)}, 8 * time.Hour, 10 * time.Minute},
		{"refresh only", &world.RegistryTokens{RefreshTokenLifetime: world.Duration(time.Hour)},
			time.Hour, DefaultAccessTokenLifetime},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(w *world.World) { w.Registries[0].Tokens = tc.tokens })
			now := e.clock.Now().Unix()
			refresh := e.refreshToken(t, azsimacr, "pusher")
			assert.Equal(t, float64(now+int64(tc.wantRefresh/time.Second)), claimsOf(t, refresh)["exp"])
			access := e.accessToken(t, azsimacr, refresh, "repository:hello:pull")
			assert.Equal(t, float64(now+int64(tc.wantAcc/time.Second)), claimsOf(t, access)["exp"])
		})
	}
}

type failingKeyring struct{}

func (failingKeyring) Keys(string) ([]*jwtx.Key, error) { return nil, errors.New("disk on fire") }

func TestNewReportsEveryMissingDependency(t *testing.T) {
	t.Parallel()
	_, err := New(nil, nil, nil)
	require.Error(t, err)
	for _, want := range []string{"a world store is required", "a token verifier is required", "a keyring is required"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = New(nil, failingKeyring{}, nil)
	assert.ErrorContains(t, err, `reading key ring "acr": disk on fire`)
}

// TestUploadSessionLimits: WithUploadSessionLimits bounds the upload
// sessions of one principal and expires idle ones on the simulated clock.
func TestUploadSessionLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, WithUploadSessionLimits(time.Minute, 1))
	access := e.accessToken(t, azsimacr, e.refreshToken(t, azsimacr, "pusher"), "repository:hello:pull,push")
	start := func() int {
		req, err := http.NewRequest(http.MethodPost, "https://"+azsimacr+"/v2/hello/blobs/uploads/", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+access)
		return e.do(t, req).status
	}
	require.Equal(t, http.StatusAccepted, start())
	assert.Equal(t, http.StatusTooManyRequests, start(), "one session per principal")
	e.clock.Advance(2 * time.Minute)
	assert.Equal(t, http.StatusAccepted, start(), "the idle session expired")
}
