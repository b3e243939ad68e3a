package kindcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"sigs.k8s.io/kind/pkg/apis/config/defaults"

	"github.com/azsim/azsim/kindenv/internal/render"
)

// StockNodeImage is kind v0.33.0's default node image.
const StockNodeImage = defaults.Image

// NodeImageEnv overrides the node image choice.
const NodeImageEnv = "AZSIM_KIND_NODE_IMAGE"

// Choice is the node image the kind tier uses, and why.
type Choice struct {
	Image   string
	Offline bool // azsim's offline image (single-node CNI, disableDefaultCNI)
	Reason  string
}

// ChooseOptions tune ChooseNodeImage; zero values are the defaults.
type ChooseOptions struct {
	// Override is an explicit image (default: $AZSIM_KIND_NODE_IMAGE).
	Override string
	// Docker is the docker command (default "docker").
	Docker string
	// ProbeRegistry reports whether the stock image can be pulled (default:
	// a HEAD of StockNodeImage's manifest with a 10 s timeout).
	ProbeRegistry func(ctx context.Context) error
}

// ChooseNodeImage picks the stock kindest/node image when it is present
// locally or its registry answers, and azsim's offline image otherwise.
func ChooseNodeImage(ctx context.Context, o ChooseOptions) Choice {
	if o.Override == "" {
		o.Override = os.Getenv(NodeImageEnv)
	}
	if o.Docker == "" {
		o.Docker = "docker"
	}
	if o.ProbeRegistry == nil {
		o.ProbeRegistry = probeStockImage
	}
	if o.Override != "" {
		return decide(o.Override, false, nil)
	}
	local := exec.CommandContext(ctx, o.Docker, "image", "inspect", StockNodeImage).Run() == nil
	var probeErr error
	if !local {
		probeErr = o.ProbeRegistry(ctx)
	}
	return decide("", local, probeErr)
}

// decide is the pure part of ChooseNodeImage.
func decide(override string, stockLocal bool, probeErr error) Choice {
	switch {
	case override != "":
		return Choice{Image: override, Offline: IsOfflineImage(override), Reason: "from $" + NodeImageEnv}
	case stockLocal:
		return Choice{Image: StockNodeImage, Reason: "stock image present locally"}
	case probeErr == nil:
		return Choice{Image: StockNodeImage, Reason: "its registry answers, so kind can pull it"}
	default:
		return Choice{Image: render.OfflineNodeImage, Offline: true,
			Reason: fmt.Sprintf("offline image: the stock image cannot be pulled (%v)", probeErr)}
	}
}

// IsOfflineImage reports whether image is azsim's offline node image.
func IsOfflineImage(image string) bool {
	repo, _, _ := strings.Cut(image, ":")
	return repo == strings.Split(render.OfflineNodeImage, ":")[0]
}

func probeStockImage(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ref, err := name.ParseReference(StockNodeImage)
	if err != nil {
		return err
	}
	if _, err := remote.Head(ref, remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("%s: %w", ref.Context().RegistryStr(), firstLine(err))
	}
	return nil
}

func firstLine(err error) error {
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return fmt.Errorf("%s", s)
}
