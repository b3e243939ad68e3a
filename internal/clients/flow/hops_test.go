package flow

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestGrantedActions(t *testing.T) {
	t.Parallel()
	padded := base64.URLEncoding.EncodeToString([]byte(`{"access":[{"type":"repository","name":"hello","actions":["pull"]}]}`))
	for _, tc := range []struct {
		name    string
		tok     string
		repo    string
		want    string
		wantErr string
	}{
		{"pull", jwt(`{"access":[{"type":"repository","name":"hello","actions":["pull"]}]}`), "hello", "pull", ""},
		{"several actions", jwt(`{"access":[{"type":"repository","name":"hello","actions":["pull","push"]}]}`), "hello", "pull,push", ""},
		{"the matching entry", jwt(`{"access":[{"type":"registry","name":"hello","actions":["*"]},{"type":"repository","name":"other","actions":["pull"]},{"type":"repository","name":"hello","actions":["delete"]}]}`), "hello", "delete", ""},
		{"granted nothing", jwt(`{"access":[{"type":"repository","name":"hello","actions":[]}]}`), "hello", "", ""},
		{"another repository", jwt(`{"access":[{"type":"repository","name":"other","actions":["pull"]}]}`), "hello", "", ""},
		{"empty access", jwt(`{"access":[]}`), "hello", "", ""},
		{"padded payload", "e30." + padded + ".c2ln", "hello", "pull", ""},
		{"no access claim", jwt(`{"sub":"x"}`), "hello", "", "no access claim"},
		{"null access claim", jwt(`{"access":null}`), "hello", "", "no access claim"},
		{"not a JWT", "opaque", "hello", "", "not a JWT"},
		{"two parts", "a.b", "hello", "", "not a JWT"},
		{"four parts", "a.b.c.d", "hello", "", "not a JWT"},
		{"empty", "", "hello", "", "not a JWT"},
		{"bad base64", "a.!!!.c", "hello", "", "illegal base64"},
		{"not JSON", "a." + base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".c", "hello", "", "invalid character"},
		{"access of the wrong type", jwt(`{"access":"pull"}`), "hello", "", "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := grantedActions(tc.tok, tc.repo)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				if tc.wantErr == "no access claim" {
					assert.True(t, errors.Is(err, errNoAccess))
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestResult(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		hops   []Hop
		ok     bool
		failed string
	}{
		{"no hops is not a success", nil, false, ""},
		{"all ok", []Hop{{Name: "imds", OK: true}, {Name: "pull", OK: true}}, true, ""},
		{"first failure", []Hop{{Name: "imds", OK: true}, {Name: "exchange"}, {Name: "token"}}, false, "exchange"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &Result{Hops: tc.hops}
			assert.Equal(t, tc.ok, r.OK())
			h, failed := r.Failed()
			assert.Equal(t, tc.failed != "", failed)
			assert.Equal(t, tc.failed, h.Name)
		})
	}
}

// script is a scriptable Entra + registry on one TLS server: each endpoint
// answers as the test says, by default as the real services do.
type script struct {
	entra, v2, exchange, token http.HandlerFunc
	seen                       map[string]url.Values // form posted to each endpoint
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func newScript(t *testing.T, sc *script) (*Client, string) {
	t.Helper()
	sc.seen = map[string]url.Values{}
	var srv *httptest.Server
	or := func(h http.HandlerFunc, def http.HandlerFunc) http.HandlerFunc {
		if h != nil {
			return h
		}
		return def
	}
	mux := http.NewServeMux()
	record := func(key string, h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			sc.seen[key] = r.PostForm
			h(w, r)
		}
	}
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", record("entra", or(sc.entra, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"access_token":"aad-token","token_type":"Bearer"}`)
	})))
	mux.HandleFunc("GET /v2/", or(sc.v2, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Www-Authenticate", fmt.Sprintf(`Bearer realm="%s/oauth2/token",service="%s"`, srv.URL, srv.Listener.Addr()))
		writeJSON(w, 401, `{"errors":[{"code":"UNAUTHORIZED"}]}`)
	}))
	mux.HandleFunc("POST /oauth2/exchange", record("exchange", or(sc.exchange, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"refresh_token":"acr-refresh"}`)
	})))
	mux.HandleFunc("POST /oauth2/token", record("token", or(sc.token, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, `{"access_token":"`+jwt(`{"access":[{"type":"repository","name":"hello","actions":["pull"]}]}`)+`"}`)
	})))
	srv = httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return &Client{HTTP: srv.Client(), AuthorityHost: srv.URL + "/"}, srv.Listener.Addr().String() + "/hello:v1"
}

func TestScriptedHops(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sc     script
		hops   []string
		failed string
		status int
		detail string
	}{
		{"no challenge: /v2/ answers 200", script{v2: func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{}`) }},
			[]string{"entra", "challenge"}, "challenge", 200, "want 401 with one Bearer challenge, got 200 []"},
		{"401 without a challenge", script{v2: func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 401, `{}`) }},
			[]string{"entra", "challenge"}, "challenge", 401, "got 401 []"},
		{"a Basic challenge", script{v2: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Www-Authenticate", `Basic realm="x"`)
			writeJSON(w, 401, `{}`)
		}}, []string{"entra", "challenge"}, "challenge", 401, `got 401 ["Basic realm=\"x\""]`},
		{"two challenges", script{v2: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Add("Www-Authenticate", `Bearer realm="https://a/oauth2/token",service="a"`)
			w.Header().Add("Www-Authenticate", `Bearer realm="https://b/oauth2/token",service="b"`)
			writeJSON(w, 401, `{}`)
		}}, []string{"entra", "challenge"}, "challenge", 401, "want 401 with one Bearer challenge"},
		{"a challenge without service", script{v2: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Www-Authenticate", `Bearer realm="https://a/oauth2/token"`)
			writeJSON(w, 401, `{}`)
		}}, []string{"entra", "challenge"}, "challenge", 401, "want 401 with one Bearer challenge"},
		{"a realm that is no URL", script{v2: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Www-Authenticate", `Bearer realm="::nope",service="x"`)
			writeJSON(w, 401, `{}`)
		}}, []string{"entra", "challenge", "exchange"}, "exchange", 0, `bad realm "::nope"`},
		{"Entra error", script{entra: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 400, `{"error":"invalid_request","error_description":"AADSTS90002: Tenant not found."}`+"\n")
		}}, []string{"entra"}, "entra", 400, `{"error":"invalid_request","error_description":"AADSTS90002: Tenant not found."}`},
		{"Entra answers 200 without a token", script{entra: func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{}`) }},
			[]string{"entra"}, "entra", 200, "{}"},
		{"Entra answers 200 with no JSON", script{entra: func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `<html>`) }},
			[]string{"entra"}, "entra", 200, "<html>"},
		{"exchange refused", script{exchange: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 401, `{"errors":[{"code":"UNAUTHORIZED","message":"aad token audience mismatch"}]}`)
		}}, []string{"entra", "challenge", "exchange"}, "exchange", 401, "aad token audience mismatch"},
		{"exchange without a refresh token", script{exchange: func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"access_token":"x"}`) }},
			[]string{"entra", "challenge", "exchange"}, "exchange", 200, `{"access_token":"x"}`},
		{"token refused", script{token: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 401, `{"errors":[{"code":"UNAUTHORIZED"}]}`)
		}}, []string{"entra", "challenge", "exchange", "token"}, "token", 401, "UNAUTHORIZED"},
		{"malformed access token", script{token: func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"access_token":"opaque"}`) }},
			[]string{"entra", "challenge", "exchange", "token"}, "token", 200, "unreadable access token: not a JWT"},
		{"access token without an access claim", script{token: func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, 200, `{"access_token":"`+jwt(`{"sub":"x"}`)+`"}`)
		}}, []string{"entra", "challenge", "exchange", "token"}, "token", 200, "unreadable access token: no access claim"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := tc.sc
			c, img := newScript(t, &sc)
			r := c.Federated(context.Background(), "tenant-id", "client-id", "sa-token", img)
			assert.Equal(t, tc.hops, hopNames(r))
			h, failed := r.Failed()
			require.True(t, failed)
			assert.Equal(t, tc.failed, h.Name)
			assert.Equal(t, tc.status, h.Status)
			assert.Contains(t, h.Detail, tc.detail)
			assert.False(t, r.OK())
		})
	}
}

// TestScriptedRequests checks what each hop sends.
func TestScriptedRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		run  func(c *Client, img string) *Result
		want map[string]map[string]string
	}{
		{"federated", func(c *Client, img string) *Result {
			return c.Federated(context.Background(), "tid", "cid", "sa-token", img, Options{ScopeRepository: "team/app", Resource: "https://management.azure.com/"})
		}, map[string]map[string]string{
			"entra": {"grant_type": "client_credentials", "client_id": "cid", "client_assertion": "sa-token",
				"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
				"scope":                 "https://management.azure.com/.default openid offline_access profile"},
			"exchange": {"grant_type": "access_token", "access_token": "aad-token", "refresh_token": "", "tenant": ""},
			"token":    {"grant_type": "refresh_token", "refresh_token": "acr-refresh", "scope": "repository:team/app:pull"},
		}},
		{"entra only", func(c *Client, _ string) *Result {
			return c.EntraOnly(context.Background(), "tid", "cid", "sa-token")
		}, map[string]map[string]string{
			"entra": {"client_id": "cid", "scope": ACRResource + "/.default openid offline_access profile"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc := script{}
			c, img := newScript(t, &sc)
			r := tc.run(c, img)
			require.NotEmpty(t, r.Hops)
			assert.Len(t, sc.seen, len(tc.want))
			for ep, fields := range tc.want {
				require.Contains(t, sc.seen, ep)
				for k, v := range fields {
					assert.Equal(t, v, sc.seen[ep].Get(k), "%s %s", ep, k)
				}
			}
		})
	}
}

// TestPullWithoutTransport: an http.Client with no Transport uses the
// default one, as net/http does.
func TestPullWithoutTransport(t *testing.T) {
	t.Parallel()
	ref, err := name.ParseReference(closedAddr(t) + "/hello:v1")
	require.NoError(t, err)
	c := &Client{HTTP: &http.Client{}}
	r := &Result{}
	require.NotPanics(t, func() { c.pull(context.Background(), r, ref, "token") })
	h, failed := r.Failed()
	require.True(t, failed)
	assert.Equal(t, "pull", h.Name)
	assert.True(t, strings.Contains(h.Detail, "refused") || strings.Contains(h.Detail, "connect"), h.Detail)
}
