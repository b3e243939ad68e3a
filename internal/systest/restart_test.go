package systest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/azsim/azsim/world"
)

const adminPassword = "systest-admin-password"

// pushWorld is the default world with the registry's admin user enabled.
func pushWorld() *world.World {
	w := world.Default()
	w.Registries[0].AdminUser = &world.AdminUser{Enabled: true, Password: adminPassword}
	return w
}

func writeWorld(t *testing.T, w *world.World) string {
	t.Helper()
	b, err := yaml.Marshal(w)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "world.yaml")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

// TestRestartAfterKill9UnderLoad: `azsim up` with a disk-backed registry is
// killed with SIGKILL while clients run flows and pulls, then restarted on
// the same state and storage directories: the CA, the keys, the world and
// the pushed image are intact, every state file is whole, and tokens minted
// before the crash (service-account, Entra, ACR refresh) still validate.
func TestRestartAfterKill9UnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds azsim and runs it as a process under load; run without -short (make test does)")
	}
	t.Parallel()
	stateDir, storage := t.TempDir(), t.TempDir()
	cfg := writeWorld(t, pushWorld())
	args := []string{"--config", cfg, "--registry-storage", storage}
	id := worldIDs(t, pushWorld())
	p1 := startUp(t, stateDir, args...)
	c := p1.client(t)

	// Before the crash: tokens of every kind, and a pushed image.
	sa, err := saToken(p1, "app-puller")
	require.NoError(t, err)
	aad, err := entraFederated(c, id, sa)
	require.NoError(t, err)
	refresh, err := exchange(c, id, aad)
	require.NoError(t, err)
	img, err := random.Image(256<<10, 3)
	require.NoError(t, err)
	want, err := img.Digest()
	require.NoError(t, err)
	ref := id.loginServer + "/pushed/app:v1"
	tag, err := name.ParseReference(ref)
	require.NoError(t, err)
	require.NoError(t, remote.Write(tag, img, remote.WithTransport(c.Transport),
		remote.WithAuth(&authn.Basic{Username: "azsimacr", Password: adminPassword})))
	worldBefore := p1.world(t)
	caBefore, err := os.ReadFile(filepath.Join(stateDir, "ca.crt"))
	require.NoError(t, err)

	// Load, then kill -9 in the middle of it.
	var ok atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lc := p1.client(t)
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if w%2 == 0 {
					err = federatedPull(lc, id, sa, ref, "pushed/app")
				} else {
					err = vmssPull(lc, id, id.loginServer+"/hello:v1", "hello")
				}
				if err == nil {
					ok.Add(1)
				}
			}
		}(w)
	}
	for ok.Load() < 16 {
		select {
		case <-p1.done:
			t.Fatal("azsim up died before the kill")
		default:
		}
	}
	p1.kill()
	close(stop)
	wg.Wait()

	// Every state file is whole: key rings parse, the CA is PEM, every blob
	// matches its digest and every stored manifest parses.
	rings, err := filepath.Glob(filepath.Join(stateDir, "keys", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, rings)
	for _, f := range rings {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.True(t, json.Valid(b), "key ring %s is whole", f)
	}
	blk, _ := pem.Decode(caBefore)
	require.NotNil(t, blk)
	blobs, err := filepath.Glob(filepath.Join(storage, "*", "blobs", "sha256", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, blobs)
	for _, f := range blobs {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		sum := sha256.Sum256(b)
		require.Equal(t, filepath.Base(f), hex.EncodeToString(sum[:]), "blob %s is whole", f)
	}
	manifests, err := filepath.Glob(filepath.Join(storage, "*", "manifests", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, manifests)
	for _, f := range manifests {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.True(t, json.Valid(b), "manifest record %s is whole", f)
	}

	// Restart on the same directories.
	p2 := startUp(t, stateDir, args...)
	c2 := p2.client(t)
	caAfter, err := os.ReadFile(filepath.Join(stateDir, "ca.crt"))
	require.NoError(t, err)
	assert.Equal(t, caBefore, caAfter, "same CA")
	assert.Equal(t, worldBefore, p2.world(t), "same world")

	_, err = entraFederated(c2, id, sa)
	assert.NoError(t, err, "a service-account token from before the crash is accepted by Entra")
	_, err = exchange(c2, id, aad)
	assert.NoError(t, err, "an Entra token from before the crash is accepted by ACR")
	access, err := accessToken(c2, id, refresh, "pushed/app")
	require.NoError(t, err, "an ACR refresh token from before the crash still works")
	got, err := pull(c2, ref, access)
	require.NoError(t, err, "the image pushed before the crash is pulled whole")
	assert.Equal(t, want, got)
	byDigest := id.loginServer + "/pushed/app@" + want.String()
	_, err = pull(c2, byDigest, access)
	assert.NoError(t, err, "and by digest")
	assert.NoError(t, vmssPull(c2, id, id.loginServer+"/hello:v1", "hello"), "seeded images still work")
}
