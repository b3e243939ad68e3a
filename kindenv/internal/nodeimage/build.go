package nodeimage

import (
	"context"
	"fmt"
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
