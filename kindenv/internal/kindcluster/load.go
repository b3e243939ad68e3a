package kindcluster

import (
	"context"
	"fmt"
	"os"

	gcrname "github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	"github.com/azsim/azsim/kindenv/internal/docker"
)

// LoadImage loads img (tagged tag) into every node of cluster name through
// an image archive (the offline node image has no crictl).
func LoadImage(ctx context.Context, name string, img v1.Image, tag string) error {
	ref, err := gcrname.NewTag(tag)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "azsim-image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tmp.Close()
	if err := tarball.WriteToFile(tmp.Name(), ref, img); err != nil {
		return err
	}
	return loadArchive(name, tmp.Name(), tag)
}

func loadArchive(name, archive, image string) error {
	p := cluster.NewProvider(cluster.ProviderWithDocker())
	nodes, err := p.ListInternalNodes(name)
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		return fmt.Errorf("kind cluster %q has no nodes", name)
	}
	for _, n := range nodes {
		f, err := os.Open(archive)
		if err != nil {
			return err
		}
		err = nodeutils.LoadImageArchive(n, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("loading %s into %s: %w", image, n.String(), err)
		}
	}
	return nil
}

// LoadDockerImage saves image from the engine and loads it into every node.
func LoadDockerImage(ctx context.Context, name, image string) error {
	tmp, err := os.CreateTemp("", "azsim-image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tmp.Close()
	if _, err := docker.Run(ctx, "save", "-o", tmp.Name(), image); err != nil {
		return err
	}
	return loadArchive(name, tmp.Name(), image)
}
