package nodeimage

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

func (b *builder) nodeImage(key, base, imagesDir string, files []File) error {
	b.begin("node image " + b.cfg.Image + ": node files, setup, preload, commit")
	ctr := fmt.Sprintf("azsim-nodeimage-build-%d", os.Getpid())
	_ = b.dockerQuiet("rm", "-f", ctr)
	defer func() { _ = b.dockerQuiet("rm", "-f", ctr) }()
	if err := b.run("docker-run", "", nil, b.cfg.Docker, "run", "-d", "--name", ctr, "--privileged",
		"--entrypoint", "sleep", "--stop-signal", "SIGRTMIN+3",
		"-e", "container=docker", "-e", "PATH="+defaultPath,
		"-v", imagesDir+":/kind/images:ro", base, "infinity"); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(WriteTar(pw, files)) }()
	cp := exec.CommandContext(b.ctx, b.cfg.Docker, "cp", "-", ctr+":/")
	cp.Stdin = pr
	if out, err := cp.CombinedOutput(); err != nil {
		return fmt.Errorf("docker cp node files: %v: %s", err, out)
	}
	b.printf("  node files copied (%d files)", len(files))
	if err := b.run("node-setup", "", nil, b.cfg.Docker, "exec", ctr, "/kind/build/setup.sh"); err != nil {
		return err
	}
	if err := b.run("node-preload", "", nil, b.cfg.Docker, "exec", ctr, "/kind/build/preload.sh"); err != nil {
		return err
	}
	b.printf("  images preloaded into containerd (k8s.io namespace)")
	if err := b.run("node-cleanup", "", nil, b.cfg.Docker, "exec", ctr, "rm", "-rf", "/kind/build"); err != nil {
		return err
	}
	previous, _ := exec.CommandContext(b.ctx, b.cfg.Docker, "image", "inspect", "-f", "{{.Id}}", b.cfg.Image).Output()
	if err := b.run("docker-commit", "", nil, b.cfg.Docker, "commit",
		"--change", `ENTRYPOINT ["/usr/local/bin/entrypoint"]`,
		"--change", `CMD ["/sbin/init"]`,
		"--change", "LABEL "+KeyLabel+"="+key,
		ctr, b.cfg.Image); err != nil {
		return err
	}
	if old := strings.TrimSpace(string(previous)); old != "" {
		_ = b.dockerQuiet("image", "rm", old) // the image this build replaced; kept if still in use
	}
	b.printf("  committed %s (%s)", b.cfg.Image, since(b.start))
	return nil
}

func (b *builder) imageLabel(ref string) string {
	out, err := exec.CommandContext(b.ctx, b.cfg.Docker, "image", "inspect", "-f",
		`{{index .Config.Labels "`+KeyLabel+`"}}`, ref).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
