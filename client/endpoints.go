package client

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/azsim/azsim/api"
)

// ReadEndpoints reads <dir>/endpoints.json, written by a running simulator.
func ReadEndpoints(dir string) (api.Endpoints, error) {
	var e api.Endpoints
	b, err := os.ReadFile(filepath.Join(dir, api.EndpointsFile))
	if err != nil {
		return e, fmt.Errorf("no running simulator found in state directory %q (start one with `azsim up`): %w", dir, err)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("reading %s: %w", filepath.Join(dir, api.EndpointsFile), err)
	}
	return e, nil
}
