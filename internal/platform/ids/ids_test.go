package ids

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDeriveIsStableAndDistinct(t *testing.T) {
	t.Parallel()
	a := Derive("tenant", "contoso")
	assert.Equal(t, a, Derive("tenant", "Contoso"), "derivation ignores case")
	assert.NotEqual(t, a, Derive("tenant", "fabrikam"))
	assert.NotEqual(t, a, Derive("client", "contoso"))
	assert.NotEqual(t, Derive("x", "ab", "c"), Derive("x", "a", "bc"), "parts are separated")
	assert.True(t, IsGUID(a))
	assert.Equal(t, byte('5'), a[14])
}

func TestNewIsRandomGUID(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	assert.NotEqual(t, a, b)
	assert.True(t, IsGUID(a))
	assert.False(t, IsGUID("not-a-guid"))
}
