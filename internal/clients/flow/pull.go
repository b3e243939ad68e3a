package flow

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
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

// Options adjust a flow.
type Options struct {
	// ScopeRepository, when set, is the repository the access token is
	// requested for (to reproduce a token for repository A used on B).
	ScopeRepository string
	// Resource is the Entra resource asked for (default ACRResource); an
	// ARM resource reproduces registries that refuse ARM tokens.
	Resource string
}

func (o Options) resource() string {
	if o.Resource != "" {
		return o.Resource
	}
	return ACRResource
}

// VMSS runs the kubelet flow: IMDS token of identity clientID, then the ACR
// hops and the pull of image.
func (c *Client) VMSS(ctx context.Context, tenant, clientID, image string, opts ...Options) *Result {
	ctx, cancel := ctxTimeout(ctx)
	defer cancel()
	r := &Result{}
	o := pick(opts)
	tok, ok := c.imdsToken(ctx, r, clientID, o.resource())
	if ok {
		c.acr(ctx, r, tenant, tok, image, true, o)
	}
	return r
}

// Federated runs the workload-identity flow: the service-account token
// assertion is exchanged at Entra for identity clientID, then the ACR hops
// and the pull of image.
func (c *Client) Federated(ctx context.Context, tenant, clientID, assertion, image string, opts ...Options) *Result {
	ctx, cancel := ctxTimeout(ctx)
	defer cancel()
	r := &Result{}
	o := pick(opts)
	tok, ok := c.entraAssertion(ctx, r, tenant, clientID, assertion, o.resource())
	if ok {
		c.acr(ctx, r, tenant, tok, image, false, o)
	}
	return r
}

// WithRefreshToken runs only the last hops with an ACR refresh token
// obtained earlier (Result.RefreshToken): access token, then pull.
func (c *Client) WithRefreshToken(ctx context.Context, refresh, image string, opts ...Options) *Result {
	ctx, cancel := ctxTimeout(ctx)
	defer cancel()
	r := &Result{RefreshToken: refresh}
	ref, err := name.ParseReference(image)
	if err != nil {
		r.fail("pull", 0, "bad image reference %q: %v", image, err)
		return r
	}
	realm, service, ok := c.challenge(ctx, r, ref.Context().RegistryStr())
	if ok {
		c.tokenAndPull(ctx, r, ref, realm, service, refresh, pick(opts))
	}
	return r
}

func pick(opts []Options) Options {
	if len(opts) > 0 {
		return opts[0]
	}
	return Options{}
}

func (c *Client) acr(ctx context.Context, r *Result, tenant, aadToken, image string, kubelet bool, o Options) {
	ref, err := name.ParseReference(image)
	if err != nil {
		r.fail("pull", 0, "bad image reference %q: %v", image, err)
		return
	}
	realm, service, ok := c.challenge(ctx, r, ref.Context().RegistryStr())
	if !ok {
		return
	}
	refresh, ok := c.exchange(ctx, r, realm, service, tenant, aadToken, kubelet)
	if !ok {
		return
	}
	r.RefreshToken = refresh
	c.tokenAndPull(ctx, r, ref, realm, service, refresh, o)
}

func (c *Client) tokenAndPull(ctx context.Context, r *Result, ref name.Reference, realm, service, refresh string, o Options) {
	repo := ref.Context().RepositoryStr()
	if o.ScopeRepository != "" {
		repo = o.ScopeRepository
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
	tr := c.HTTP.Transport
	if tr == nil {
		// As net/http does for a Client without a Transport; a nil one
		// would make go-containerregistry panic.
		tr = http.DefaultTransport
	}
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithTransport(tr),
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

// EntraOnly runs only the Entra hop of the federated flow.
func (c *Client) EntraOnly(ctx context.Context, tenant, clientID, assertion string) *Result {
	ctx, cancel := ctxTimeout(ctx)
	defer cancel()
	r := &Result{}
	c.entraAssertion(ctx, r, tenant, clientID, assertion, ACRResource)
	return r
}
