package ocistore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// storedManifest is one manifests/ file.
type storedManifest struct {
	Repository  string `json:"repository"`
	Reference   string `json:"reference"`
	ContentType string `json:"contentType"`
	Body        []byte `json:"body"`
}

func (d *diskStore) manifestFile(repo, ref string) string {
	sum := sha256.Sum256([]byte(repo + "\x00" + ref))
	return filepath.Join(d.root, "manifests", hex.EncodeToString(sum[:])+".json")
}

// journal is what the manifest files one change touched held before it,
// oldest first, so that a change that fails can be undone.
type journal []priorFile

type priorFile struct {
	path    string
	data    []byte
	existed bool
}

// keep adds to j what path holds now; a file that cannot be read cannot be
// put back, so it must not be changed.
func (j *journal) keep(path string) error {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		*j = append(*j, priorFile{path: path, data: b, existed: true})
	case errors.Is(err, fs.ErrNotExist):
		*j = append(*j, priorFile{path: path})
	default:
		return fmt.Errorf("reading %q: %w", path, err)
	}
	return nil
}

// saveManifest writes the file of m, noting in j what it replaces.
func (d *diskStore) saveManifest(j *journal, m storedManifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encoding manifest %q: %w", m.Reference, err)
	}
	path := d.manifestFile(m.Repository, m.Reference)
	if err := j.keep(path); err != nil {
		return err
	}
	if err := writeFileAtomic(path, b); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}

// removeManifest removes the file of repo's ref, noting it in j.
func (d *diskStore) removeManifest(j *journal, repo, ref string) error {
	path := d.manifestFile(repo, ref)
	if err := j.keep(path); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing %q: %w", path, err)
	}
	return nil
}

// undo puts back, newest first, the files j noted; it returns what it
// could not put back.
func (d *diskStore) undo(j journal) error {
	var errs []error
	for i := len(j) - 1; i >= 0; i-- {
		f := j[i]
		var err error
		if f.existed {
			err = writeFileAtomic(f.path, f.data)
		} else if err = os.Remove(f.path); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restoring %q: %w", f.path, err))
		}
	}
	return errors.Join(errs...)
}

// loadManifests reads the stored manifests; files that cannot be read are
// skipped and counted in bad (a store always reopens).
func (d *diskStore) loadManifests(log *slog.Logger) (out []storedManifest, bad int) {
	files, _ := filepath.Glob(filepath.Join(d.root, "manifests", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		var m storedManifest
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			log.Warn("registry storage: skipping an unreadable manifest", "file", f, "error", err)
			bad++
			continue
		}
		out = append(out, m)
	}
	// Images before indexes, then by name; replay retries what needs a
	// manifest restored later.
	sort.SliceStable(out, func(i, j int) bool {
		ii, ij := types.MediaType(out[i].ContentType).IsIndex(), types.MediaType(out[j].ContentType).IsIndex()
		if ii != ij {
			return !ii
		}
		return out[i].Repository+out[i].Reference < out[j].Repository+out[j].Reference
	})
	return out, bad
}

// writeFileAtomic writes a small file by temporary file, fsync and rename.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}
