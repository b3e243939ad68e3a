package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// adminClient talks to azsim's admin API (DESIGN.md "Admin API").
type adminClient struct {
	base, token string
	http        *http.Client
}

func newAdminClient(t *Target) *adminClient {
	if t.Admin == nil {
		return nil
	}
	return &adminClient{base: strings.TrimRight(t.Admin.URL, "/"), token: t.adminToken(), http: &http.Client{Timeout: 30 * time.Second}}
}

func (a *adminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("admin %s %s: encoding: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return fmt.Errorf("admin %s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("admin %s %s: reading: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("admin %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("admin %s %s: decoding: %w", method, path, err)
	}
	return nil
}

// saRequest is the body of POST /api/tokens/serviceaccount.
type saRequest struct {
	Cluster        string   `json:"cluster,omitempty"`
	Namespace      string   `json:"namespace"`
	ServiceAccount string   `json:"serviceAccount"`
	Audiences      []string `json:"audiences,omitempty"`
	Expiration     string   `json:"expiration,omitempty"`
}

// mintSA mints a service-account token signed by a cluster's issuer.
func (a *adminClient) mintSA(ctx context.Context, req saRequest) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := a.do(ctx, http.MethodPost, "/api/tokens/serviceaccount", req, &out); err != nil {
		return "", err
	}
	return out.Token, nil
}

// advanceClock moves the simulated clock (back, with a negative d).
func (a *adminClient) advanceClock(ctx context.Context, d time.Duration) error {
	return a.do(ctx, http.MethodPost, "/api/clock", map[string]string{"advance": d.String()}, nil)
}

// now returns the simulated time.
func (a *adminClient) now(ctx context.Context) (time.Time, error) {
	var out struct {
		Now time.Time `json:"now"`
	}
	err := a.do(ctx, http.MethodGet, "/api/clock", nil, &out)
	return out.Now, err
}

func (a *adminClient) getWorld(ctx context.Context) (json.RawMessage, error) {
	var w json.RawMessage
	err := a.do(ctx, http.MethodGet, "/api/world", nil, &w)
	return w, err
}

func (a *adminClient) putWorld(ctx context.Context, w any) (json.RawMessage, error) {
	var out json.RawMessage
	err := a.do(ctx, http.MethodPut, "/api/world", w, &out)
	return out, err
}
