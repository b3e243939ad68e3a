package systest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/world"
)

// acked collects what the simulator acknowledged before the crash.
type acked struct {
	mu         sync.Mutex
	identities []string
	pushes     map[string]v1.Hash // reference → digest
}

// TestAcknowledgedSurvivesKill9: while flows run, world changes (through
// the admin API), a clock move and pushes are acknowledged; azsim up is then
// killed with SIGKILL and restarted on the same directories, and every one
// of them is there.
func TestAcknowledgedSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds azsim and runs it as a process under load; run without -short (make test does)")
	}
	t.Parallel()
	stateDir, storage := t.TempDir(), t.TempDir()
	args := []string{"--config", writeWorld(t, pushWorld()), "--registry-storage", storage}
	id := worldIDs(t, pushWorld())
	p1 := startUp(t, stateDir, args...)
	ctx := context.Background()
	ahead, err := p1.admin.AdvanceClock(ctx, 2*time.Hour)
	require.NoError(t, err)

	a := &acked{pushes: map[string]v1.Hash{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { a.changeWorld(p1, stop) })
	wg.Go(func() { a.push(t, p1, id, stop) })
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			c := p1.client(t)
			for !stopped(stop) {
				_ = vmssPull(c, id, id.loginServer+"/hello:v1", "hello")
			}
		})
	}
	waitFor(t, p1, func() bool { return a.count() >= 6 })
	p1.kill()
	close(stop)
	wg.Wait()

	p2 := startUp(t, stateDir, args...)
	now, err := p2.admin.Clock(ctx)
	require.NoError(t, err)
	assert.WithinDuration(t, ahead, now, time.Minute, "the clock moved before the crash is still 2 h ahead")
	var w world.World
	require.NoError(t, p2.admin.World(ctx, &w))
	have := map[string]bool{}
	for _, i := range w.Identities {
		have[i.Name] = true
	}
	for _, n := range a.identities {
		assert.True(t, have[n], "identity %s, acknowledged before the crash, is in the world after it", n)
	}
	c2 := p2.client(t)
	rt, err := exchangeAdmin(c2, id)
	require.NoError(t, err)
	for ref, want := range a.pushes {
		access, err := accessToken(c2, id, rt, "pushed/durable")
		require.NoError(t, err)
		got, err := pull(c2, ref, access)
		if assert.NoError(t, err, "push %s acknowledged before the crash", ref) {
			assert.Equal(t, want, got)
		}
	}
	t.Logf("acknowledged before kill -9: %d world changes, %d pushes; all present after the restart", len(a.identities), len(a.pushes))
}

func stopped(stop chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

func (a *acked) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.identities) + len(a.pushes)
}

// changeWorld adds identities through the admin API, recording each one the
// API acknowledged.
func (a *acked) changeWorld(p *proc, stop chan struct{}) {
	for i := 0; !stopped(stop); i++ {
		n := fmt.Sprintf("durable-%d", i)
		if err := p.admin.AddObject(context.Background(), "identities", world.Identity{Name: n, ResourceGroup: "rg-azsim"}, nil); err != nil {
			return // the process is gone
		}
		a.mu.Lock()
		a.identities = append(a.identities, n)
		a.mu.Unlock()
	}
}

// push writes small images with the admin user, recording each one the
// registry acknowledged.
func (a *acked) push(t *testing.T, p *proc, id ids, stop chan struct{}) {
	c := p.client(t)
	for i := 0; !stopped(stop); i++ {
		img, err := random.Image(16<<10, 1)
		if err != nil {
			return
		}
		ref := fmt.Sprintf("%s/pushed/durable:v%d", id.loginServer, i)
		tag, err := name.ParseReference(ref)
		if err != nil {
			return
		}
		if remote.Write(tag, img, remote.WithTransport(c.Transport),
			remote.WithAuth(&authn.Basic{Username: "azsimacr", Password: adminPassword})) != nil {
			return
		}
		d, _ := img.Digest()
		a.mu.Lock()
		a.pushes[ref] = d
		a.mu.Unlock()
	}
}

// waitFor polls cond until it holds; the process must stay up meanwhile.
func waitFor(t *testing.T, p *proc, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		select {
		case <-p.done:
			t.Fatal("azsim up died before the kill")
		default:
		}
		require.True(t, time.Now().Before(deadline), "nothing acknowledged in time")
		time.Sleep(10 * time.Millisecond)
	}
}

// exchangeAdmin is an ACR refresh token of the kubelet identity (IMDS, then
// the exchange), which may pull every repository of the registry.
func exchangeAdmin(c *http.Client, id ids) (string, error) {
	aad, err := imdsToken(c, id)
	if err != nil {
		return "", err
	}
	return exchange(c, id, aad)
}
