package conformance_test

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/conformance"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
)

// mutation is a deliberately broken fake: a reverse proxy in front of the
// simulator that changes requests or responses.
type mutation struct {
	rewrite func(out *http.Request)
	modify  func(resp *http.Response) error
}

// front serves every Azure host name of s over TLS (a certificate from the
// simulator's CA) and forwards to s through m; it returns its address.
func front(t *testing.T, s *sim.Sim, m mutation) string {
	t.Helper()
	names := append([]string{"login.microsoftonline.com", "*.azurecr.io", "*.oic.prod-aks.azure.com"}, s.Endpoints().Hosts...)
	cert, err := s.IssueCertificate(names, []net.IP{net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host, pr.Out.Host = "https", pr.In.Host, pr.In.Host
			if m.rewrite != nil {
				m.rewrite(pr.Out)
			}
		},
		Transport: s.Transport(), ModifyResponse: m.modify,
	}
	srv := httptest.NewUnstartedServer(rp)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// frontIMDS puts m in front of every IMDS of the target.
func frontIMDS(t *testing.T, tgt *conformance.Target, m mutation) {
	t.Helper()
	for i, im := range tgt.IMDS {
		u, err := url.Parse(im.URL)
		require.NoError(t, err)
		rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// A transparent proxy: the client's X-Forwarded-For (if any) goes through as sent.
			if v := pr.In.Header.Values("X-Forwarded-For"); len(v) > 0 {
				pr.Out.Header["X-Forwarded-For"] = v
			}
			if m.rewrite != nil {
				m.rewrite(pr.Out)
			}
		}, ModifyResponse: m.modify}
		srv := httptest.NewServer(rp)
		t.Cleanup(srv.Close)
		tgt.IMDS[i].URL = srv.URL
	}
}

// broken runs the providers suite with the HTTPS hosts (https) and the
// IMDS (imds) behind mutations and checks that exactly wantFail fail.
func broken(t *testing.T, https, imds mutation, wantFail ...string) *conformance.Report {
	t.Helper()
	s := simtest.Start(t, nil)
	tgt := simTarget(t, s, true)
	addr := front(t, s, https)
	for h := range tgt.Resolve {
		tgt.Resolve[h] = addr
	}
	frontIMDS(t, tgt, imds)
	rep := runProviders(t, tgt, "")
	assert.ElementsMatch(t, wantFail, rep.WithStatus(conformance.Fail))
	assert.Empty(t, rep.WithStatus(conformance.Error))
	assert.Len(t, rep.WithStatus(conformance.Pass), len(rep.Cases())-len(wantFail), "every other case passes")
	return rep
}

// TestMutationAcceptsAnyAudience: an Entra that answers 200 where it should
// answer AADSTS700212.
func TestMutationAcceptsAnyAudience(t *testing.T) {
	t.Parallel()
	acceptAny := func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if bytes.Contains(body, []byte(`"error_codes":[700212]`)) {
			resp.StatusCode, resp.Status = 200, "200 OK"
			body = []byte(`{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"e30.e30.e30"}`)
		}
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	rep := broken(t, mutation{modify: acceptAny}, mutation{}, "providers/entra/token/fic/audience-mismatch")
	doc := parseJUnit(t, rep)
	checkJUnit(t, doc)
	assert.Equal(t, []int{len(rep.Cases()), 1, 0, 0}, []int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped})
}

// TestMutationOmitsChallengeScope: an ACR whose challenges never name the
// scope.
func TestMutationOmitsChallengeScope(t *testing.T) {
	t.Parallel()
	scope := regexp.MustCompile(`,scope="[^"]*"`)
	omit := func(resp *http.Response) error {
		if v := resp.Header.Get("Www-Authenticate"); v != "" {
			resp.Header.Set("Www-Authenticate", scope.ReplaceAllString(v, ""))
		}
		return nil
	}
	broken(t, mutation{modify: omit}, mutation{},
		"providers/acr/challenge/manifest-scope", "providers/acr/challenge/tags-scope", "providers/acr/registry/invalid-token",
		"providers/acr/registry/insufficient-scope", "providers/acr/registry/no-pull-identity")
}

// TestMutationIgnoresMetadataHeader: an IMDS that serves requests without
// the Metadata header (an SSRF hole).
func TestMutationIgnoresMetadataHeader(t *testing.T) {
	t.Parallel()
	addHeader := func(out *http.Request) { out.Header.Set("Metadata", "true") }
	broken(t, mutation{}, mutation{rewrite: addHeader},
		"providers/imds/token/metadata-header-missing", "providers/imds/token/metadata-header-wrong", "providers/imds/token/probe")
}
