package scenarios

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRejectsBadScenarios(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ yaml, want string }{
		{"id: Bad_ID\ntitle: t\nstory: s\nsteps: [{advanceClock: 1h}]", `id: "Bad_ID" must be`},
		{"id: x\ntitle: t\nstory: s\nsteps: []", "at least one step"},
		{"id: x\ntitle: t\nstory: s\nsteps: [{advanceClock: 1h, rotateKeys: {cluster: aks1}}]", "steps[0]: exactly one action is required, got 2"},
		{"id: x\ntitle: t\nstory: s\nsteps: [{advanceClock: 1h, expect: {hop: entra}}]", "set fail: true"},
		{"id: x\ntitle: t\nstory: s\nsteps: [{advanceClock: 1h, expect: {fail: true, hint: h}}]", "steps[0].expect.pitfall: a step that expects a hint names the pitfall"},
		{"id: x\ntitle: t\nstory: s\nsteps: [{advanceClock: 1h, expect: {pitfall: x}}]", "set fail: true"},
		{"id: x\ntitle: t\nstory: s\nworld: {extends: other}\nsteps: [{advanceClock: 1h}]", `extends: "other" must be default or none`},
		{"id: x\ntitle: t\nstory: s\nworld: {add: {identities: [{name: a, resourceGroup: nope}]}}\nsteps: [{advanceClock: 1h}]", `identities[2].resourceGroup: unknown resource group "nope"`},
		{"id: x\nnope: 1", `unknown field "nope"`},
	} {
		_, err := Parse([]byte(tc.yaml))
		require.Error(t, err, tc.yaml)
		assert.Contains(t, err.Error(), tc.want)
	}
}
