package fakeaad

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/world"
)

// TestNewGivesKeysThumbprintKIDs: whatever key IDs the keyring uses, Entra
// publishes and signs with SHA-1 thumbprint key IDs.
func TestNewGivesKeysThumbprintKIDs(t *testing.T) {
	t.Parallel()
	store, err := world.NewStore(world.Default(), world.NewFixedClock(t0))
	require.NoError(t, err)
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	kube, err := jwtx.NewKey(priv)
	require.NoError(t, err)
	thumb, err := jwtx.NewThumbprintKey(priv)
	require.NoError(t, err)
	require.NotEqual(t, kube.KID, thumb.KID)
	e, err := New(store, jwtx.StaticKeyring{kube})
	require.NoError(t, err)
	assert.Equal(t, thumb.KID, e.SigningKID())
}

func TestNewReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := New(nil, nil, WithTokenLifetime(0), WithAssertionSkew(-time.Second), WithIssuerMetadataTTL(-time.Second))
	require.Error(t, err)
	for _, want := range []string{"a world store is required", "a keyring is required", "token lifetime must be positive",
		"assertion skew must not be negative", "issuer metadata TTL must not be negative"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = New(nil, jwtx.StaticKeyring{})
	assert.ErrorContains(t, err, `reading key ring "entra"`)
}
