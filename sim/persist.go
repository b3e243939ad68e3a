package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/world"
)

// What the admin API changes is acknowledged only once it is on disk, in
// the state directory, so that it survives a restart (kill -9 included):
// the world as the admin API left it, and the simulated clock.
const (
	worldFile = "world.json"
	clockFile = "clock.json"
)

// savedWorld is the world a simulator last made current, with a digest of
// the world it was started from: a restart from the same world file resumes
// the saved world; another world file starts afresh.
type savedWorld struct {
	Source string       `json:"source"`
	World  *world.World `json:"world"`
}

// WithFreshState starts from the given world and the wall clock, dropping
// the world and clock a previous run saved in the state directory.
func WithFreshState() Option { return func(o *options) { o.fresh = true } }

// sourceDigest identifies the world a simulator is started from.
func sourceDigest(w *world.World) (string, error) {
	b, err := json.Marshal(w)
	if err != nil {
		return "", fmt.Errorf("encoding the world: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// resume returns the world saved from the same source (nil: none) and the
// source's digest. It restores the saved clock, when the clock is of the
// same kind (running or stopped).
func resume(dir *state.Dir, o *options) (*world.World, string, error) {
	source, err := sourceDigest(o.world)
	if err != nil {
		return nil, "", err
	}
	if o.fresh {
		for _, f := range []string{worldFile, clockFile} {
			if err := os.Remove(dir.File(f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, "", fmt.Errorf("dropping the saved %s: %w", f, err)
			}
		}
		return nil, source, nil
	}
	var c world.ClockState
	if ok, err := readJSON(dir.File(clockFile), &c); err != nil {
		return nil, "", err
	} else if ok && (c.Frozen == nil) == (o.clock.State().Frozen == nil) {
		o.clock.Restore(c)
	}
	var sw savedWorld
	ok, err := readJSON(dir.File(worldFile), &sw)
	if err != nil || !ok || sw.Source != source {
		return nil, source, err
	}
	return sw.World, source, nil
}

// openStore makes the store of the saved world, or, when there is none or
// it no longer compiles, of the given world.
func openStore(saved *world.World, o *options, file string) (*world.Store, error) {
	if saved != nil {
		store, err := world.NewStore(saved, o.clock)
		if err == nil {
			return store, nil
		}
		o.logger.Warn("the saved world no longer compiles; starting from the given world", "file", file, "error", err)
	}
	store, err := world.NewStore(o.world, o.clock)
	if err != nil {
		return nil, fmt.Errorf("world: %w", err)
	}
	return store, nil
}

// readJSON decodes path into v; a missing file is not an error.
func readJSON(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	return true, nil
}

// saveWorld is the store's commit: the new world reaches the disk before
// it is answered.
func saveWorld(dir *state.Dir, source string) func(*world.World) error {
	return func(w *world.World) error {
		b, err := json.Marshal(savedWorld{Source: source, World: w})
		if err != nil {
			return err
		}
		return state.WriteFile(dir.File(worldFile), b, 0o600)
	}
}

// saveClock writes the clock's state.
func (s *Sim) saveClock() error {
	b, err := json.Marshal(s.opts.clock.State())
	if err != nil {
		return err
	}
	return state.WriteFile(s.state.File(clockFile), b, 0o600)
}
