package systest

import (
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRestartAfterIndexWorkflows: `azsim up --registry-storage` starts again
// after SIGTERM and after SIGKILL on what ordinary index workflows leave (an
// index whose child tag moved on, a nested index whose outer tag sorts
// before the inner one), and serves every tag pushed.
func TestRestartAfterIndexWorkflows(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds azsim and runs it as a process; run without -short (make test does)")
	}
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			stateDir, storage := t.TempDir(), t.TempDir()
			args := []string{"--config", writeWorld(t, pushWorld()), "--registry-storage", storage}
			ls := worldIDs(t, pushWorld()).loginServer
			auth := remote.WithAuth(&authn.Basic{Username: "azsimacr", Password: adminPassword})
			ref := func(tag string) name.Reference {
				r, err := name.ParseReference(ls + "/team/multi:" + tag)
				require.NoError(t, err)
				return r
			}
			img1, err := random.Image(1<<10, 1)
			require.NoError(t, err)
			img2, err := random.Image(1<<10, 1)
			require.NoError(t, err)
			inner := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img1})
			outer := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: inner})

			p1 := startUp(t, stateDir, args...)
			tr := remote.WithTransport(p1.client(t).Transport)
			require.NoError(t, remote.Write(ref("child"), img1, tr, auth))
			require.NoError(t, remote.WriteIndex(ref("b-inner"), inner, tr, auth))
			require.NoError(t, remote.WriteIndex(ref("a-outer"), outer, tr, auth))
			require.NoError(t, remote.Write(ref("child"), img2, tr, auth))
			require.NoError(t, p1.cmd.Process.Signal(sig))
			<-p1.done

			p2 := startUp(t, stateDir, args...)
			tr = remote.WithTransport(p2.client(t).Transport)
			for tag, want := range map[string]interface{ Digest() (v1.Hash, error) }{"child": img2, "b-inner": inner, "a-outer": outer} {
				d, err := want.Digest()
				require.NoError(t, err)
				got, err := remote.Head(ref(tag), tr, auth)
				require.NoError(t, err, tag)
				assert.Equal(t, d, got.Digest, tag)
			}
		})
	}
}
