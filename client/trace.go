package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/azsim/azsim/api"
)

// maxDecisionSize bounds one line of a followed trace.
const maxDecisionSize = 1 << 20

// Trace returns the recent decisions after sequence number since (0: all
// the simulator keeps).
func (c *Client) Trace(ctx context.Context, since uint64) ([]api.Decision, error) {
	ds := []api.Decision{}
	err := c.do(ctx, http.MethodGet, tracePath(since, false), nil, &ds)
	return ds, err
}

// FollowTrace calls fn with each decision after since, first the recent
// ones, then each new one as it is made, until ctx ends (it returns
// ctx.Err()), fn returns an error (it returns that error) or the simulator
// ends the stream (it returns nil).
func (c *Client) FollowTrace(ctx context.Context, since uint64, fn func(api.Decision) error) error {
	path := tracePath(since, true)
	resp, err := c.send(ctx, http.MethodGet, path, nil)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxDecisionSize))
		return refusal(http.MethodGet, path, resp.StatusCode, data)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxDecisionSize)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var d api.Decision
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return fmt.Errorf("admin API at %s: GET %s: decoding a decision: %w", c.base, path, err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("admin API at %s: GET %s: reading the stream: %w", c.base, path, err)
	}
	return nil
}

func tracePath(since uint64, follow bool) string {
	q := url.Values{}
	if since > 0 {
		q.Set("since", strconv.FormatUint(since, 10))
	}
	if follow {
		q.Set("follow", "1")
	}
	if len(q) == 0 {
		return api.PathTrace
	}
	return api.PathTrace + "?" + q.Encode()
}

// Faults lists the fault rules installed.
func (c *Client) Faults(ctx context.Context) ([]api.FaultRule, error) {
	rules := []api.FaultRule{}
	err := c.do(ctx, http.MethodGet, api.PathFaults, nil, &rules)
	return rules, err
}

// AddFault installs a fault rule and returns it as installed (with its ID).
func (c *Client) AddFault(ctx context.Context, rule api.FaultRule) (api.FaultRule, error) {
	var added api.FaultRule
	err := c.do(ctx, http.MethodPost, api.PathFaults, rule, &added)
	return added, err
}

// DeleteFault removes the fault rule id and returns the rules left.
func (c *Client) DeleteFault(ctx context.Context, id string) ([]api.FaultRule, error) {
	rules := []api.FaultRule{}
	err := c.do(ctx, http.MethodDelete, api.PathFaults+"/"+url.PathEscape(id), nil, &rules)
	return rules, err
}

// ClearFaults removes every fault rule.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, api.PathFaults, nil, nil)
}
