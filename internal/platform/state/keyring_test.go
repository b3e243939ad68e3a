package state

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyringCachesAndRotates(t *testing.T) {
	t.Parallel()
	d := openDir(t)
	k := NewKeyring(d)
	first, err := k.Keys("acr")
	require.NoError(t, err)
	require.Len(t, first, 1)
	again, err := k.Keys("acr")
	require.NoError(t, err)
	assert.Same(t, first[0], again[0], "a ring is loaded once")

	rotated, err := k.Rotate("acr", 2)
	require.NoError(t, err)
	require.Len(t, rotated, 2)
	assert.Equal(t, first[0].KID, rotated[0].KID, "the previous key stays published")
	now, err := k.Keys("acr")
	require.NoError(t, err)
	assert.Equal(t, rotated, now, "Keys sees the rotation")

	reopened, err := NewKeyring(d).Keys("acr")
	require.NoError(t, err)
	require.Len(t, reopened, 2)
	assert.Equal(t, rotated[1].KID, reopened[1].KID, "the rotation is on disk")

	_, err = k.Keys("bad/name")
	assert.ErrorContains(t, err, "invalid key ring name")
}
