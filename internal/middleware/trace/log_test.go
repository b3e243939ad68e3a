package trace

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
)

func seqs(ds []api.Decision) []uint64 {
	out := make([]uint64, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.Seq)
	}
	return out
}

func TestLogRingAndRecent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		size    int
		records int
		since   uint64
		want    []uint64
	}{
		{"empty", 3, 0, 0, []uint64{}},
		{"under the bound", 3, 2, 0, []uint64{1, 2}},
		{"exactly the bound", 3, 3, 0, []uint64{1, 2, 3}},
		{"over the bound keeps the newest", 3, 7, 0, []uint64{5, 6, 7}},
		{"since inside the ring", 3, 7, 5, []uint64{6, 7}},
		{"since before the ring", 3, 7, 2, []uint64{5, 6, 7}},
		{"since the last", 3, 7, 7, []uint64{}},
		{"since the future", 3, 7, 100, []uint64{}},
		{"size one", 1, 4, 0, []uint64{4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := NewLog(tc.size)
			for i := 0; i < tc.records; i++ {
				l.Record(api.Decision{Path: fmt.Sprint(i)})
			}
			got := l.Recent(tc.since)
			assert.Equal(t, tc.want, seqs(got))
			assert.LessOrEqual(t, len(l.Recent(0)), tc.size)
			for _, d := range got {
				assert.Equal(t, fmt.Sprint(d.Seq-1), d.Path, "each decision keeps its own sequence number")
			}
		})
	}
}

func TestLogFlows(t *testing.T) {
	t.Parallel()
	type step struct{ in, out, flow string }
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"a whole federated flow", []step{
			{"", "sa-jti", "f1"},        // service-account token minted
			{"sa-jti", "aad-uti", "f1"}, // Entra exchange
			{"aad-uti", "acr-rt", "f1"}, // ACR exchange
			{"acr-rt", "acr-at", "f1"},  // ACR token
			{"acr-at", "", "f1"},        // registry pull
		}},
		{"unrelated decisions get new flows", []step{
			{"", "", "f1"},
			{"", "", "f2"},
			{"", "a", "f3"},
			{"", "b", "f4"},
			{"b", "", "f4"},
			{"a", "", "f3"},
		}},
		{"an unknown token starts a flow and is remembered", []step{
			{"stranger", "", "f1"},
			{"other", "", "f2"},
			{"stranger", "x", "f1"},
			{"x", "", "f1"},
		}},
		{"a token re-minted in a later flow moves there", []step{
			{"", "t", "f1"},
			{"u", "t", "f2"},
			{"t", "", "f2"},
		}},
		{"interleaved flows", []step{
			{"", "a1", "f1"},
			{"", "b1", "f2"},
			{"a1", "a2", "f1"},
			{"b1", "b2", "f2"},
			{"b2", "", "f2"},
			{"a2", "", "f1"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := NewLog(100)
			for i, s := range tc.steps {
				l.Record(api.Decision{TokenIn: s.in, TokenOut: s.out})
				ds := l.Recent(uint64(i))
				require.Len(t, ds, 1)
				assert.Equal(t, s.flow, ds[0].Flow, "step %d (%s → %s)", i, s.in, s.out)
			}
		})
	}
}

func TestLogRemembersBoundedTokenIDs(t *testing.T) {
	t.Parallel()
	const size = 2 // the log remembers 4*size token IDs
	l := NewLog(size)
	for i := range 20 {
		l.Record(api.Decision{TokenOut: fmt.Sprintf("t%d", i)})
	}
	l.mu.Lock()
	assert.LessOrEqual(t, len(l.flows), 4*size)
	assert.Len(t, l.order, len(l.flows))
	l.mu.Unlock()

	l.Record(api.Decision{TokenIn: "t19"})
	assert.Equal(t, "f20", l.Recent(20)[0].Flow, "a recent token still correlates")
	l.Record(api.Decision{TokenIn: "t0"})
	assert.Equal(t, "f22", l.Recent(21)[0].Flow, "a forgotten token starts a new flow")

	l.mu.Lock()
	defer l.mu.Unlock()
	assert.LessOrEqual(t, len(l.flows), 4*size)
	assert.Len(t, l.order, len(l.flows))
}

func TestLogFoldsRepeats(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	refused := api.Decision{Service: api.ServiceACR, Path: "/oauth2/token", Caller: "10.0.0.1:1000", Outcome: api.OutcomeDeny,
		Status: 401, Error: "UNAUTHORIZED", TokenIn: "rt-1"}
	l := NewLog(3)
	l.Record(api.Decision{Path: "/first", Outcome: api.OutcomeAllow, TokenOut: "t"})
	for i := range 50 {
		d := refused
		d.Time, d.Caller = t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("10.0.0.1:%d", 1000+i)
		l.Record(d)
	}
	ds := l.Recent(0)
	require.Len(t, ds, 2, "fifty identical refusals take one entry: the earlier decision is kept")
	assert.Equal(t, "/first", ds[0].Path)
	assert.Equal(t, 49, ds[1].Repeats)
	assert.Equal(t, t0, ds[1].FirstTime)
	assert.Equal(t, t0.Add(49*time.Second), ds[1].Time)
	assert.Equal(t, uint64(51), ds[1].Seq, "a repeat takes the newest sequence number")

	other := refused
	other.Error = "DENIED"
	l.Record(other)
	minted := api.Decision{Path: "/mint", Outcome: api.OutcomeAllow, TokenOut: "a"}
	l.Record(minted)
	minted.TokenOut = "b"
	l.Record(minted)
	ds = l.Recent(0)
	require.Len(t, ds, 3)
	assert.Equal(t, []string{"DENIED", "", ""}, []string{ds[0].Error, ds[1].Error, ds[2].Error},
		"another error is another entry; decisions that mint tokens never fold")
	assert.Zero(t, ds[2].Repeats)
}

func TestLogFoldKeepsDistinctAllowedTokens(t *testing.T) {
	t.Parallel()
	l := NewLog(10)
	l.Record(api.Decision{Path: "/v2/hello/manifests/v1", Outcome: api.OutcomeAllow, TokenIn: "at-1"})
	l.Record(api.Decision{Path: "/v2/hello/manifests/v1", Outcome: api.OutcomeAllow, TokenIn: "at-2"})
	l.Record(api.Decision{Path: "/.well-known/openid-configuration", Outcome: api.OutcomeAllow})
	l.Record(api.Decision{Path: "/.well-known/openid-configuration", Outcome: api.OutcomeAllow})
	ds := l.Recent(0)
	require.Len(t, ds, 3, "allowed hops that present tokens stay apart; token-less repeats fold")
	assert.Equal(t, 1, ds[2].Repeats)
}

func TestLogExplainsFromFlow(t *testing.T) {
	t.Parallel()
	hint := &api.Hint{Pitfall: "acrpull-on-cluster-identity", Text: "AcrPull is assigned to the cluster's identity"}
	tokenFacts := api.Facts{api.FactRegistry: "azsimacr.azurecr.io", api.FactRepository: "hello", api.FactActions: "pull,push", api.FactGranted: "push"}
	refused := func(status int, repo, action, tokenIn string) api.Decision {
		return api.Decision{Outcome: api.OutcomeDeny, Status: status, TokenIn: tokenIn,
			Facts: api.Facts{api.FactRegistry: "azsimacr.azurecr.io", api.FactRepository: repo, api.FactActions: action}}
	}
	own := refused(401, "hello", "pull", "at")
	own.Hint = &api.Hint{Text: "own"}
	allowed := refused(200, "hello", "pull", "at")
	allowed.Outcome = api.OutcomeAllow
	for _, tc := range []struct {
		name  string
		later api.Decision
		want  string
	}{
		{"the action the token request dropped", refused(401, "hello", "pull", "at"), hint.Text},
		{"an action it granted", refused(401, "hello", "push", "at"), ""},
		{"a missing tag", refused(404, "hello", "pull", "at"), ""},
		{"another repository", refused(401, "other", "pull", "at"), ""},
		{"another flow", refused(401, "hello", "pull", "stranger"), ""},
		{"allowed", allowed, ""},
		{"its own hint wins", own, "own"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := NewLog(10)
			l.Record(api.Decision{Path: "/oauth2/token", Outcome: api.OutcomeAllow, Status: 200, TokenIn: "rt", TokenOut: "at", Hint: hint, Facts: tokenFacts})
			l.Record(tc.later)
			got := l.Recent(1)[0]
			assert.Equal(t, tc.want, got.Hint.String())
			if tc.want == hint.Text {
				assert.Equal(t, "1", got.Facts[api.FactExplainedBy])
			} else {
				assert.Empty(t, got.Facts[api.FactExplainedBy])
			}
		})
	}
}

func TestLogSubscribe(t *testing.T) {
	t.Parallel()
	l := NewLog(10)
	l.Record(api.Decision{Path: "before"})
	ch1, cancel1 := l.Subscribe()
	ch2, cancel2 := l.Subscribe()
	defer cancel2()
	assert.Empty(t, ch1, "a subscriber sees only new decisions")

	l.Record(api.Decision{Path: "one", TokenOut: "t"})
	for _, ch := range []<-chan api.Decision{ch1, ch2} {
		require.Len(t, ch, 1)
		d := <-ch
		assert.Equal(t, "one", d.Path)
		assert.Equal(t, uint64(2), d.Seq)
		assert.Equal(t, "f2", d.Flow, "subscribers see the finished decision")
	}

	cancel1()
	cancel1() // idempotent
	l.Record(api.Decision{Path: "two"})
	assert.Empty(t, ch1, "no decision after cancel")
	require.Len(t, ch2, 1)
	assert.Equal(t, "two", (<-ch2).Path)
}

func TestLogSlowSubscriberNeverBlocks(t *testing.T) {
	t.Parallel()
	l := NewLog(10)
	ch, cancel := l.Subscribe()
	defer cancel()
	n := cap(ch) + 50
	for i := 0; i < n; i++ {
		l.Record(api.Decision{}) // would deadlock if Record blocked on a full channel
	}
	assert.Len(t, ch, cap(ch), "the channel is full")
	assert.Equal(t, uint64(1), (<-ch).Seq, "the subscriber keeps the oldest and misses the rest")
	assert.Equal(t, uint64(n), l.Recent(uint64(n - 1))[0].Seq, "the log still records everything")
}

func TestLogConcurrentRecord(t *testing.T) {
	t.Parallel()
	const writers, each = 8, 200
	l := NewLog(writers * each)
	ch, cancel := l.Subscribe()
	defer cancel()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				prev := ""
				if i > 0 {
					prev = fmt.Sprintf("w%d-%d", w, i-1)
				}
				l.Record(api.Decision{Outcome: api.OutcomeDeny, TokenIn: prev, TokenOut: id})
			}
		})
	}
	wg.Go(func() {
		for range each {
			_ = l.Recent(0)
			c, stop := l.Subscribe()
			stop()
			_ = c
		}
	})
	wg.Wait()

	ds := l.Recent(0)
	require.Len(t, ds, writers*each)
	seen := map[uint64]bool{}
	flows := map[string]bool{}
	for i, d := range ds {
		assert.Equal(t, uint64(i+1), d.Seq, "sequence numbers are dense and monotonic")
		assert.False(t, seen[d.Seq])
		seen[d.Seq] = true
		flows[d.Flow] = true
	}
	assert.Len(t, flows, writers, "each writer's chain of tokens is one flow")
	assert.NotEmpty(t, ch)
}
