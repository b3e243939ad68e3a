//go:build !linux

package netns

import (
	"errors"
	"net"
)

// ErrUnsupported is returned on systems without Linux namespaces.
var ErrUnsupported = errors.New("network namespaces need Linux: use `azsim up` and `azsim env` instead")

// SetupLoopback is unsupported here.
func SetupLoopback(...net.IP) error { return ErrUnsupported }

// PrivateMounts is unsupported here.
func PrivateMounts() error { return ErrUnsupported }

// BindFile is unsupported here.
func BindFile(string, string) error { return ErrUnsupported }
