package sim

import (
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

// ACRSettings tune every registry where clients.md leaves ACR's behaviour
// unconfirmed. Token lifetimes are per registry, in the world file
// (registries[].tokens).
type ACRSettings struct {
	// RefreshTokenInTokenResponse makes GET /oauth2/token answer Entra
	// principals with a refresh_token too, which docker keeps as its
	// identity token (clients.md 5.3; unverified against ACR, off by default).
	RefreshTokenInTokenResponse bool
}

// WithACR tunes the fake ACR.
func WithACR(a ACRSettings) Option { return func(o *options) { o.acr = a } }

func (a ACRSettings) fakeOptions() []fakeacr.Option {
	if !a.RefreshTokenInTokenResponse {
		return nil
	}
	return []fakeacr.Option{fakeacr.WithRefreshTokenInTokenResponse(true)}
}
