// Package nodeimage builds azsim's offline kind node image: a kind node for
// Kubernetes v1.37.2 assembled with no container registry (kind-offline.md 12):
//
//   - a Debian root filesystem from debootstrap;
//   - Kubernetes and etcd built from the Go module proxy in the tools module
//     hack/tools/k8s (never the project's go.mod), CoreDNS likewise;
//   - the control-plane, etcd, CoreDNS, kube-proxy and pause images assembled
//     with go-containerregistry under kubeadm v1.37.2's names, preloaded into
//     the node's containerd;
//   - azsim's node entrypoint, kubelet unit and drop-in, containerd config
//     and single-node CNI config.
//
// Every step is cached under a key derived from its inputs, and the final
// image carries the key of all inputs as a label, so a rebuild with
// unchanged inputs is a label check.
package nodeimage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/azsim/azsim/kindenv/internal/render"
)

// recipeVersion is bumped when the build steps change in a way the hashed
// inputs do not show.
const recipeVersion = "azsim-nodeimage-1"

// KeyLabel is the image label holding the content key of the inputs.
const KeyLabel = "dev.azsim.nodeimage.key"

// Config describes one node image build.
type Config struct {
	KubernetesVersion string   // v1.37.2
	EtcdImageTag      string   // tag of registry.k8s.io/etcd kubeadm expects
	CoreDNSVersion    string   // github.com/coredns/coredns module version
	PauseTag          string   // tag of registry.k8s.io/pause
	Suite             string   // Debian suite for debootstrap
	Mirror            string   // Debian mirror
	Packages          []string // debootstrap --include
	Image             string   // resulting image reference
	CacheDir          string   // step outputs, logs
	RepoRoot          string   // azsim module root (hack/tools/k8s, node programs)
	Go                string   // go command
	Docker            string   // docker command
	Out               io.Writer
	StopAfter         string // "rootfs": stop after that step (debugging)
}

// Default returns the pinned build: kind v0.33.0 node contract, Kubernetes
// v1.37.2, etcd 3.7.0, CoreDNS v1.14.6, pause 3.10.2, Debian bookworm.
func Default(repoRoot string) Config {
	return Config{
		KubernetesVersion: render.KubernetesVersion,
		EtcdImageTag:      "3.7.0-0",
		CoreDNSVersion:    "v1.14.6",
		PauseTag:          "3.10.2",
		Suite:             "bookworm",
		Mirror:            "http://deb.debian.org/debian",
		Packages: []string{
			"systemd", "systemd-sysv", "dbus", "containerd", "runc", "iptables", "nftables",
			"iproute2", "conntrack", "ethtool", "socat", "util-linux", "mount", "kmod", "procps",
			"ca-certificates", "containernetworking-plugins", "libseccomp2",
		},
		Image:    render.OfflineNodeImage,
		CacheDir: defaultCacheDir(),
		RepoRoot: repoRoot,
		Go:       "go",
		Docker:   "docker",
		Out:      os.Stderr,
	}
}

func defaultCacheDir() string {
	if d := os.Getenv("AZSIM_CACHE_DIR"); d != "" {
		return filepath.Join(d, "kind-node-image")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "azsim", "kind-node-image")
	}
	return filepath.Join(os.TempDir(), "azsim-kind-node-image")
}

// hasher accumulates a content key.
type hasher struct{ h []string }

func (k *hasher) add(parts ...string) *hasher { k.h = append(k.h, parts...); return k }

func (k *hasher) addFiles(paths ...string) error {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		k.add("file", filepath.Base(p), hex.EncodeToString(sum[:]))
	}
	return nil
}

func (k *hasher) sum() string {
	h := sha256.New()
	for _, s := range k.h {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// goFiles lists the non-test .go files under dir, sorted.
func goFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// k8sLDFlags are the version ldflags of kind-offline.md 4.
func k8sLDFlags(version string) string {
	minor := strings.Split(strings.TrimPrefix(version, "v"), ".")[1]
	fl := []string{"-s", "-w"}
	for _, p := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
		fl = append(fl,
			"-X", p+".gitVersion="+version,
			"-X", p+".gitMajor=1",
			"-X", p+".gitMinor="+minor,
			"-X", p+".gitTreeState=clean")
	}
	return strings.Join(fl, " ")
}

// k8sCommands are built from hack/tools/k8s (kind-offline.md 4).
var k8sCommands = []string{"kubelet", "kubeadm", "kubectl", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"}
