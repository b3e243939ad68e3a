package ocistore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

func (d *diskStore) saveManifest(m storedManifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return writeFileAtomic(d.manifestFile(m.Repository, m.Reference), b)
}

func (d *diskStore) deleteManifest(repo, ref string) { _ = os.Remove(d.manifestFile(repo, ref)) }

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
