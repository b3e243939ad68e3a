package nodeimage

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// stepKeys are the cache keys of the build steps, each derived from the
// step's inputs.
type stepKeys struct{ rootfs, k8s, coredns, aux, images, final string }

func (b *builder) keys() (stepKeys, error) {
	var k stepKeys
	out, err := exec.CommandContext(b.ctx, b.cfg.Go, "env", "GOVERSION", "GOARCH").Output()
	if err != nil {
		return k, fmt.Errorf("go env: %w", err)
	}
	b.goVer = strings.Join(strings.Fields(string(out)), "/")

	k.rootfs = (&hasher{}).add(recipeVersion, "rootfs", b.cfg.Suite, b.cfg.Mirror, strings.Join(b.cfg.Packages, ",")).sum()

	tools := filepath.Join(b.cfg.RepoRoot, "hack", "tools", "k8s")
	h := (&hasher{}).add(recipeVersion, "k8s", b.goVer, "cgo=0", k8sLDFlags(b.cfg.KubernetesVersion), strings.Join(k8sCommands, ","))
	if err := h.addFiles(filepath.Join(tools, "go.mod"), filepath.Join(tools, "go.sum")); err != nil {
		return k, fmt.Errorf("tools module: %w", err)
	}
	k.k8s = h.sum()

	k.coredns = (&hasher{}).add(recipeVersion, "coredns", b.goVer, "cgo=0", b.cfg.CoreDNSVersion).sum()

	h = (&hasher{}).add(recipeVersion, "aux", b.goVer, "cgo=0")
	// Only the sources of the node programs (and what they import).
	var srcs []string
	for _, d := range []string{"cmd", "runcwrap"} {
		fs, err := goFiles(filepath.Join(b.cfg.RepoRoot, "kindenv", "internal", "nodeimage", d))
		if err != nil {
			return k, err
		}
		srcs = append(srcs, fs...)
	}
	srcs = append(srcs, filepath.Join(b.cfg.RepoRoot, "go.mod"), filepath.Join(b.cfg.RepoRoot, "go.sum"))
	if err := h.addFiles(srcs...); err != nil {
		return k, err
	}
	k.aux = h.sum()

	k.images = (&hasher{}).add(recipeVersion, "images", k.rootfs, k.k8s, k.coredns, k.aux,
		b.cfg.KubernetesVersion, b.cfg.EtcdImageTag, b.cfg.CoreDNSVersion, b.cfg.PauseTag).sum()

	h = (&hasher{}).add(recipeVersion, "node", b.cfg.Image, k.rootfs, k.k8s, k.aux, k.images)
	for _, f := range NodeFiles(b.cfg.KubernetesVersion, "", "") {
		h.add(f.Path, fmt.Sprint(f.Mode), string(f.Data), f.Link)
	}
	k.final = h.sum()
	return k, nil
}
