package client

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/azsim/azsim/api"
)

// FromStateDir returns a client of the simulator whose state directory is
// dir, and its endpoints (<dir>/endpoints.json). The token is
// $AZSIM_ADMIN_TOKEN, else the one `azsim kind up` keeps in
// <dir>/admin-token; opts may override it.
func FromStateDir(dir string, opts ...Option) (*Client, api.Endpoints, error) {
	ep, err := ReadEndpoints(dir)
	if err != nil {
		return nil, ep, err
	}
	all := append([]Option{WithToken(StateDirToken(dir))}, opts...)
	return New(ep.Admin, all...), ep, nil
}

// StateDirToken is the admin token of the simulator whose state directory
// is dir: $AZSIM_ADMIN_TOKEN, else the content of <dir>/admin-token, else "".
func StateDirToken(dir string) string {
	if tok := os.Getenv(api.AdminTokenEnv); tok != "" {
		return tok
	}
	b, err := os.ReadFile(filepath.Join(dir, api.AdminTokenFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
