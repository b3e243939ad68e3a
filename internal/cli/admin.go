package cli

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/world"
)

// connect finds the running simulator of a state directory.
func connect(stateDir string) (*client.Client, api.Endpoints, error) {
	c, ep, err := client.FromStateDir(stateDir)
	if err != nil {
		return nil, ep, failed(err)
	}
	return c, ep, nil
}

// adminErr gives an admin API error its exit code: a 400 is bad input
// (exit 2), anything else a failure (exit 1).
func adminErr(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Status == http.StatusBadRequest {
		return usageErr("%s", ce.Body.Error)
	}
	return failed(err)
}

// compiledWorld fetches and compiles the running simulator's world.
func compiledWorld(ctx context.Context, c *client.Client) (*world.Index, error) {
	var w world.World
	if err := c.World(ctx, &w); err != nil {
		return nil, adminErr(err)
	}
	return world.Compile(&w, time.Now())
}

// mintSA mints a service-account token through the admin API.
func mintSA(ctx context.Context, c *client.Client, req api.ServiceAccountTokenRequest) (api.ServiceAccountToken, error) {
	tok, err := c.ServiceAccountToken(ctx, req)
	if err != nil {
		return tok, adminErr(err)
	}
	return tok, nil
}

func splitPort(addr string) (string, string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "443" {
		return addr, ""
	}
	return host, ":" + port
}
