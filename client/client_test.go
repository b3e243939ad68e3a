package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
	"github.com/azsim/azsim/world"
)

// A refused world carries every problem at once.
func TestRefusalCarriesProblems(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	bad := world.Default()
	bad.Tenants = nil
	bad.Identities = append(bad.Identities, world.Identity{Name: "x", ResourceGroup: "nope"})
	err := c.PutWorld(testContext(t), bad, nil)
	var ce *client.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, http.MethodPut, ce.Method)
	assert.Equal(t, api.PathWorld+"?"+api.WithSecrets, ce.Path)
	assert.Equal(t, http.StatusBadRequest, ce.Status)
	assert.Greater(t, len(ce.Body.Problems), 1, ce.Body.Problems)
	assert.Contains(t, ce.Body.Error, "tenants: at least one tenant is required")
	assert.True(t, strings.HasPrefix(ce.Error(), "admin API PUT /api/world?secrets=include: 400 Bad Request: "), ce.Error())
}

func TestAdminToken(t *testing.T) {
	t.Parallel()
	const token = "sekret-token"
	s := simtest.Start(t, nil, sim.WithAdminToken(token))
	ctx := testContext(t)
	for _, tc := range []struct {
		name string
		opts []client.Option
		want int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", []client.Option{client.WithToken("wrong")}, http.StatusUnauthorized},
		{"token", []client.Option{client.WithToken(token)}, 0},
	} {
		c := client.New(s.AdminAddr(), tc.opts...)
		require.NoError(t, c.Healthz(ctx), "%s: healthz needs no token", tc.name)
		_, err := c.Clock(ctx)
		if tc.want == 0 {
			assert.NoError(t, err, tc.name)
			continue
		}
		var ce *client.Error
		require.ErrorAs(t, err, &ce, tc.name)
		assert.Equal(t, tc.want, ce.Status, tc.name)
		assert.Equal(t, "admin token required", ce.Body.Error, tc.name)
		assert.NotContains(t, err.Error(), token, tc.name)
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := client.New(addr, client.WithToken("sekret-token"))
	err = c.Healthz(testContext(t))
	require.Error(t, err)
	var ce *client.Error
	assert.False(t, errors.As(err, &ce), "a transport failure is no refusal")
	assert.Contains(t, err.Error(), addr)
	assert.NotContains(t, err.Error(), "sekret-token")
	err = c.FollowTrace(testContext(t), 0, func(api.Decision) error { return nil })
	assert.ErrorContains(t, err, addr)
}

// The client sends JSON with its token, bounds what it reads, and keeps
// the text of an answer that is not an api.Error.
func TestWire(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case api.PathFaults:
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
			b, _ := io.ReadAll(r.Body)
			assert.JSONEq(t, `{"id":"","service":"acr","status":500,"hits":0}`, string(b))
			_, _ = io.WriteString(w, `{"id":"f1","service":"acr","status":500,"hits":0}`)
		case api.PathWorld:
			_, _ = io.WriteString(w, `{"big":"`)
			_, _ = io.Copy(w, io.LimitReader(zeros{}, client.MaxResponseSize))
			_, _ = io.WriteString(w, `"}`)
		default:
			http.Error(w, "upstream is down", http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	c := client.New(srv.URL, client.WithToken("tok"))
	ctx := testContext(t)

	rule, err := c.AddFault(ctx, api.FaultRule{Service: api.ServiceACR, Status: 500})
	require.NoError(t, err)
	assert.Equal(t, "f1", rule.ID)

	err = c.World(ctx, &map[string]any{})
	assert.ErrorContains(t, err, "exceeds")

	_, err = c.Clock(ctx)
	var ce *client.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, http.StatusBadGateway, ce.Status)
	assert.Equal(t, "upstream is down", ce.Body.Error)
	assert.Equal(t, "admin API GET /api/clock: 502 Bad Gateway: upstream is down", ce.Error())
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

func TestCallsEndWithTheirContext(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Clock(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}
