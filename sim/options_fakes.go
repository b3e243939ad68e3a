package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/azsim/azsim/fakeacr"
	"github.com/azsim/azsim/fakeimds"
)

// IMDSSettings tune every node pool's IMDS where protocols.md marks the
// real wording or values unconfirmed ([L], protocols.md 2.4) or where IMDS
// changes over time. Zero fields keep the defaults.
type IMDSSettings struct {
	// Messages replace the error descriptions whose wording is unconfirmed;
	// empty fields keep the defaults.
	Messages fakeimds.Messages
	// APIVersions replaces the served api-versions, oldest first (default
	// fakeimds.DefaultAPIVersions, protocols.md 2.1).
	APIVersions []string
	// ServerHeader is the Server response header (default
	// fakeimds.ServerHeader, protocols.md 2.2).
	ServerHeader string
}

// WithIMDS tunes the fake IMDS of every node pool.
func WithIMDS(i IMDSSettings) Option { return func(o *options) { o.imds = i } }

func (i IMDSSettings) fakeOptions() []fakeimds.Option {
	opts := []fakeimds.Option{fakeimds.WithMessages(i.Messages)}
	if len(i.APIVersions) > 0 {
		opts = append(opts, fakeimds.WithAPIVersions(i.APIVersions))
	}
	if i.ServerHeader != "" {
		opts = append(opts, fakeimds.WithServerHeader(i.ServerHeader))
	}
	return opts
}

// ACRSettings tune every registry where clients.md or protocols.md leave
// ACR's behaviour unconfirmed. Token lifetimes are per registry, in the
// world file (registries[].tokens). Zero fields keep the defaults;
// negative ones make New fail.
type ACRSettings struct {
	// RefreshTokenInTokenResponse makes GET /oauth2/token answer Entra
	// principals with a refresh_token too, which docker keeps as its
	// identity token (clients.md 5.3; unverified against ACR, off by default).
	RefreshTokenInTokenResponse bool
	// UploadIdleTimeout expires registry upload sessions idle this long on
	// the simulated clock (default 15 minutes; protocols.md 3.8, unconfirmed).
	UploadIdleTimeout time.Duration
	// MaxUploadsPerPrincipal bounds the upload sessions one principal holds
	// in one registry; the next one is answered 429 TOOMANYREQUESTS
	// (default 64; protocols.md 3.8, unconfirmed).
	MaxUploadsPerPrincipal int
}

// WithACR tunes the fake ACR.
func WithACR(a ACRSettings) Option { return func(o *options) { o.acr = a } }

// validate reports every negative field.
func (a ACRSettings) validate() error {
	var errs []error
	if a.UploadIdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("ACR setting UploadIdleTimeout %v: must not be negative", a.UploadIdleTimeout))
	}
	if a.MaxUploadsPerPrincipal < 0 {
		errs = append(errs, fmt.Errorf("ACR setting MaxUploadsPerPrincipal %d: must not be negative", a.MaxUploadsPerPrincipal))
	}
	return errors.Join(errs...)
}

// fakeOptions are the fakeacr options the settings stand for.
func (a ACRSettings) fakeOptions() []fakeacr.Option {
	var opts []fakeacr.Option
	if a.RefreshTokenInTokenResponse {
		opts = append(opts, fakeacr.WithRefreshTokenInTokenResponse(true))
	}
	if a.UploadIdleTimeout != 0 || a.MaxUploadsPerPrincipal != 0 {
		opts = append(opts, fakeacr.WithUploadSessionLimits(a.UploadIdleTimeout, a.MaxUploadsPerPrincipal))
	}
	return opts
}
