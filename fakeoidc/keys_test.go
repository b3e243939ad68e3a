package fakeoidc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRequiresStoreAndKeyring(t *testing.T) {
	t.Parallel()
	_, err := New(nil, nil)
	require.Error(t, err)
	assert.ErrorContains(t, err, "a world store is required")
	assert.ErrorContains(t, err, "a keyring is required")
}

func TestIssuerKeysRotateTheClusterRing(t *testing.T) {
	t.Parallel()
	_, keys, _ := newIssuer(t)
	before, err := keys.IssuerKeys("aks1")
	require.NoError(t, err)
	for _, tc := range []struct {
		dropOld bool
		want    int
	}{{false, 2}, {true, 1}} {
		after, err := keys.Rotate("aks1", tc.dropOld)
		require.NoError(t, err)
		assert.Len(t, after, tc.want, "dropOld=%v", tc.dropOld)
		assert.NotEqual(t, before[len(before)-1].KID, after[len(after)-1].KID, "a new key is active")
		before = after
	}
	_, err = keys.Rotate("bad/cluster", false)
	assert.ErrorContains(t, err, `rotating issuer keys of cluster "bad/cluster"`)
}
