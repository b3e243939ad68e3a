package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/azsim/azsim/api"
)

// Healthz reports whether the simulator answers (GET /healthz needs no
// token).
func (c *Client) Healthz(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, api.PathHealthz, nil, nil)
}

// Endpoints describes the running simulator.
func (c *Client) Endpoints(ctx context.Context) (api.Endpoints, error) {
	var ep api.Endpoints
	err := c.do(ctx, http.MethodGet, api.PathEndpoints, nil, &ep)
	return ep, err
}

// World decodes the simulator's world, with its derived IDs and its
// secrets, into out (a *world.World, a *json.RawMessage, a map): what a
// caller needs to write it back.
func (c *Client) World(ctx context.Context, out any) error {
	return c.do(ctx, http.MethodGet, api.PathWorld+"?"+api.WithSecrets, nil, out)
}

// PutWorld replaces the simulator's world by in, validated as a whole, and
// decodes the world compiled from it, secrets included, into out (nil:
// discard).
func (c *Client) PutWorld(ctx context.Context, in, out any) error {
	return c.do(ctx, http.MethodPut, api.PathWorld+"?"+api.WithSecrets, in, out)
}

// Objects decodes one collection of the world (identities,
// roleAssignments, ...), secrets included, into out.
func (c *Client) Objects(ctx context.Context, collection string, out any) error {
	return c.do(ctx, http.MethodGet, collectionPath(collection)+"?"+api.WithSecrets, nil, out)
}

// AddObject appends obj to a collection of the world, keeping the
// propagation deadlines of the objects already there, and decodes the
// collection into out (nil: discard).
func (c *Client) AddObject(ctx context.Context, collection string, obj, out any) error {
	return c.do(ctx, http.MethodPost, collectionPath(collection), obj, out)
}

// DeleteObject removes the object of a collection named key (or at index
// key, for collections without names) and decodes the collection into out
// (nil: discard).
func (c *Client) DeleteObject(ctx context.Context, collection, key string, out any) error {
	return c.do(ctx, http.MethodDelete, collectionPath(collection)+"/"+url.PathEscape(key), nil, out)
}

func collectionPath(collection string) string {
	return api.PathWorld + "/" + url.PathEscape(collection)
}
