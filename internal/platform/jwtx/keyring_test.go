package jwtx

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStaticKeyring(t *testing.T) {
	t.Parallel()
	k := testKey(t, 0)
	got, err := StaticKeyring{k}.Keys("any")
	require.NoError(t, err)
	assert.Equal(t, []*Key{k}, got)
	_, err = StaticKeyring{}.Keys("any")
	assert.Error(t, err)
}
