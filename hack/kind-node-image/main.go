// Command kind-node-image builds azsim's offline kind node image
// (`make kind-node-image`), or with -auto chooses the node image for the kind
// tier: the stock kindest/node when a container registry answers, the offline
// image otherwise (built when missing). The chosen image is printed on
// stdout; progress and the reason for the choice go to stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/azsim/azsim/kindenv"
)

func main() {
	wd, err := os.Getwd()
	if err != nil {
		fail(err)
	}
	root, err := kindenv.FindRepoRoot(wd)
	if err != nil {
		fail(err)
	}
	cfg := kindenv.DefaultNodeImageConfig(root)
	auto := flag.Bool("auto", false, "choose stock kindest/node when a registry answers, else build/use the offline image; print the choice")
	flag.StringVar(&cfg.Image, "image", cfg.Image, "image reference to build")
	flag.StringVar(&cfg.CacheDir, "cache-dir", cfg.CacheDir, "cache directory (default from AZSIM_CACHE_DIR or the user cache dir)")
	flag.StringVar(&cfg.Mirror, "mirror", envOr("AZSIM_DEBIAN_MIRROR", cfg.Mirror), "Debian mirror for debootstrap")
	flag.StringVar(&cfg.StopAfter, "stop-after", "", "stop after this step (rootfs), for debugging")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *auto {
		choice := kindenv.ChooseNodeImage(ctx)
		fmt.Fprintf(os.Stderr, "kind node image: %s (%s)\n", choice.Image, choice.Reason)
		if !choice.Offline {
			fmt.Println(choice.Image)
			return
		}
		cfg.Image = choice.Image
	}
	image, err := kindenv.BuildNodeImage(ctx, cfg)
	if err != nil {
		fail(err)
	}
	fmt.Println(image)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kind-node-image:", err)
	os.Exit(1)
}
