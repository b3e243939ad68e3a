package flow

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func base64URLDecode(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// VMSS runs the kubelet flow: IMDS token of identity clientID, then the ACR
// hops and the pull of image.
func (c *Client) VMSS(ctx context.Context, tenant, clientID, image string) *Result {
	ctx, cancel := ctxTimeout(ctx)
	defer cancel()
	r := &Result{}
	tok, ok := c.imdsToken(ctx, r, clientID)
	if ok {
		c.acr(ctx, r, tenant, tok, image, true)
	}
	return r
}

// Federated runs the workload-identity flow: the service-account token
// assertion is exchanged at Entra for identity clientID, then the ACR hops
// and the pull of image.
func (c *Client) Federated(ctx context.Context, tenant, clientID, assertion, image string) *Result {
	ctx, cancel := ctxTimeout(ctx)
	defer cancel()
	r := &Result{}
	tok, ok := c.entraAssertion(ctx, r, tenant, clientID, assertion)
	if ok {
		c.acr(ctx, r, tenant, tok, image, false)
	}
	return r
}

func (c *Client) acr(ctx context.Context, r *Result, tenant, aadToken, image string, kubelet bool) {
	ref, err := name.ParseReference(image)
	if err != nil {
		r.fail("pull", 0, "bad image reference %q: %v", image, err)
		return
	}
	repo := ref.Context().RepositoryStr()
	realm, service, ok := c.challenge(ctx, r, ref.Context().RegistryStr())
	if !ok {
		return
	}
	refresh, ok := c.exchange(ctx, r, realm, service, tenant, aadToken, kubelet)
	if !ok {
		return
	}
	access, ok := c.accessToken(ctx, r, realm, service, repo, refresh)
	if !ok && access == "" {
		return
	}
	// Pull even with a token that lacks pull, so the registry's own answer
	// (401 insufficient_scope) is what gets reported.
	c.pull(ctx, r, ref, access)
}

// pull fetches the manifest and every layer with go-containerregistry,
// presenting the access token as a bearer token.
func (c *Client) pull(ctx context.Context, r *Result, ref name.Reference, access string) {
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithTransport(c.HTTP.Transport),
		remote.WithAuth(authn.FromConfig(authn.AuthConfig{RegistryToken: access})))
	if err == nil {
		var d v1.Hash
		d, err = img.Digest()
		if err == nil {
			r.Digest = d.String()
			err = c.layers(r, img)
		}
	}
	if err != nil {
		var te *transport.Error
		if errors.As(err, &te) {
			r.fail("pull", te.StatusCode, "%v", err)
			return
		}
		r.fail("pull", 0, "%v", err)
		return
	}
	r.ok("pull", "%s %s (%d layers, %d bytes)", ref, r.Digest, r.Layers, r.Bytes)
}

// layers downloads every layer, as a kubelet pull would.
func (c *Client) layers(r *Result, img v1.Image) error {
	ls, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range ls {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return err
		}
		r.Layers++
		r.Bytes += n
	}
	return nil
}
