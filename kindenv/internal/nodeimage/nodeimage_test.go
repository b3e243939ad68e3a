package nodeimage

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/require"
)

func TestKubeadmImageNames(t *testing.T) {
	var refs []string
	for _, s := range KubeadmImages(ImageInputs{KubernetesVersion: "v1.37.2", EtcdImageTag: "3.7.0-0", CoreDNSVersion: "v1.14.6", PauseTag: "3.10.2"}) {
		refs = append(refs, s.Ref)
	}
	sort.Strings(refs)
	// Exactly the names kubeadm v1.37.2 uses (kind-offline.md 2).
	require.Equal(t, []string{
		"registry.k8s.io/coredns/coredns:v1.14.6",
		"registry.k8s.io/etcd:3.7.0-0",
		"registry.k8s.io/kube-apiserver:v1.37.2",
		"registry.k8s.io/kube-controller-manager:v1.37.2",
		"registry.k8s.io/kube-proxy:v1.37.2",
		"registry.k8s.io/kube-scheduler:v1.37.2",
		"registry.k8s.io/pause:3.10.2",
	}, refs)
}

func TestNodeFilesContract(t *testing.T) {
	paths := map[string]File{}
	for _, f := range NodeFiles("v1.37.2", "/bin", "/aux") {
		paths[f.Path] = f
	}
	for _, p := range []string{
		"/usr/local/bin/entrypoint", "/etc/containerd/config.toml", "/etc/cni/net.d/10-azsim-ptp.conflist",
		"/etc/systemd/system/kubelet.service", "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
		"/kind/version", "/usr/bin/kubelet", "/usr/bin/kubeadm", "/usr/bin/kubectl", "/usr/local/sbin/runc-nosysres",
	} {
		require.Contains(t, paths, p)
	}
	require.Equal(t, "v1.37.2\n", string(paths["/kind/version"].Data))
	require.Equal(t, "/bin/kubelet", paths["/usr/bin/kubelet"].Src)
	require.EqualValues(t, 0o755, paths["/usr/local/bin/entrypoint"].Mode)
	require.NotContains(t, string(paths["/usr/local/bin/entrypoint"].Data), "detected cgroup v1",
		"kind must wait for systemd's multi-user line, not the entrypoint's")
	require.Contains(t, string(paths["/etc/containerd/config.toml"].Data), "restrict_oom_score_adj = true")
}

func TestWriteTarAndAssemble(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "pause")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755))
	spec := ImageSpec{
		Ref:        "registry.k8s.io/pause:3.10.2",
		Files:      append(minimalEtc(), File{Path: "/pause", Mode: 0o755, Src: bin}, File{Path: "/lib", Link: "usr/lib"}),
		Entrypoint: []string{"/pause"},
	}
	out := filepath.Join(dir, "images.tar")
	require.NoError(t, WriteImages(out, []ImageSpec{spec}))

	tag, err := name.NewTag(spec.Ref)
	require.NoError(t, err)
	img, err := tarball.ImageFromPath(out, &tag)
	require.NoError(t, err)
	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	require.Equal(t, []string{"/pause"}, cfg.Config.Entrypoint)
	require.Equal(t, "amd64", cfg.Architecture)
	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 1)
	rc, err := layers[0].Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	got := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got[h.Name] = h
	}
	require.Contains(t, got, "etc/")
	require.Contains(t, got, "etc/passwd")
	require.EqualValues(t, 0o755, got["pause"].Mode)
	require.Equal(t, "usr/lib", got["lib"].Linkname)
}

func TestKeysFollowInputs(t *testing.T) {
	a := (&hasher{}).add("x", "y").sum()
	require.Equal(t, a, (&hasher{}).add("x", "y").sum())
	require.NotEqual(t, a, (&hasher{}).add("xy").sum(), "parts are length-prefixed")
	require.NotEqual(t, a, (&hasher{}).add("x", "z").sum())
}

func TestK8sLDFlags(t *testing.T) {
	fl := k8sLDFlags("v1.37.2")
	for _, want := range []string{
		"-X k8s.io/component-base/version.gitVersion=v1.37.2",
		"-X k8s.io/component-base/version.gitMinor=37",
		"-X k8s.io/client-go/pkg/version.gitVersion=v1.37.2",
		"-X k8s.io/client-go/pkg/version.gitTreeState=clean",
	} {
		require.Contains(t, fl, want)
	}
}

func TestFindRepoRoot(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	root, err := FindRepoRoot(wd)
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "hack", "tools", "k8s", "go.mod"))
	_, err = FindRepoRoot(t.TempDir())
	require.Error(t, err)
}
