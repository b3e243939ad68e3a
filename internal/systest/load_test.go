package systest

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func rssMiB(t *testing.T, pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// TestLoadMixedFlows runs AZSIM_LOAD_CLIENTS (200) concurrent clients for
// AZSIM_LOAD_SECONDS (60) against `azsim up`: federated and VMSS flows
// ending in pulls, pulls of a pushed image, anonymous challenges and flows
// that must be denied. It requires zero 5xx, zero unexpected denials or
// successes, and a stable memory footprint. Set AZSIM_LOAD=1 (make load).
func TestLoadMixedFlows(t *testing.T) {
	if os.Getenv("AZSIM_LOAD") == "" {
		t.Skip("set AZSIM_LOAD=1 (make load) to run the load test")
	}
	clients := envInt("AZSIM_LOAD_CLIENTS", 200)
	dur := time.Duration(envInt("AZSIM_LOAD_SECONDS", 60)) * time.Second
	stateDir := t.TempDir()
	p := startUp(t, stateDir, "--config", writeWorld(t, pushWorld()), "--registry-storage", t.TempDir())
	id := worldIDs(t, pushWorld())
	sa, err := saToken(p, "app-puller")
	require.NoError(t, err)
	wrongAud, err := saToken(p, "app-puller", "api://not-the-exchange")
	require.NoError(t, err)
	hello := id.loginServer + "/hello:v1"

	type tally struct{ ok, pushed, denied, fiveXX, unexpected, transport atomic.Int64 }
	var n tally
	var firstMu sync.Mutex
	var first []string
	note := func(kind string, err error) {
		firstMu.Lock()
		defer firstMu.Unlock()
		if len(first) < 10 {
			first = append(first, kind+": "+err.Error())
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := p.client(t)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				expectDeny := false
				switch (w + i) % 10 {
				case 0, 1, 2, 3:
					err = federatedPull(c, id, sa, hello, "hello")
				case 4, 5, 6:
					err = vmssPull(c, id, hello, "hello")
				case 7:
					// A push with the admin user, under a tag of its own.
					if err = pushSmall(c, fmt.Sprintf("%s/load/w%d:i%d", id.loginServer, w, i)); err == nil {
						n.pushed.Add(1)
					}
				case 8:
					// Anonymous ping: the bearer challenge (401) is expected.
					expectDeny = true
					var resp *http.Response
					if resp, err = c.Get("https://" + id.loginServer + "/v2/"); err == nil {
						resp.Body.Close()
						err = &statusError{status: resp.StatusCode}
					}
				case 9:
					// A federated credential audience mismatch: AADSTS700212.
					expectDeny = true
					_, err = entraFederated(c, id, wrongAud)
					if err == nil {
						err = errors.New("a token with the wrong audience was accepted")
					}
				}
				st := statusOf(err)
				switch {
				case err == nil:
					n.ok.Add(1)
				case st >= 500:
					n.fiveXX.Add(1)
					note("5xx", err)
				case expectDeny && (st == http.StatusUnauthorized || st == http.StatusBadRequest):
					n.denied.Add(1)
				case st != 0:
					n.unexpected.Add(1)
					note("unexpected", err)
				default:
					n.transport.Add(1)
					note("transport", err)
				}
			}
		}(w)
	}
	var rss []float64
	tick := time.NewTicker(2 * time.Second)
	deadline := time.After(dur)
loop:
	for {
		select {
		case <-tick.C:
			rss = append(rss, rssMiB(t, p.cmd.Process.Pid))
		case <-deadline:
			break loop
		case <-p.done:
			t.Fatal("azsim up died under load")
		}
	}
	tick.Stop()
	close(stop)
	wg.Wait()
	third := len(rss) / 3
	early, late := slices.Max(rss[:max(third, 1)]), slices.Max(rss[len(rss)-max(third, 1):])
	t.Logf("%d clients for %s: %d flows ok (%.0f/s) of which %d pushes, %d expected denials, %d 5xx, %d unexpected, %d transport errors; RSS early %.0f MiB, late %.0f MiB, max %.0f MiB",
		clients, dur, n.ok.Load(), float64(n.ok.Load())/dur.Seconds(), n.pushed.Load(), n.denied.Load(), n.fiveXX.Load(), n.unexpected.Load(),
		n.transport.Load(), early, late, slices.Max(rss))
	for _, f := range first {
		t.Log(f)
	}
	assert.Zero(t, n.fiveXX.Load(), "no 5xx")
	assert.Zero(t, n.unexpected.Load(), "no unexpected denials")
	assert.Zero(t, n.transport.Load(), "no transport errors")
	assert.Positive(t, n.ok.Load())
	assert.Positive(t, n.denied.Load())
	assert.Positive(t, n.pushed.Load())
	assert.LessOrEqual(t, late, early*1.5+32, "memory is stable: no growth with the number of requests")
}

// pushSmall pushes a 16 KiB single-layer image to ref with the admin user.
func pushSmall(c *http.Client, ref string) error {
	img, err := random.Image(16<<10, 1)
	if err != nil {
		return err
	}
	tag, err := name.ParseReference(ref)
	if err != nil {
		return err
	}
	return remote.Write(tag, img, remote.WithTransport(c.Transport),
		remote.WithAuth(&authn.Basic{Username: "azsimacr", Password: adminPassword}))
}
