package sim_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
)

// Abuse limits: bodies, headers and slow clients are bounded on every
// server, errors stay in each fake's wire format, and the trace keeps a
// bounded number of bounded decisions.

func TestLimitBodySizeOnTokenEndpoints(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	k := newAttackKit(t, s)
	big := strings.Repeat("a", 2<<20)
	t.Run("entra", func(t *testing.T) {
		st, _, body := k.postForm("https://login.microsoftonline.com/"+k.tenant+"/oauth2/v2.0/token",
			url.Values{"grant_type": {"client_credentials"}, "client_id": {big}})
		assert.Equal(t, http.StatusBadRequest, st)
		var e aadErrorBody
		require.NoError(t, json.Unmarshal(body, &e), "Entra's error body")
		assert.Equal(t, []int{90014}, e.ErrorCodes)
	})
	for _, ep := range []string{"/oauth2/exchange", "/oauth2/token"} {
		t.Run("acr "+ep, func(t *testing.T) {
			st, _, body := k.postForm("https://"+k.loginServer+ep, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {big}})
			assertACRError(t, st, body, http.StatusBadRequest, "the request body is not a valid form")
		})
	}
	t.Run("imds", func(t *testing.T) {
		// IMDS takes no body: a long query is bounded by the header limit.
		req, err := http.NewRequest(http.MethodGet, "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource="+strings.Repeat("a", 2*sim.MaxHeaderBytes), nil)
		require.NoError(t, err)
		req.Header.Set("Metadata", "true")
		resp, err := s.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	})
	t.Run("admin", func(t *testing.T) {
		resp, err := http.Post("http://"+s.AdminAddr()+"/api/clock", "application/json", strings.NewReader(`{"advance":"`+big+`"}`))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
}

// waitClosed reads from c until the server closes it, failing if that does
// not happen within limit.
func waitClosed(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	require.NoError(t, c.SetReadDeadline(start.Add(limit)))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept a slow client's connection open for %s", limit)
	}
	return time.Since(start)
}

func TestLimitSlowClients(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil, sim.WithTimeouts(sim.Timeouts{ReadHeader: 200 * time.Millisecond, Body: 300 * time.Millisecond}))
	imds := s.DefaultIMDSAddr()
	plain := map[string]string{"imds": imds, "admin": s.AdminAddr()}
	for name, addr := range plain {
		t.Run(name+" headers never finished", func(t *testing.T) {
			t.Parallel()
			c, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer c.Close()
			_, err = io.WriteString(c, "GET /metadata/identity/oauth2/token HTTP/1.1\r\nHost: x\r\nMetadata: tr")
			require.NoError(t, err)
			waitClosed(t, c, 5*time.Second)
		})
	}
	t.Run("https handshake never started", func(t *testing.T) {
		t.Parallel()
		c, err := net.Dial("tcp", s.HTTPSAddr())
		require.NoError(t, err)
		defer c.Close()
		waitClosed(t, c, 5*time.Second)
	})
	t.Run("https headers never finished", func(t *testing.T) {
		t.Parallel()
		c, err := tls.Dial("tcp", s.HTTPSAddr(), &tls.Config{ServerName: "login.microsoftonline.com", RootCAs: s.CAPool(), NextProtos: []string{"http/1.1"}})
		require.NoError(t, err)
		defer c.Close()
		_, err = io.WriteString(c, "POST /x/oauth2/v2.0/token HTTP/1.1\r\nHost: login.microsoftonline.com\r\n")
		require.NoError(t, err)
		waitClosed(t, c, 5*time.Second)
	})
	t.Run("token request body never finished", func(t *testing.T) {
		t.Parallel()
		c, err := tls.Dial("tcp", s.HTTPSAddr(), &tls.Config{ServerName: "login.microsoftonline.com", RootCAs: s.CAPool(), NextProtos: []string{"http/1.1"}})
		require.NoError(t, err)
		defer c.Close()
		_, err = io.WriteString(c, "POST /"+tenantID(s)+"/oauth2/v2.0/token HTTP/1.1\r\nHost: login.microsoftonline.com\r\n"+
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ngrant_type=client_")
		require.NoError(t, err)
		// The fake answers in Entra's format once the body read times out,
		// then the connection ends.
		require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err, "an answer before the client gives up")
		body, _ := io.ReadAll(resp.Body)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(body))
		assert.Contains(t, string(body), "AADSTS90014")
	})
}

func TestLimitTraceIsBounded(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	k := newAttackKit(t, s)
	// A refused request whose client_id (echoed into the error) is huge.
	huge := strings.Repeat("x", 512<<10)
	st, _, _ := k.postForm("https://login.microsoftonline.com/"+k.tenant+"/oauth2/v2.0/token",
		url.Values{"grant_type": {"client_credentials"}, "client_id": {huge}, "client_secret": {"s"}, "scope": {"https://management.azure.com/.default"}})
	require.Equal(t, http.StatusBadRequest, st)
	ds := s.Decisions(0)
	require.NotEmpty(t, ds)
	last := ds[len(ds)-1]
	b, err := json.Marshal(last)
	require.NoError(t, err)
	assert.Less(t, len(b), 32<<10, "a decision stays small whatever the request")
	assert.Contains(t, last.Reason, "bytes)", "the long reason is clipped")

	// More requests than the ring holds: it keeps only the most recent.
	var wg sync.WaitGroup
	client := s.Client()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2100/8+1; i++ {
				resp, err := client.Get("https://" + k.loginServer + "/v2/")
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, len(s.Decisions(0)), 2000)
}

func TestLimitHeaderSize(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	tr := s.Transport()
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	req, err := http.NewRequest(http.MethodGet, "https://login.microsoftonline.com/common/discovery/instance", nil)
	require.NoError(t, err)
	req.Header.Set("X-Big", strings.Repeat("a", 2*sim.MaxHeaderBytes))
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, string(b))
}

func TestLimitMethodErrorsInWireFormat(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	req, err := http.NewRequest(http.MethodPost, "https://login.microsoftonline.com/common/discovery/instance", nil)
	require.NoError(t, err)
	resp, err := s.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var e aadErrorBody
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
	assert.Equal(t, []int{900561}, e.ErrorCodes)
}
