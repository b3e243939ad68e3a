// Package state keeps what must survive a simulator restart in a state
// directory: the CA, signing-key rings and endpoint files. Every write is
// atomic (temporary file, fsync, rename), so a crash never leaves a torn file.
package state

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/azsim/azsim/internal/platform/jwtx"
)

// Dir is an opened state directory.
type Dir struct {
	path string
	mu   sync.Mutex
}

// DefaultPath is ~/.local/state/azsim (or $XDG_STATE_HOME/azsim).
func DefaultPath() string {
	if x := os.Getenv("XDG_STATE_HOME"); x != "" {
		return filepath.Join(x, "azsim")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "azsim-state")
	}
	return filepath.Join(home, ".local", "state", "azsim")
}

// Open creates (mode 0700) or opens a state directory.
func Open(path string) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(path, "keys"), 0o700); err != nil {
		return nil, fmt.Errorf("opening state directory %q: %w", path, err)
	}
	return &Dir{path: path}, nil
}

// Path returns the directory.
func (d *Dir) Path() string { return d.path }

// File returns the path of name inside the directory.
func (d *Dir) File(name string) string { return filepath.Join(d.path, name) }

// WriteFile writes data to path atomically with mode perm: to a temporary
// file in the same directory, fsynced, then renamed over path. A failure at
// any step (or a crash) leaves path as it was and removes the temporary file.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	if err := writeFile(path, data, perm); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}

// failAt, set only by tests, injects a failure at a step of writeFile
// ("create", "write" after half the data, "sync", "close", "chmod",
// "rename").
var failAt func(step string) error

func step(name string) error {
	if failAt != nil {
		return failAt(name)
	}
	return nil
}

func writeFile(path string, data []byte, perm fs.FileMode) (err error) {
	if err := step("create"); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	half := len(data) / 2
	if _, err := tmp.Write(data[:half]); err != nil {
		return err
	}
	if err := step("write"); err != nil {
		return err
	}
	if _, err := tmp.Write(data[half:]); err != nil {
		return err
	}
	if err := step("sync"); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := step("close"); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := step("chmod"); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), perm); err != nil {
		return err
	}
	if err := step("rename"); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

var ringNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

type ringFile struct {
	Keys []string `json:"keys"` // PKCS#8 PEM, oldest first
}

// KeyBits is the RSA key size azsim generates.
const KeyBits = 2048

// Ring loads the key ring name, creating it with one new key when missing.
// The last key is the active one.
func (d *Dir) Ring(name string) ([]*rsa.PrivateKey, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	keys, err := d.loadRing(name)
	if err == nil && len(keys) > 0 {
		return keys, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return d.grow(name, nil, 1)
}

// Rotate appends a new key to ring name and keeps at most keep keys.
func (d *Dir) Rotate(name string, keep int) ([]*rsa.PrivateKey, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	keys, err := d.loadRing(name)
	if errors.Is(err, fs.ErrNotExist) {
		// Rotating a ring nobody used yet: create its first key, then rotate.
		keys, err = d.grow(name, nil, 1)
	}
	if err != nil {
		return nil, err
	}
	return d.grow(name, keys, keep)
}

func (d *Dir) ringPath(name string) (string, error) {
	if !ringNameRE.MatchString(name) {
		return "", fmt.Errorf("invalid key ring name %q", name)
	}
	return filepath.Join(d.path, "keys", name+".json"), nil
}

func (d *Dir) loadRing(name string) ([]*rsa.PrivateKey, error) {
	p, err := d.ringPath(name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var rf ringFile
	if err := json.Unmarshal(data, &rf); err != nil {
		return nil, fmt.Errorf("reading key ring %q: %w", p, err)
	}
	var keys []*rsa.PrivateKey
	for i, s := range rf.Keys {
		b, _ := pem.Decode([]byte(s))
		if b == nil {
			return nil, fmt.Errorf("reading key ring %q: key %d is not PEM", p, i)
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		rk, ok := k.(*rsa.PrivateKey)
		if err != nil || !ok {
			return nil, fmt.Errorf("reading key ring %q: key %d is not an RSA private key", p, i)
		}
		keys = append(keys, rk)
	}
	return keys, nil
}

func (d *Dir) grow(name string, keys []*rsa.PrivateKey, keep int) ([]*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	keys = append(keys, k)
	if keep > 0 && len(keys) > keep {
		keys = keys[len(keys)-keep:]
	}
	var rf ringFile
	for _, k := range keys {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("encoding key: %w", err)
		}
		rf.Keys = append(rf.Keys, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	}
	data, _ := json.Marshal(rf)
	p, err := d.ringPath(name)
	if err != nil {
		return nil, err
	}
	if err := WriteFile(p, data, 0o600); err != nil {
		return nil, err
	}
	return keys, nil
}

// Keys wraps a ring's RSA keys as jwtx keys with kube-style key IDs.
func Keys(ring []*rsa.PrivateKey) ([]*jwtx.Key, error) {
	out := make([]*jwtx.Key, 0, len(ring))
	for _, k := range ring {
		jk, err := jwtx.NewKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, jk)
	}
	return out, nil
}
