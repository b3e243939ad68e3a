package conformance_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/conformance"
)

func TestLoadTargetExample(t *testing.T) {
	t.Parallel()
	tgt, err := conformance.LoadTarget("testdata/target.yaml")
	require.NoError(t, err)
	assert.Equal(t, "https://login.microsoftonline.com", tgt.Entra.Authority)
	assert.Equal(t, "https://login.microsoftonline.com/common/discovery/instance", tgt.Entra.InstanceDiscovery)
	assert.Equal(t, conformance.DefaultAudience, tgt.Identities.Federated.Audience)
	assert.Equal(t, tgt.Issuers[0].URL, tgt.Identities.Federated.Issuer)
	suite, err := conformance.ProvidersSuite(tgt)
	require.NoError(t, err)
	assert.True(t, suite.Features[conformance.FeatureIMDS])
	assert.True(t, suite.Features[conformance.FeatureFederated], "the assertion file stands in for the admin API")
	assert.False(t, suite.Features[conformance.FeatureAdmin])
	assert.False(t, suite.Features[conformance.FeatureInstanceDiscovery], "turned off explicitly")
}

func TestParseTargetErrors(t *testing.T) {
	t.Parallel()
	_, err := conformance.ParseTarget([]byte(`
entra: {authority: "http://login.example"}
imds: [{pool: p}]
registries: [{loginServer: r.azurecr.io}]
identities:
  kubelet: {clientId: k, pool: nope}
  federated: {}
`))
	require.Error(t, err)
	for _, want := range []string{"tenantId: is required", "entra.authority: want an https URL", "imds[0]: pool and url are required",
		"registries[0]: loginServer, repository and reference are required", `identities.kubelet.pool: names no imds entry "nope"`,
		"identities.federated.clientId: is required"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = conformance.ParseTarget([]byte("tenantId: x\nunknownField: 1\n"))
	assert.ErrorContains(t, err, "unknownField")
	dir := t.TempDir()
	_, err = conformance.LoadTarget(filepath.Join(dir, "missing.yaml"))
	assert.ErrorContains(t, err, "reading target")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "t.yaml"), []byte("tenantId: t\ncaFile: /nonexistent/ca.pem\n"), 0o600))
	tgt, err := conformance.LoadTarget(filepath.Join(dir, "t.yaml"))
	require.NoError(t, err)
	_, err = conformance.ProvidersSuite(tgt)
	assert.ErrorContains(t, err, "reading the target CA")
}
