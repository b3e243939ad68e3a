package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
)

func TestTrace(t *testing.T) {
	t.Parallel()
	s, c := start(t)
	ctx := testContext(t)
	ds, err := c.Trace(ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, ds)
	decide(t, s, "https://resource-1.example/")
	decide(t, s, "https://resource-2.example/")
	ds, err = c.Trace(ctx, 0)
	require.NoError(t, err)
	require.NotEmpty(t, ds)
	last := ds[len(ds)-1]
	assert.Equal(t, api.ServiceIMDS, last.Service)
	assert.Equal(t, api.OutcomeDeny, last.Outcome)

	decide(t, s, "https://resource-3.example/")
	later, err := c.Trace(ctx, last.Seq)
	require.NoError(t, err)
	require.NotEmpty(t, later)
	for _, d := range later {
		assert.Greater(t, d.Seq, last.Seq, "since skips what came before")
	}
}

// FollowTrace sends the recent decisions, then each one made after it
// started, until fn refuses one.
func TestFollowTrace(t *testing.T) {
	t.Parallel()
	s, c := start(t)
	ctx := testContext(t)
	decide(t, s, "https://resource-4.example/")
	first, err := c.Trace(ctx, 0)
	require.NoError(t, err)
	require.NotEmpty(t, first)
	mark := first[len(first)-1].Seq

	stop := errors.New("seen enough")
	got := make(chan api.Decision, 16)
	done := make(chan error, 1)
	go func() {
		done <- c.FollowTrace(ctx, 0, func(d api.Decision) error {
			got <- d
			if d.Seq > mark {
				return stop
			}
			return nil
		})
	}()
	select {
	case d := <-got:
		assert.Equal(t, first[0].Seq, d.Seq, "the recent decisions come first")
	case <-time.After(30 * time.Second):
		t.Fatal("no recent decision")
	}
	decide(t, s, "https://resource-5.example/")
	select {
	case err := <-done:
		require.ErrorIs(t, err, stop, "fn's error ends the stream")
	case <-time.After(30 * time.Second):
		t.Fatal("FollowTrace did not return")
	}
	var seqs []uint64
	for len(got) > 0 {
		seqs = append(seqs, (<-got).Seq)
	}
	require.NotEmpty(t, seqs)
	assert.Greater(t, seqs[len(seqs)-1], mark, "a decision made after the stream started arrives")
}

func TestFollowTraceEndsWithTheContext(t *testing.T) {
	t.Parallel()
	s, c := start(t)
	decide(t, s, "https://resource-6.example/")
	ds, err := c.Trace(testContext(t), 0)
	require.NoError(t, err)
	mark := ds[len(ds)-1].Seq

	ctx, cancel := context.WithCancel(testContext(t))
	done := make(chan error, 1)
	seen := make(chan api.Decision, 64)
	go func() {
		done <- c.FollowTrace(ctx, mark, func(d api.Decision) error {
			seen <- d
			return nil
		})
	}()
	decide(t, s, "https://resource-7.example/")
	select {
	case d := <-seen:
		assert.Greater(t, d.Seq, mark, "since skips the decisions before the mark: the first one streamed is newer")
	case <-time.After(30 * time.Second):
		t.Fatal("no decision streamed")
	}
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(30 * time.Second):
		t.Fatal("FollowTrace did not return when its context ended")
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	ctx := testContext(t)
	rules, err := c.Faults(ctx)
	require.NoError(t, err)
	assert.Empty(t, rules)

	a, err := c.AddFault(ctx, api.FaultRule{Service: api.ServiceEntra, Status: http.StatusServiceUnavailable, Count: 2})
	require.NoError(t, err)
	assert.NotEmpty(t, a.ID)
	b, err := c.AddFault(ctx, api.FaultRule{Service: api.ServiceIMDS, Latency: "10ms"})
	require.NoError(t, err)
	rules, err = c.Faults(ctx)
	require.NoError(t, err)
	assert.Len(t, rules, 2)

	left, err := c.DeleteFault(ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, left, 1)
	assert.Equal(t, b.ID, left[0].ID)
	_, err = c.DeleteFault(ctx, a.ID)
	assert.True(t, client.IsStatus(err, http.StatusNotFound), err)

	require.NoError(t, c.ClearFaults(ctx))
	rules, err = c.Faults(ctx)
	require.NoError(t, err)
	assert.Empty(t, rules)

	_, err = c.AddFault(ctx, api.FaultRule{Service: "nosuch"})
	var ce *client.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, http.StatusBadRequest, ce.Status)
	assert.Contains(t, ce.Error(), "POST /api/faults: 400 Bad Request: fault:")
}
