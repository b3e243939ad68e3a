package conformance

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAcrPullBindingSuiteShape(t *testing.T) {
	s := AcrPullBindingSuite(AcrPullBindingConfig{Install: "true"})
	var ids []string
	for _, c := range s.Cases {
		ids = append(ids, c.ID)
	}
	require.Equal(t, []string{
		"acrpullbinding/workload-identity/ok", "acrpullbinding/workload-identity/spec-ids", "acrpullbinding/workload-identity/scope",
		"acrpullbinding/workload-identity/missing-client-id", "acrpullbinding/workload-identity/wrong-audience",
		"acrpullbinding/workload-identity/wrong-server", "acrpullbinding/workload-identity/expiry-refresh", "acrpullbinding/managed-identity/ok",
	}, ids)
	// Without the simulator's admin API every case is an Error (the
	// harness cannot set the world up), never a Pass.
	rep := Run(context.Background(), s, Options{})
	require.Equal(t, 8, rep.Counts()[Error])
	require.Equal(t, "azsim-apb", "azsim-"+repoOf("x.azurecr.io/apb:v1"))
}
