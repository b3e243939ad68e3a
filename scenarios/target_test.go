package scenarios

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/world"
)

// fakeTarget answers every step with hops given per action and records
// what Run asked of it.
type fakeTarget struct {
	beginErr  error
	hops      map[string][]flow.Hop
	decision  *api.Decision // Outcome.Decision, when set
	explained *api.Decision // what Explain returns
	calls     []string
}

func (f *fakeTarget) Name() string { return "kind" }
func (f *fakeTarget) Begin(context.Context, *Scenario, *world.World) error {
	f.calls = append(f.calls, "begin")
	return f.beginErr
}
func (f *fakeTarget) Mark(context.Context) (uint64, error) { return 7, nil }
func (f *fakeTarget) Do(_ context.Context, st *Step) (Outcome, error) {
	f.calls = append(f.calls, "do "+st.Action())
	return Outcome{Hops: f.hops[st.Action()], By: "fake", Decision: f.decision}, nil
}
func (f *fakeTarget) Explain(_ context.Context, mark uint64) (*api.Decision, error) {
	f.calls = append(f.calls, "explain")
	return f.explained, nil
}
func (f *fakeTarget) End(context.Context) error { f.calls = append(f.calls, "end"); return nil }
func (f *fakeTarget) MapExpect(e Expect) Expect {
	e.Error = strings.ReplaceAll(e.Error, "THEIRS", "OURS")
	return e
}

func TestRunDrivesTheTarget(t *testing.T) {
	t.Parallel()
	sc := &Scenario{ID: "x", Title: "x", Story: "x", Steps: []Step{
		{Token: &TokenStep{ServiceAccount: "default/app-puller"}, Expect: Expect{Fail: true, Hop: "entra", Status: 401, Error: "issuer 'THEIRS'", Hint: "slash"}},
		{AdvanceClock: "1h", NotIn: map[string]string{"kind": "the cluster's clock"}},
		{IMDS: &IMDSStep{NodePool: "nodepool1"}},
	}}
	f := &fakeTarget{hops: map[string][]flow.Hop{
		"token": {{Name: "entra", Status: 401, Detail: "AADSTS700211 issuer 'OURS'"}},
		"imds":  {{Name: "imds", OK: true, Status: 200}},
	}, explained: &api.Decision{Hint: &api.Hint{Text: "issuer trailing-slash mismatch"}}}
	rep := Run(context.Background(), sc, RunOptions{Target: f})
	require.NoError(t, rep.Err)
	assert.True(t, rep.Pass(), "%+v", rep.Steps[0].Problems)
	assert.Equal(t, "kind", rep.Target)
	assert.Equal(t, []string{"begin", "do token", "explain", "do imds", "end"}, f.calls, "a notIn step is not done; Explain only for a failure")
	assert.Equal(t, "the cluster's clock", rep.Steps[1].NotRun)
	assert.Equal(t, 1, rep.NotRun())
	assert.Equal(t, "issuer 'OURS'", rep.Steps[0].Expect.Error, "expectations are mapped")
	assert.Equal(t, "fake", rep.Steps[2].By)

	// A decision the target knows itself is used as is.
	f2 := &fakeTarget{hops: f.hops, decision: &api.Decision{Hint: &api.Hint{Text: "slash from the target"}}}
	rep = Run(context.Background(), sc, RunOptions{Target: f2})
	assert.True(t, rep.Pass())
	assert.NotContains(t, f2.calls, "explain")

	// The wrong hint fails the step.
	f3 := &fakeTarget{hops: f.hops, explained: &api.Decision{Hint: &api.Hint{Text: "something else"}}}
	rep = Run(context.Background(), sc, RunOptions{Target: f3})
	assert.False(t, rep.Pass())
	assert.Contains(t, strings.Join(rep.Steps[0].Problems, ";"), `expected hint containing "slash"`)
}

func TestRunEndsWhenBeginFails(t *testing.T) {
	t.Parallel()
	f := &fakeTarget{beginErr: errors.New("registry stagingacr.azurecr.io is not a name of the simulator container")}
	rep := Run(context.Background(), &Scenario{ID: "x", Steps: []Step{{AdvanceClock: "1h"}}}, RunOptions{Target: f})
	require.Error(t, rep.Err)
	assert.Contains(t, rep.Err.Error(), "kind target: registry stagingacr.azurecr.io")
	assert.Equal(t, []string{"begin", "end"}, f.calls)
	assert.False(t, rep.Pass())
}

func TestValidateNotInAndClient(t *testing.T) {
	t.Parallel()
	_, err := Parse([]byte(`
id: bad
title: t
story: s
steps:
  - pull: {nodePool: nodepool1, image: azsimacr.azurecr.io/hello:v1, client: script}
    notIn: {cloud: "no such target", kind: " "}
`))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `steps[0].pull.client: "script" must be kubelet or flow`)
	assert.Contains(t, msg, `steps[0].notIn: "cloud" must name a target (embedded, kind) with a reason`)
	assert.Contains(t, msg, `steps[0].notIn: "kind" must name a target`)
	assert.Less(t, strings.Index(msg, `"cloud"`), strings.Index(msg, `"kind"`), "problems in a stable order")
}

func TestPullStepKubelet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    PullStep
		want bool
	}{
		{PullStep{NodePool: "np"}, true},
		{PullStep{NodePool: "np", Client: "kubelet"}, true},
		{PullStep{NodePool: "np", Client: "flow"}, false},
		{PullStep{NodePool: "np", Identity: "x"}, false},
		{PullStep{NodePool: "np", ScopeRepository: "x"}, false},
		{PullStep{NodePool: "np", Resource: "x"}, false},
		{PullStep{NodePool: "np", SaveRefresh: "x"}, false},
		{PullStep{UseRefresh: "x"}, false},
		{PullStep{ServiceAccount: "default/x"}, false},
	} {
		assert.Equal(t, tc.want, tc.p.Kubelet(), "%+v", tc.p)
	}
}

func TestParsePodResult(t *testing.T) {
	t.Parallel()
	hops, ok := ParsePodResult("  ok   imds token\n" + PodResultPrefix + `[{"Name":"imds","OK":false,"Status":400,"Detail":"Multiple"}]` + "\n")
	require.True(t, ok)
	assert.Equal(t, []flow.Hop{{Name: "imds", Status: 400, Detail: "Multiple"}}, hops)
	for _, log := range []string{"", "no result here\n", PodResultPrefix + "{not json\n"} {
		_, ok := ParsePodResult(log)
		assert.False(t, ok, "%q", log)
	}
	_, err := (&PodAction{Action: "dance"}).Run(context.Background(), nil)
	assert.EqualError(t, err, `action "dance": want pull, token, imds or azidentity`)
	_, err = (&PodAction{Action: "token"}).Run(context.Background(), nil)
	assert.EqualError(t, err, "tokenFile: required for token")
}

// A hint with the right words but another pitfall fails the step.
func TestRunChecksThePitfall(t *testing.T) {
	t.Parallel()
	sc := &Scenario{ID: "x", Title: "x", Story: "x", Steps: []Step{
		{Token: &TokenStep{ServiceAccount: "default/app-puller"}, Expect: Expect{Fail: true, Hint: "slash", Pitfall: "issuer-trailing-slash"}},
	}}
	hops := map[string][]flow.Hop{"token": {{Name: "entra", Status: 401}}}
	for _, tc := range []struct {
		name string
		hint *api.Hint
		pass bool
	}{
		{"the pitfall named", &api.Hint{Pitfall: "issuer-trailing-slash", Text: "trailing-slash"}, true},
		{"another pitfall", &api.Hint{Pitfall: "fic-issuer-mismatch", Text: "trailing-slash"}, false},
		{"no pitfall", &api.Hint{Text: "trailing-slash"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := Run(context.Background(), sc, RunOptions{Target: &fakeTarget{hops: hops, decision: &api.Decision{Hint: tc.hint}}})
			require.NoError(t, rep.Err)
			assert.Equal(t, tc.pass, rep.Pass(), "%+v", rep.Steps[0].Problems)
			if !tc.pass {
				assert.Contains(t, strings.Join(rep.Steps[0].Problems, ";"), `expected the hint to name pitfall "issuer-trailing-slash"`)
			}
		})
	}
}

func TestRunNeedsATarget(t *testing.T) {
	t.Parallel()
	sc := &Scenario{ID: "x", Steps: []Step{{AdvanceClock: "1h"}}}
	rep := Run(context.Background(), sc, RunOptions{})
	require.EqualError(t, rep.Err, "no target to run the scenario on")
	assert.Empty(t, rep.Steps)
	assert.False(t, rep.Pass())
}
