package conformance

import "github.com/azsim/azsim/client"

// newAdminClient is a client of the target's admin API (DESIGN.md "Admin
// API"), nil when the target declares none.
func newAdminClient(t *Target) *client.Client {
	if t.Admin == nil {
		return nil
	}
	return client.New(t.Admin.URL, client.WithToken(t.adminToken()))
}
