package cli

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/azsim/azsim/api"
)

func TestPrintDecision(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC)
	base := api.Decision{Time: t0, Flow: "f1", Service: api.ServiceRegistry, Outcome: api.OutcomeDeny, Status: 401,
		Method: "GET", Host: "azsimacr.azurecr.io", Path: "/v2/hello/manifests/v1", Error: "UNAUTHORIZED"}
	for _, tc := range []struct {
		name       string
		edit       func(d *api.Decision)
		want, none string
	}{
		{"a hint is the diagnosis", func(d *api.Decision) {
			d.Hint, d.Reason = &api.Hint{Text: "AcrPull is assigned to the cluster's identity"}, "not granted"
		}, "    diagnosis: AcrPull is assigned to the cluster's identity\n", "reason:"},
		{"without a hint the reason shows", func(d *api.Decision) { d.Reason = "the access token does not grant repository:hello:pull" },
			"    reason: the access token does not grant repository:hello:pull\n", "diagnosis:"},
		{"an allowed decision prints no reason", func(d *api.Decision) { d.Outcome, d.Status, d.Reason, d.Error = api.OutcomeAllow, 200, "fine", "" },
			"principal=-\n", "reason:"},
		{"repeats are counted", func(d *api.Decision) { d.Repeats, d.FirstTime = 41, t0.Add(-time.Minute) },
			`error="UNAUTHORIZED" (×42 since 09:59:00)`, "diagnosis:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := base
			tc.edit(&d)
			var out bytes.Buffer
			printDecision(&out, d, false)
			assert.Contains(t, out.String(), tc.want)
			assert.NotContains(t, out.String(), tc.none)
		})
	}
}
