package world

import (
	"fmt"
	"strconv"
)

// Bounds of the images a world seeds. The simulator builds every layer of a
// "random" image at start, in the registry's store (memory or disk), so a
// typo in a size must be refused, not allocated. ACR itself takes layers up
// to 200 GiB (protocols.md 3.8); a test fixture needs far less:
//
//   - MaxLayerSize, 1 GiB: larger than almost every real layer, enough to
//     exercise chunked uploads, slow pulls and timeouts;
//   - MaxImageLayers, 127: about the deepest image Docker's layer store
//     accepts ("max depth exceeded": docker/docs#8230, moby/moby#25957);
//   - MaxImageSize, 4 GiB: the size of the largest common base images;
//   - MaxSeedSize, 8 GiB: everything a world seeds, all registries together.
const (
	MaxLayerSize   int64 = 1 << 30
	MaxImageLayers       = 127
	MaxImageSize   int64 = 4 << 30
	MaxSeedSize    int64 = 8 << 30
)

// images validates the images seeded into the registry at path and adds the
// size of its random images to the world's total.
func (c *compiler) images(path string, imgs []Image) {
	refs := claims{}
	for j := range imgs {
		im := &imgs[j]
		ip := fmt.Sprintf("%s.images[%d]", path, j)
		validRepo, validTag := repoRE.MatchString(im.Repository), tagRE.MatchString(im.Tag)
		if !validRepo {
			c.add(ip+".repository", "%q is not a valid repository name", im.Repository)
		}
		if !validTag {
			c.add(ip+".tag", "%q is not a valid tag", im.Tag)
		}
		if validRepo && validTag {
			// A second image of one reference would silently replace the first.
			ref := im.Repository + ":" + im.Tag
			c.claim(refs, ref, ref, ip, ip, "reference")
		}
		switch im.Source {
		case "", "hello":
			im.Source = "hello"
			if im.Layers != 0 || im.LayerSize != 0 {
				c.add(ip, "layers and layerSize are for source random only, the hello image is fixed")
			}
		case "random":
			c.randomImage(ip, im)
		default:
			c.add(ip+".source", "must be hello or random, got %q", im.Source)
		}
	}
}

// randomImage checks the declared size of a random image against the bounds.
func (c *compiler) randomImage(ip string, im *Image) {
	ok := true
	switch {
	case im.Layers <= 0:
		c.add(ip+".layers", "must be positive for a random image")
		ok = false
	case im.Layers > MaxImageLayers:
		c.add(ip+".layers", "%d is more than the limit of %d layers per image", im.Layers, MaxImageLayers)
		ok = false
	}
	switch {
	case im.LayerSize <= 0:
		c.add(ip+".layerSize", "must be positive for a random image")
		ok = false
	case im.LayerSize > MaxLayerSize:
		c.add(ip+".layerSize", "%s is more than the limit of %s per layer", size(im.LayerSize), size(MaxLayerSize))
		ok = false
	}
	if !ok {
		return
	}
	total := int64(im.Layers) * im.LayerSize // both bounded above: no overflow
	if total > MaxImageSize {
		c.add(ip, "%d layers of %s are %s, more than the limit of %s per image",
			im.Layers, size(im.LayerSize), size(total), size(MaxImageSize))
		return
	}
	before := c.seeded
	c.seeded += total
	if before <= MaxSeedSize && c.seeded > MaxSeedSize {
		c.add(ip, "brings the images the world seeds to %s, more than the limit of %s per world", size(c.seeded), size(MaxSeedSize))
	}
}

// size spells a byte count for a person: "1073741824 bytes (1 GiB)".
func size(n int64) string {
	units := []struct {
		name string
		n    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if n >= u.n {
			v := strconv.FormatFloat(float64(n)/float64(u.n), 'f', 1, 64)
			if n%u.n == 0 {
				v = strconv.FormatInt(n/u.n, 10)
			}
			return fmt.Sprintf("%d bytes (%s %s)", n, v, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
