package nodeimage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Result is what Build produced.
type Result struct {
	Image    string
	Key      string
	UpToDate bool // the image already carried the key: nothing was built
	Took     time.Duration
}

type builder struct {
	cfg   Config
	ctx   context.Context
	start time.Time
	step  int
	steps int
	goVer string
}

const totalSteps = 7

// Build produces cfg.Image, reusing every cached step whose inputs did not
// change. Progress goes to cfg.Out.
func Build(ctx context.Context, cfg Config) (Result, error) {
	b := &builder{cfg: cfg, ctx: ctx, start: time.Now(), steps: totalSteps}
	if err := os.MkdirAll(filepath.Join(cfg.CacheDir, "logs"), 0o755); err != nil {
		return Result{}, err
	}
	keys, err := b.keys()
	if err != nil {
		return Result{}, err
	}
	b.printf("kind node image %s (key %s, cache %s)", cfg.Image, keys.final[:16], cfg.CacheDir)
	if got := b.imageLabel(cfg.Image); got == keys.final {
		b.printf("up to date: %s already built from these inputs (%s)", cfg.Image, since(b.start))
		return Result{Image: cfg.Image, Key: keys.final, UpToDate: true, Took: time.Since(b.start)}, nil
	}

	rootfs, err := b.rootfs(keys.rootfs)
	if err != nil {
		return Result{}, err
	}
	if cfg.StopAfter == "rootfs" {
		return Result{Key: keys.final, Took: time.Since(b.start)}, nil
	}
	k8sBin, err := b.k8sBinaries(keys.k8s)
	if err != nil {
		return Result{}, err
	}
	coredns, err := b.coreDNS(keys.coredns)
	if err != nil {
		return Result{}, err
	}
	aux, err := b.auxPrograms(keys.aux)
	if err != nil {
		return Result{}, err
	}
	imagesDir, err := b.imageTarballs(keys.images, ImageInputs{
		KubernetesVersion: cfg.KubernetesVersion, EtcdImageTag: cfg.EtcdImageTag,
		CoreDNSVersion: cfg.CoreDNSVersion, PauseTag: cfg.PauseTag,
		K8sBinDir: k8sBin, CoreDNSBin: filepath.Join(coredns, "coredns"), AuxDir: aux, RootfsTar: rootfs,
	})
	if err != nil {
		return Result{}, err
	}
	rootImage, err := b.rootfsImage(keys.rootfs, rootfs)
	if err != nil {
		return Result{}, err
	}
	if err := b.nodeImage(keys.final, rootImage, imagesDir, NodeFiles(cfg.KubernetesVersion, k8sBin, aux)); err != nil {
		return Result{}, err
	}
	b.prune(keys, rootImage)
	b.printf("done: %s (%s)", cfg.Image, since(b.start))
	return Result{Image: cfg.Image, Key: keys.final, Took: time.Since(b.start)}, nil
}

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

// --- steps ------------------------------------------------------------------

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

func (b *builder) k8sBinaries(key string) (string, error) {
	out := filepath.Join(b.cfg.CacheDir, "k8s", key)
	if b.cached("kubernetes "+b.cfg.KubernetesVersion+" + etcd binaries (hack/tools/k8s)", out) {
		return out, nil
	}
	tmp := out + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	tools := filepath.Join(b.cfg.RepoRoot, "hack", "tools", "k8s")
	env := []string{"CGO_ENABLED=0", "GOWORK=off"}
	args := []string{"build", "-v", "-trimpath", "-ldflags", k8sLDFlags(b.cfg.KubernetesVersion), "-o", tmp + "/"}
	for _, c := range k8sCommands {
		args = append(args, "k8s.io/kubernetes/cmd/"+c)
	}
	if err := b.run("go-build-k8s", tools, env, b.cfg.Go, args...); err != nil {
		return "", err
	}
	if err := b.run("go-build-etcd", tools, env, b.cfg.Go, "build", "-trimpath", "-ldflags", "-s -w",
		"-o", filepath.Join(tmp, "etcd"), "go.etcd.io/etcd/server/v3"); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, b.done(out)
}

func (b *builder) coreDNS(key string) (string, error) {
	out := filepath.Join(b.cfg.CacheDir, "coredns", key)
	if b.cached("coredns "+b.cfg.CoreDNSVersion, out) {
		return out, nil
	}
	tmp := out + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	env := []string{"CGO_ENABLED=0", "GOWORK=off", "GOBIN=" + tmp}
	if err := b.run("go-install-coredns", b.cfg.CacheDir, env, b.cfg.Go, "install", "-v", "-trimpath", "-ldflags", "-s -w",
		"github.com/coredns/coredns@"+b.cfg.CoreDNSVersion); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, b.done(out)
}

func (b *builder) auxPrograms(key string) (string, error) {
	out := filepath.Join(b.cfg.CacheDir, "aux", key)
	if b.cached("node programs (pause, runc-nosysres)", out) {
		return out, nil
	}
	tmp := out + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	if err := b.run("go-build-aux", b.cfg.RepoRoot, []string{"CGO_ENABLED=0"}, b.cfg.Go, "build", "-trimpath", "-ldflags", "-s -w",
		"-o", tmp+"/", "./kindenv/internal/nodeimage/cmd/pause", "./kindenv/internal/nodeimage/cmd/runc-nosysres"); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, b.done(out)
}

func (b *builder) imageTarballs(key string, in ImageInputs) (string, error) {
	dir := filepath.Join(b.cfg.CacheDir, "images", key)
	if b.cached("control-plane, etcd, coredns, kube-proxy, pause images (go-containerregistry)", dir) {
		return dir, nil
	}
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", err
	}
	specs := KubeadmImages(in)
	if err := b.checkKubeadmImages(filepath.Join(in.K8sBinDir, "kubeadm"), specs); err != nil {
		return "", err
	}
	for _, s := range specs {
		b.printf("  %s", s.Ref)
	}
	if err := WriteImages(filepath.Join(tmp, "kubeadm-images.tar"), specs); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", err
	}
	return dir, b.done(dir)
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

// checkKubeadmImages compares the images to assemble with the list the
// built kubeadm itself reports, so a name or tag drift fails the build.
func (b *builder) checkKubeadmImages(kubeadm string, specs []ImageSpec) error {
	out, err := exec.CommandContext(b.ctx, kubeadm, "config", "images", "list",
		"--kubernetes-version", b.cfg.KubernetesVersion).Output()
	if err != nil {
		return fmt.Errorf("kubeadm config images list: %w", err)
	}
	want := strings.Fields(string(out))
	have := map[string]bool{}
	for _, s := range specs {
		have[s.Ref] = true
	}
	for _, w := range want {
		if !have[w] {
			return fmt.Errorf("kubeadm %s expects image %s, which the builder does not assemble", b.cfg.KubernetesVersion, w)
		}
	}
	b.printf("  kubeadm %s expects %d images; all assembled", b.cfg.KubernetesVersion, len(want))
	return nil
}

// prune removes cache entries and node base images of other keys, so the
// cache holds one build (about 2 GB) however often inputs change.
func (b *builder) prune(k stepKeys, rootImage string) {
	for dir, key := range map[string]string{"rootfs": k.rootfs, "k8s": k.k8s, "coredns": k.coredns, "aux": k.aux, "images": k.images} {
		entries, _ := os.ReadDir(filepath.Join(b.cfg.CacheDir, dir))
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), key) {
				_ = os.RemoveAll(filepath.Join(b.cfg.CacheDir, dir, e.Name()))
			}
		}
	}
	repo, _, _ := strings.Cut(rootImage, ":")
	out, err := exec.CommandContext(b.ctx, b.cfg.Docker, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repo).Output()
	if err != nil {
		return
	}
	for _, ref := range strings.Fields(string(out)) {
		if ref != rootImage {
			_ = b.dockerQuiet("image", "rm", ref)
		}
	}
}

// --- helpers ----------------------------------------------------------------

func (b *builder) printf(format string, args ...any) {
	fmt.Fprintf(b.cfg.Out, format+"\n", args...)
}

func (b *builder) begin(what string) {
	b.step++
	b.printf("[%d/%d] %s", b.step, b.steps, what)
}

// cached starts a step and reports whether its output already exists.
func (b *builder) cached(what, out string) bool {
	b.begin(what)
	if _, err := os.Stat(out); err == nil {
		if _, err := os.Stat(out + ".done"); err == nil {
			b.printf("  cached: %s", out)
			return true
		}
	}
	return false
}

func (b *builder) done(out string) error {
	b.printf("  built: %s (%s)", out, since(b.start))
	return os.WriteFile(out+".done", []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644)
}

func (b *builder) imageLabel(ref string) string {
	out, err := exec.CommandContext(b.ctx, b.cfg.Docker, "image", "inspect", "-f",
		`{{index .Config.Labels "`+KeyLabel+`"}}`, ref).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func (b *builder) dockerQuiet(args ...string) error {
	return exec.CommandContext(b.ctx, b.cfg.Docker, args...).Run()
}

// run runs a command with its output in CacheDir/logs/<name>.log, printing a
// heartbeat every 30 s and the log's tail on failure.
func (b *builder) run(logName, dir string, env []string, name string, args ...string) error {
	logPath := filepath.Join(b.cfg.CacheDir, "logs", logName+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer lf.Close()
	cmd := exec.CommandContext(b.ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-waitErr:
			if err != nil {
				return fmt.Errorf("%s %s failed: %w\n--- last lines of %s ---\n%s", name, strings.Join(args, " "), err, logPath, tail(logPath, 40))
			}
			return nil
		case <-tick.C:
			b.printf("  … %s running for %s (log %s%s)", logName, since(started), logPath, lastLine(logPath))
		}
	}
}

func since(t time.Time) string { return time.Since(t).Round(time.Second).String() }

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func lastLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var last string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	if last == "" {
		return ""
	}
	if len(last) > 100 {
		last = last[:100] + "…"
	}
	return "; last: " + last
}

// FindRepoRoot walks up from dir to the directory holding azsim's go.mod.
func FindRepoRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
			bytes.HasPrefix(bytes.TrimSpace(data), []byte("module github.com/azsim/azsim\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("azsim module root not found (run from the repository)")
		}
	}
}
