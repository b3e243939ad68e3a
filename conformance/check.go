package conformance

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/azsim/azsim/internal/platform/jwtx"
)

// response is an HTTP response with its body read.
type response struct {
	*http.Response
	Body []byte
}

// do sends req; a transport failure is the harness's Error (the target is
// supposed to be up).
func (p *providers) do(c *C, req *http.Request) *response {
	req = req.WithContext(c.Context())
	resp, err := p.http.Do(req)
	if err != nil {
		c.Broken("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		c.Broken("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	c.Logf("%s %s → %d (%d bytes)", req.Method, redactURL(req.URL), resp.StatusCode, len(body))
	return &response{resp, body}
}

func (p *providers) get(c *C, u string, hdr map[string]string) *response {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		c.Broken("building GET %s: %v", u, err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return p.do(c, req)
}

func (p *providers) postForm(c *C, u string, form url.Values, hdr map[string]string) *response {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		c.Broken("building POST %s: %v", u, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return p.do(c, req)
}

func redactURL(u *url.URL) string {
	q := u.Query()
	for k := range q {
		if strings.Contains(k, "token") || strings.Contains(k, "assertion") {
			q.Set(k, "REDACTED")
		}
	}
	cp := *u
	cp.RawQuery = q.Encode()
	return cp.String()
}

// status checks the status code and stops on a mismatch.
func (r *response) status(c *C, want int) {
	c.Must(r.StatusCode == want, "status: want %d, got %d (body %q)", want, r.StatusCode, clip(string(r.Body)))
}

// object decodes a JSON object body or stops.
func (r *response) object(c *C) map[string]any {
	var m map[string]any
	if err := decodeJSON(r.Body, &m); err != nil {
		c.Fatalf("%v", err)
	}
	return m
}

// aadError is an expected Entra error (protocols.md 1.7).
type aadError struct {
	status int
	err    string
	code   int
	// text is the start of the description after "AADSTS<code>: ".
	text string
}

var aadSuffix = regexp.MustCompile(`(?:\r\n| )Trace ID: ([0-9a-fA-F-]{36})(?:\r\n| )Correlation ID: ([0-9a-fA-F-]{36})(?:\r\n| )Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)

// checkAADError checks an Entra error response: status, JSON content type,
// error, error_codes, description prefix and trace suffix, the
// correlation_id echo of client-request-id, trace_id and timestamp.
func checkAADError(c *C, r *response, corr string, want aadError) {
	c.Check(r.StatusCode == want.status, "status: want %d, got %d", want.status, r.StatusCode)
	c.Check(strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"), "Content-Type: want application/json, got %q", r.Header.Get("Content-Type"))
	var e struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		Timestamp     string `json:"timestamp"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
	}
	if err := decodeJSON(r.Body, &e); err != nil {
		c.Fatalf("%v", err)
	}
	c.Equal("error", want.err, e.Error)
	c.Check(len(e.Codes) == 1 && e.Codes[0] == want.code, "error_codes: want [%d], got %v", want.code, e.Codes)
	prefix := "AADSTS" + strconv.Itoa(want.code) + ": " + want.text
	c.Check(strings.HasPrefix(e.Description, prefix), "error_description: want prefix %q, got %q", prefix, clip(e.Description))
	m := aadSuffix.FindStringSubmatch(e.Description)
	if c.Check(m != nil, "error_description lacks the Trace ID / Correlation ID / Timestamp suffix: %q", clip(e.Description)) {
		c.Check(strings.EqualFold(m[1], e.TraceID), "trace_id %q differs from the description's Trace ID %q", e.TraceID, m[1])
		c.Check(strings.EqualFold(m[2], corr), "description Correlation ID: want the client-request-id %s, got %s", corr, m[2])
	}
	c.Check(strings.EqualFold(e.CorrelationID, corr), "correlation_id: want the client-request-id %s, got %q", corr, e.CorrelationID)
	c.Check(regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`).MatchString(e.Timestamp), "timestamp: want YYYY-MM-DD hh:mm:ssZ, got %q", e.Timestamp)
}

// claims decodes a JWT payload without verifying it.
func claims(c *C, what, tok string) map[string]any {
	t, err := jwtx.Parse(tok)
	if err != nil {
		c.Fatalf("%s is not a JWT: %v", what, err)
	}
	var m map[string]any
	if err := t.Claims(&m); err != nil {
		c.Fatalf("%s claims: %v", what, err)
	}
	return m
}

// stdPayload decodes a JWT payload with standard base64 (re-padded), as
// the ACR SDK does (protocols.md 0 item 10).
func stdPayload(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("want 3 dot-separated parts, got %d", len(parts))
	}
	seg := parts[1]
	if n := len(seg) % 4; n != 0 {
		seg += strings.Repeat("=", 4-n)
	}
	b, err := base64.StdEncoding.DecodeString(seg)
	if err != nil {
		return nil, fmt.Errorf("payload is not standard base64: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("payload is not JSON: %w", err)
	}
	return m, nil
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func newRequest(c *C, method, u string) *http.Request {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		c.Broken("building %s %s: %v", method, u, err)
	}
	return req
}

// unixClaim reads a NumericDate claim or stops.
func unixClaim(c *C, m map[string]any, k string) time.Time {
	v, ok := m[k].(float64)
	c.Must(ok, "claim %s: want a number, got %#v", k, m[k])
	return time.Unix(int64(v), 0)
}
