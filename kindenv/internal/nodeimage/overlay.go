package nodeimage

import (
	"archive/tar"
	"embed"
	"io"
	"os"
	"path"
	"sort"
	"time"

	"github.com/azsim/azsim/kindenv/internal/render"
)

//go:embed files
var nodeFiles embed.FS

// File is one entry of a layer or overlay: content from Data or from the
// host file Src, or a symlink when Link is set.
type File struct {
	Path string // absolute path in the image
	Mode int64
	Data []byte
	Src  string
	Link string
}

func embedded(name string) []byte {
	b, err := nodeFiles.ReadFile("files/" + name)
	if err != nil {
		panic(err) // embedded at build time; cannot be missing
	}
	return b
}

// NodeFiles returns the files azsim adds to the debootstrapped root
// filesystem (kind-offline.md 6). binDir holds kubelet, kubeadm and kubectl; auxDir
// holds runc-nosysres. It is a pure function of its arguments and the
// embedded files.
func NodeFiles(kubernetesVersion, binDir, auxDir string) []File {
	return []File{
		{Path: "/usr/local/bin/entrypoint", Mode: 0o755, Data: embedded("entrypoint")},
		{Path: "/etc/containerd/config.toml", Mode: 0o644, Data: render.RenderContainerdConfig(render.DefaultContainerdOptions())},
		{Path: render.NodeCNIConfig, Mode: 0o644, Data: render.RenderCNIConfig(render.CNINetworkName, render.NodePodSubnet)},
		{Path: "/etc/systemd/system/kubelet.service", Mode: 0o644, Data: embedded("kubelet.service")},
		{Path: "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", Mode: 0o644, Data: embedded("10-kubeadm.conf")},
		{Path: "/etc/systemd/system/kubelet.slice", Mode: 0o644, Data: embedded("kubelet.slice")},
		{Path: "/etc/default/kubelet", Mode: 0o644, Data: embedded("default-kubelet")},
		{Path: "/etc/sysctl.d/10-azsim-kind.conf", Mode: 0o644, Data: embedded("sysctl.conf")},
		{Path: "/etc/crictl.yaml", Mode: 0o644, Data: embedded("crictl.yaml")},
		{Path: "/kind/version", Mode: 0o644, Data: []byte(kubernetesVersion + "\n")},
		{Path: "/kind/build/setup.sh", Mode: 0o755, Data: embedded("setup.sh")},
		{Path: "/kind/build/preload.sh", Mode: 0o755, Data: embedded("preload.sh")},
		{Path: "/usr/bin/kubelet", Mode: 0o755, Src: path.Join(binDir, "kubelet")},
		{Path: "/usr/bin/kubeadm", Mode: 0o755, Src: path.Join(binDir, "kubeadm")},
		{Path: "/usr/bin/kubectl", Mode: 0o755, Src: path.Join(binDir, "kubectl")},
		{Path: render.NodeRuncWrapper, Mode: 0o755, Src: path.Join(auxDir, "runc-nosysres")},
	}
}

// WriteTar writes files as a tar stream, creating parent directories.
func WriteTar(w io.Writer, files []File) error {
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	var mkdirs func(string) error
	mkdirs = func(d string) error {
		if d == "/" || d == "." || dirs[d] {
			return nil
		}
		if err := mkdirs(path.Dir(d)); err != nil {
			return err
		}
		dirs[d] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d[1:] + "/", Mode: 0o755, ModTime: time.Unix(0, 0)})
	}
	sorted := append([]File(nil), files...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	for _, f := range sorted {
		if err := mkdirs(path.Dir(f.Path)); err != nil {
			return err
		}
		hdr := &tar.Header{Name: f.Path[1:], Mode: f.Mode, ModTime: time.Unix(0, 0)}
		switch {
		case f.Link != "":
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, f.Link, 0o777
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
		case f.Src != "":
			src, err := os.Open(f.Src)
			if err != nil {
				return err
			}
			fi, err := src.Stat()
			if err != nil {
				src.Close()
				return err
			}
			hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
			if err := tw.WriteHeader(hdr); err != nil {
				src.Close()
				return err
			}
			_, err = io.Copy(tw, src)
			src.Close()
			if err != nil {
				return err
			}
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(f.Data))
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := tw.Write(f.Data); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}
