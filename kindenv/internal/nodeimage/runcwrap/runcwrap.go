// Package runcwrap removes a capability from OCI runtime specs before runc
// sees them. The node image's containerd runs runc through it because these
// hosts' capability bounding set lacks CAP_SYS_RESOURCE (kind-offline.md 5, 10 B4).
package runcwrap

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SpecFiles returns the OCI files named by runc arguments: DIR/config.json
// for --bundle DIR and FILE for --process FILE (both --flag=value and
// --flag value forms, and runc's short -b/-p).
func SpecFiles(args []string) []string {
	var files []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		var flag, val string
		if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "-") {
			flag, val = k, v
		} else if i+1 < len(args) {
			flag, val = a, args[i+1]
		}
		switch flag {
		case "--bundle", "-bundle", "-b":
			files = append(files, filepath.Join(val, "config.json"))
		case "--process", "-process", "-p":
			files = append(files, val)
		default:
			continue
		}
		if !strings.Contains(a, "=") {
			i++
		}
	}
	return files
}

// Strip removes capability name from every capability list of an OCI spec
// (config.json, whose lists are under process.capabilities) or process file
// (lists under capabilities). It reports whether anything changed; unknown
// fields are preserved.
func Strip(data []byte, name string) ([]byte, bool, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, false, fmt.Errorf("parse OCI spec: %w", err)
	}
	changed := false
	if raw, ok := doc["process"]; ok {
		var proc map[string]json.RawMessage
		if err := json.Unmarshal(raw, &proc); err == nil && proc != nil {
			if c, err := stripCaps(proc, name); err != nil {
				return nil, false, err
			} else if c {
				changed = true
				b, err := json.Marshal(proc)
				if err != nil {
					return nil, false, err
				}
				doc["process"] = b
			}
		}
	} else if c, err := stripCaps(doc, name); err != nil {
		return nil, false, err
	} else {
		changed = c
	}
	if !changed {
		return data, false, nil
	}
	out, err := json.Marshal(doc)
	return out, true, err
}

func stripCaps(obj map[string]json.RawMessage, name string) (bool, error) {
	raw, ok := obj["capabilities"]
	if !ok {
		return false, nil
	}
	var caps map[string][]string
	if err := json.Unmarshal(raw, &caps); err != nil || caps == nil {
		return false, nil //nolint:nilerr // not a capability set we understand: leave it
	}
	changed := false
	for k, list := range caps {
		kept := list[:0:0]
		for _, c := range list {
			if c == name {
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		if kept == nil {
			kept = []string{}
		}
		caps[k] = kept
	}
	if !changed {
		return false, nil
	}
	b, err := json.Marshal(caps)
	if err != nil {
		return false, err
	}
	obj["capabilities"] = b
	return true, nil
}

// StripFile applies Strip to a file in place (keeping its mode).
func StripFile(path, name string) error {
	fi, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, changed, err := Strip(data, name)
	if err != nil || !changed {
		return err
	}
	tmp := path + ".runcwrap"
	if err := os.WriteFile(tmp, out, fi.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
