package client

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/azsim/azsim/api"
)

// Clock returns the simulated time.
func (c *Client) Clock(ctx context.Context) (time.Time, error) {
	var st api.ClockState
	if err := c.do(ctx, http.MethodGet, api.PathClock, nil, &st); err != nil {
		return time.Time{}, err
	}
	return parseClock(st)
}

// AdvanceClock moves the simulated clock by d (back, when d is negative)
// and returns the new time.
func (c *Client) AdvanceClock(ctx context.Context, d time.Duration) (time.Time, error) {
	return c.postClock(ctx, api.ClockRequest{Advance: d.String()})
}

// SetClock sets the simulated clock to t and returns the new time.
func (c *Client) SetClock(ctx context.Context, t time.Time) (time.Time, error) {
	return c.postClock(ctx, api.ClockRequest{Set: t.Format(time.RFC3339Nano)})
}

func (c *Client) postClock(ctx context.Context, req api.ClockRequest) (time.Time, error) {
	var st api.ClockState
	if err := c.do(ctx, http.MethodPost, api.PathClock, req, &st); err != nil {
		return time.Time{}, err
	}
	return parseClock(st)
}

func parseClock(st api.ClockState) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, st.Now)
	if err != nil {
		return time.Time{}, fmt.Errorf("admin API clock %q: %w", st.Now, err)
	}
	return t, nil
}
