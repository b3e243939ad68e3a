package kindenv

import (
	"context"

	"github.com/azsim/azsim/kindenv/internal/nodeimage"
)

// NodeImageConfig describes a build of azsim's offline kind node image.
type NodeImageConfig = nodeimage.Config

// DefaultNodeImageConfig is the pinned build from the azsim source tree at
// repoRoot (FindRepoRoot).
func DefaultNodeImageConfig(repoRoot string) NodeImageConfig { return nodeimage.Default(repoRoot) }

// BuildNodeImage builds cfg.Image, reusing every cached step whose inputs
// did not change, and returns the image reference. Progress goes to
// cfg.Out.
func BuildNodeImage(ctx context.Context, cfg NodeImageConfig) (string, error) {
	res, err := nodeimage.Build(ctx, cfg)
	if err != nil {
		return "", err
	}
	return res.Image, nil
}

// FindRepoRoot walks up from dir to the directory holding azsim's go.mod.
func FindRepoRoot(dir string) (string, error) { return nodeimage.FindRepoRoot(dir) }
