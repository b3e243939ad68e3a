package nodeimage

import (
	"os"
	"path/filepath"
)

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
