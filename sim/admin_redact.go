package sim

import (
	"net/http"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/world"
)

// Reads of the world leave out its secrets (applications' client secrets,
// registries' admin passwords) unless the request asks for them with
// ?secrets=include, as a client that writes the world back must.

// secretsParam is the query parameter that asks for secrets.
const secretsParam = "secrets"

func wantsSecrets(r *http.Request) bool {
	return r.URL.RawQuery == api.WithSecrets || r.URL.Query().Get(secretsParam) == "include"
}

// redacted returns a copy of w without secret values.
func redacted(w *world.World) (*world.World, error) {
	c, err := w.Clone()
	if err != nil {
		return nil, err
	}
	for i := range c.Applications {
		for j := range c.Applications[i].Secrets {
			c.Applications[i].Secrets[j].Value = ""
		}
	}
	for i := range c.Registries {
		if au := c.Registries[i].AdminUser; au != nil {
			au.Password = ""
		}
	}
	return c, nil
}

// worldFor is the world as r may see it.
func (s *Sim) worldFor(r *http.Request) (*world.World, error) {
	w := s.store.Snapshot().World
	if wantsSecrets(r) {
		return w, nil
	}
	return redacted(w)
}

// getWorld serves GET /api/world.
func (s *Sim) getWorld(w http.ResponseWriter, r *http.Request) {
	wd, err := s.worldFor(r)
	if err != nil {
		adminError(w, http.StatusInternalServerError, err)
		return
	}
	adminJSON(w, http.StatusOK, wd)
}
