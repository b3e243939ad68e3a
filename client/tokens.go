package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/azsim/azsim/api"
)

// ServiceAccountToken mints a service-account token signed by a cluster's
// issuer, as kube-apiserver's TokenRequest API would.
func (c *Client) ServiceAccountToken(ctx context.Context, req api.ServiceAccountTokenRequest) (api.ServiceAccountToken, error) {
	var tok api.ServiceAccountToken
	err := c.do(ctx, http.MethodPost, api.PathServiceAccount, req, &tok)
	return tok, err
}

// RotateKeys adds a signing key to a cluster's issuer (with dropOld, drops
// the others) and returns the key IDs it publishes.
func (c *Client) RotateKeys(ctx context.Context, cluster string, dropOld bool) (api.RotatedKeys, error) {
	var keys api.RotatedKeys
	path := api.PathClusters + "/" + url.PathEscape(cluster) + api.RotateKeysSuffix + "?dropOld=" + strconv.FormatBool(dropOld)
	err := c.do(ctx, http.MethodPost, path, nil, &keys)
	return keys, err
}
