package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func postForm(ctx context.Context, c *http.Client, u string, form, query url.Values, out any) error {
	if query != nil {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	return send(c, req, out)
}

func send(c *http.Client, req *http.Request, out any) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Host+req.URL.Path, resp.Status, bytes.TrimSpace(data))
	}
	return json.Unmarshal(data, out)
}

// jwtExp reads the exp claim without verifying the token, as acrpull does.
func jwtExp(tok string) (time.Time, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, err
	}
	var c struct {
		Exp *float64 `json:"exp"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Exp == nil {
		return time.Time{}, fmt.Errorf("no numeric exp claim (%v)", err)
	}
	return time.Unix(int64(*c.Exp), 0), nil
}
