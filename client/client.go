package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
)

// MaxResponseSize bounds what the client reads of one answer (a whole
// world can be large).
const MaxResponseSize = 16 << 20

// DefaultTimeout bounds each call but FollowTrace.
const DefaultTimeout = 30 * time.Second

// Client calls a simulator's admin API. It is safe for concurrent use.
type Client struct {
	base    string
	token   string
	http    *http.Client
	timeout time.Duration
}

type options struct {
	token   string
	http    *http.Client
	timeout time.Duration
}

// Option configures a Client.
type Option func(*options)

// WithToken sends tok as the bearer token of every call (a simulator bound
// beyond loopback requires one).
func WithToken(tok string) Option { return func(o *options) { o.token = tok } }

// WithHTTPClient makes the calls with hc instead of a client of its own. A
// Timeout set on hc also ends FollowTrace's stream.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.http = hc } }

// WithTimeout bounds each call but FollowTrace (0: only the context
// bounds them). The default is DefaultTimeout.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// New returns a client of the admin API at addr: "host:port" or a base URL
// ("http://host:port").
func New(addr string, opts ...Option) *Client {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.http == nil {
		o.http = &http.Client{}
	}
	base := strings.TrimRight(addr, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{base: base, token: o.token, http: o.http, timeout: o.timeout}
}

// Addr is the base URL the client calls.
func (c *Client) Addr() string { return c.base }

// Error is a refusal of the admin API: a status other than 2xx.
type Error struct {
	Method, Path string
	Status       int
	// Body is the server's answer; when it was not an api.Error, Body.Error
	// holds the start of its text.
	Body api.Error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("admin API %s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Body.Error != "" {
		msg += ": " + e.Body.Error
	}
	return msg
}

// do sends in (JSON-encoded unless nil) and decodes a 2xx answer into out
// (unless nil).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return fmt.Errorf("admin API at %s: %s %s: reading the answer: %w", c.base, method, path, err)
	}
	if len(data) > MaxResponseSize {
		return fmt.Errorf("admin API at %s: %s %s: the answer exceeds %d bytes", c.base, method, path, MaxResponseSize)
	}
	if resp.StatusCode/100 != 2 {
		return refusal(method, path, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("admin API at %s: %s %s: decoding the answer: %w", c.base, method, path, err)
	}
	return nil
}

// send makes one request; a transport failure is wrapped with the address.
func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("admin API %s %s: encoding the request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("admin API at %s: %s %s: %w", c.base, method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin API at %s does not answer %s %s: %w", c.base, method, path, err)
	}
	return resp, nil
}

// maxErrorText bounds the text of a refusal that is not an api.Error.
const maxErrorText = 512

func refusal(method, path string, status int, data []byte) *Error {
	e := &Error{Method: method, Path: path, Status: status}
	if err := json.Unmarshal(data, &e.Body); err != nil || e.Body.Error == "" {
		text := strings.TrimSpace(string(data))
		if len(text) > maxErrorText {
			text = text[:maxErrorText] + "…"
		}
		e.Body = api.Error{Error: text}
	}
	return e
}

// IsStatus reports whether err is a refusal with the given status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}
