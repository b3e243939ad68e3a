package sim

import "net/http"

// wireRegistries is completed when fakeacr lands.
func (s *Sim) wireRegistries() error { return nil }

var _ http.Handler
