package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/world"
)

// adminClient talks to a running simulator found through --state-dir.
type adminClient struct {
	stateDir string
	ep       api.Endpoints
	token    string
	http     *http.Client
}

func connect(stateDir string) (*adminClient, error) {
	ep, err := client.ReadEndpoints(stateDir)
	if err != nil {
		return nil, failed(err)
	}
	token := os.Getenv("AZSIM_ADMIN_TOKEN")
	if token == "" {
		// A simulator started by `azsim kind up` keeps its token here.
		if b, err := os.ReadFile(filepath.Join(stateDir, "admin-token")); err == nil {
			token = strings.TrimSpace(string(b))
		}
	}
	return &adminClient{stateDir: stateDir, ep: ep, token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

func (a *adminClient) do(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+a.ep.Admin+path, body)
	if err != nil {
		return err
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return failed(fmt.Errorf("the simulator at %s does not answer (is `azsim up` running?): %w", a.ep.Admin, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, world.MaxWorldSize))
	if err != nil {
		return failed(err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		if resp.StatusCode == http.StatusBadRequest {
			return usageErr("%s", e.Error)
		}
		return failed(fmt.Errorf("%s %s: %s %s", method, path, resp.Status, e.Error))
	}
	return json.Unmarshal(data, out)
}

// world fetches and compiles the running simulator's world.
func (a *adminClient) world() (*world.Index, error) {
	var w world.World
	if err := a.do(http.MethodGet, "/api/world", nil, &w); err != nil {
		return nil, err
	}
	return world.Compile(&w, time.Now())
}

func splitPort(addr string) (string, string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "443" {
		return addr, ""
	}
	return host, ":" + port
}
