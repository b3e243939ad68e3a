package nodeimage

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func (b *builder) rootfs(key string) (string, error) {
	out := filepath.Join(b.cfg.CacheDir, "rootfs", key+".tar")
	if b.cached("debootstrap root filesystem", out) {
		return out, nil
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		b.printf("  installing debootstrap (apt-get)")
		if err := b.run("apt-debootstrap", "", nil, "apt-get", "install", "-y", "--no-install-recommends", "debootstrap"); err != nil {
			if err := b.run("apt-update", "", nil, "apt-get", "update"); err != nil {
				return "", err
			}
			if err := b.run("apt-debootstrap", "", nil, "apt-get", "install", "-y", "--no-install-recommends", "debootstrap"); err != nil {
				return "", err
			}
		}
	}
	dir := filepath.Join(b.cfg.CacheDir, "rootfs", key+".d")
	_ = os.RemoveAll(dir)
	if err := b.run("debootstrap", "", nil, "debootstrap", "--variant=minbase",
		"--include="+strings.Join(b.cfg.Packages, ","), b.cfg.Suite, dir, b.cfg.Mirror); err != nil {
		return "", err
	}
	// Slim and neutralise host-specific state.
	for _, g := range []string{"var/cache/apt/archives/*.deb", "var/cache/apt/*.bin", "var/lib/apt/lists/*", "var/log/*.log", "etc/hostname", "var/lib/dbus/machine-id"} {
		matches, _ := filepath.Glob(filepath.Join(dir, g))
		for _, m := range matches {
			_ = os.RemoveAll(m)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "machine-id"), nil, 0o444); err != nil {
		return "", err
	}
	tmp := out + ".tmp"
	if err := b.run("rootfs-tar", "", nil, "tar", "--numeric-owner", "-C", dir,
		"--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "-cf", tmp, "."); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	_ = os.RemoveAll(dir)
	return out, b.done(out)
}

func (b *builder) rootfsImage(key, rootfsTar string) (string, error) {
	ref := "azsim/kindnode-rootfs:" + key[:16]
	b.begin("node base image " + ref + " (docker import)")
	if b.dockerQuiet("image", "inspect", ref) == nil {
		b.printf("  cached")
		return ref, nil
	}
	if err := b.run("docker-import", "", nil, b.cfg.Docker, "import", "--change", "ENV container=docker", rootfsTar, ref); err != nil {
		return "", err
	}
	b.printf("  built (%s)", since(b.start))
	return ref, nil
}
