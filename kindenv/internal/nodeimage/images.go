package nodeimage

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ImageSpec describes one image assembled with go-containerregistry: base
// layers from uncompressed tar files, then one layer of Files.
type ImageSpec struct {
	Ref        string
	BaseLayers []string // uncompressed layer tarballs
	Files      []File
	Entrypoint []string
	Cmd        []string
}

// ImageInputs are the built artifacts the control-plane images are made of.
type ImageInputs struct {
	KubernetesVersion, EtcdImageTag, CoreDNSVersion, PauseTag string
	K8sBinDir                                                 string // kube-apiserver, ..., kube-proxy, etcd
	CoreDNSBin                                                string
	AuxDir                                                    string // pause
	RootfsTar                                                 string // kube-proxy's base layer (iptables, nft, conntrack)
}

// minimalEtc is the small base layer of the static-binary images.
func minimalEtc() []File {
	return []File{
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n")},
		{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{Path: "/etc/nsswitch.conf", Mode: 0o644, Data: []byte("hosts: files dns\n")},
	}
}

// KubeadmImages returns the images kubeadm v1.37.2 references, under exactly
// its names (kind-offline.md 2), plus containerd's sandbox image.
func KubeadmImages(in ImageInputs) []ImageSpec {
	bin := func(n string) File {
		return File{Path: "/usr/local/bin/" + n, Mode: 0o755, Src: path.Join(in.K8sBinDir, n)}
	}
	withEtc := func(f ...File) []File { return append(minimalEtc(), f...) }
	var specs []ImageSpec
	for _, n := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler"} {
		specs = append(specs, ImageSpec{
			Ref:        "registry.k8s.io/" + n + ":" + in.KubernetesVersion,
			Files:      withEtc(bin(n)),
			Entrypoint: []string{"/usr/local/bin/" + n},
		})
	}
	specs = append(specs,
		ImageSpec{
			Ref:        "registry.k8s.io/kube-proxy:" + in.KubernetesVersion,
			BaseLayers: []string{in.RootfsTar},
			Files:      []File{bin("kube-proxy")},
			Entrypoint: []string{"/usr/local/bin/kube-proxy"},
		},
		ImageSpec{
			Ref:        "registry.k8s.io/etcd:" + in.EtcdImageTag,
			Files:      withEtc(bin("etcd"), File{Path: "/var/lib/etcd/.keep", Mode: 0o644}),
			Entrypoint: []string{"/usr/local/bin/etcd"},
		},
		ImageSpec{
			Ref:        "registry.k8s.io/coredns/coredns:" + in.CoreDNSVersion,
			Files:      withEtc(File{Path: "/coredns", Mode: 0o755, Src: in.CoreDNSBin}),
			Entrypoint: []string{"/coredns"},
		},
		ImageSpec{
			Ref:        "registry.k8s.io/pause:" + in.PauseTag,
			Files:      []File{{Path: "/pause", Mode: 0o755, Src: path.Join(in.AuxDir, "pause")}},
			Entrypoint: []string{"/pause"},
		},
	)
	return specs
}

// Assemble builds the image of spec with go-containerregistry.
func Assemble(spec ImageSpec) (v1.Image, error) {
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			Env:        []string{"PATH=" + defaultPath},
			Entrypoint: spec.Entrypoint,
			Cmd:        spec.Cmd,
		},
	})
	if err != nil {
		return nil, err
	}
	var layers []v1.Layer
	for _, p := range spec.BaseLayers {
		l, err := tarball.LayerFromFile(p, tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithCompressedCaching)
		if err != nil {
			return nil, fmt.Errorf("%s: layer %s: %w", spec.Ref, p, err)
		}
		layers = append(layers, l)
	}
	if len(spec.Files) > 0 {
		var buf bytes.Buffer
		if err := WriteTar(&buf, spec.Files); err != nil {
			return nil, fmt.Errorf("%s: %w", spec.Ref, err)
		}
		data := buf.Bytes()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}, tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithCompressedCaching)
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	return mutate.AppendLayers(img, layers...)
}

// WriteImages assembles specs and writes them to one docker-save tarball.
func WriteImages(out string, specs []ImageSpec) error {
	refs := map[name.Reference]v1.Image{}
	for _, s := range specs {
		ref, err := name.ParseReference(s.Ref, name.StrictValidation)
		if err != nil {
			return err
		}
		img, err := Assemble(s)
		if err != nil {
			return err
		}
		refs[ref] = img
	}
	return tarball.MultiRefWriteToFile(out, refs)
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
