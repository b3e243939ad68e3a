package kindcluster

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/kindenv/internal/render"
)

func TestDecide(t *testing.T) {
	c := decide("", false, errors.New("dial tcp: no route"))
	require.Equal(t, render.OfflineNodeImage, c.Image)
	require.True(t, c.Offline)
	require.Contains(t, c.Reason, "no route")

	c = decide("", false, nil)
	require.Equal(t, StockNodeImage, c.Image)
	require.False(t, c.Offline)

	c = decide("", true, nil)
	require.Equal(t, Choice{Image: StockNodeImage, Reason: "stock image present locally"}, c)

	c = decide("azsim/kindnode:dev", false, nil)
	require.True(t, c.Offline)
	c = decide("kindest/node:v1.37.0", false, nil)
	require.False(t, c.Offline)
}

func TestChooseNodeImageOverride(t *testing.T) {
	c := ChooseNodeImage(context.Background(), ChooseOptions{Override: render.OfflineNodeImage, ProbeRegistry: func(context.Context) error {
		t.Fatal("an override must not probe")
		return nil
	}})
	require.Equal(t, render.OfflineNodeImage, c.Image)
	require.True(t, c.Offline)
}

func TestChooseNodeImageProbe(t *testing.T) {
	// "false" as docker: the stock image is never present locally.
	c := ChooseNodeImage(context.Background(), ChooseOptions{Docker: "false", ProbeRegistry: func(context.Context) error {
		return errors.New("registry-1.docker.io: connection refused")
	}})
	require.Equal(t, render.OfflineNodeImage, c.Image)
	require.Contains(t, c.Reason, "connection refused")
}
