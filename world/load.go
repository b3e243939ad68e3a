package world

import (
	"crypto/x509"
	_ "embed"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default world file.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Default returns the default world (DESIGN.md "The world").
func Default() *World {
	w, err := Parse(defaultYAML)
	if err != nil {
		panic(fmt.Sprintf("embedded default world: %v", err))
	}
	return w
}

// MaxWorldSize bounds a world file.
const MaxWorldSize = 8 << 20

// Parse decodes a world file (YAML or JSON). Unknown fields are errors.
// Parse checks syntax only; Compile validates the content.
func Parse(data []byte) (*World, error) {
	if len(data) > MaxWorldSize {
		return nil, fmt.Errorf("world is %d bytes, more than the limit of %d", len(data), MaxWorldSize)
	}
	var w World
	if err := yaml.UnmarshalStrict(data, &w); err != nil {
		return nil, fmt.Errorf("parsing world: %w", err)
	}
	return &w, nil
}

// Load reads and parses a world file.
func Load(path string) (*World, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading world %q: %w", path, err)
	}
	w, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("loading world %q: %w", path, err)
	}
	return w, nil
}

// ParseCertificatePEM parses the first CERTIFICATE block of a PEM text.
func ParseCertificatePEM(s string) (*x509.Certificate, error) {
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no PEM CERTIFICATE block found")
		}
		if b.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parsing certificate: %w", err)
			}
			return cert, nil
		}
	}
}
