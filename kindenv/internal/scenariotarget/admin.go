package scenariotarget

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/client"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/simcontainer"
	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/world"
)

// adminTimeout bounds each call of the simulator container's admin API.
const adminTimeout = time.Minute

// newAdmin is a client of the simulator container's admin API at addr.
func newAdmin(addr, token string) *client.Client {
	return client.New(addr, client.WithToken(token), client.WithTimeout(adminTimeout))
}

// index is the simulator's current world, compiled at its clock.
func (t *Target) index(ctx context.Context) (*world.Index, time.Time, error) {
	var raw json.RawMessage
	if err := t.admin.World(ctx, &raw); err != nil {
		return nil, time.Time{}, err
	}
	w, err := world.Parse(raw)
	if err != nil {
		return nil, time.Time{}, err
	}
	now, err := t.admin.Clock(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	ix, err := world.Compile(w, now)
	return ix, now, err
}

// update edits the simulator's world with f: GET, then PUT. A PUT is a
// new world, compiled at the simulated clock's now, so the propagation
// delays (effectiveAfter) of assignments already there start again; only
// assignIdentity uses it, to change a node pool's identities, and steps
// that add role assignments append them with POST instead.
func (t *Target) update(ctx context.Context, f func(*world.World) error) error {
	ix, _, err := t.index(ctx)
	if err != nil {
		return err
	}
	w := ix.World
	if err := f(w); err != nil {
		return err
	}
	return t.admin.PutWorld(ctx, w, nil)
}

// Explain implements scenarios.Target.
func (t *Target) Explain(ctx context.Context, mark uint64) (*api.Decision, error) {
	ds, err := t.admin.Trace(ctx, mark)
	return scenarios.LastRefused(ds), err
}

// control performs the steps that change the simulator, through its admin
// API (DESIGN.md "Admin API").
func (t *Target) control(ctx context.Context, st *scenarios.Step) (flow.Hop, *api.Decision, error) {
	switch {
	case st.AdvanceClock != "":
		return t.advanceClock(ctx, st.AdvanceClock)
	case st.AssignRole != nil:
		// POST appends through the store's update, which keeps the
		// propagation deadlines of the assignments already there.
		ra := *st.AssignRole
		err := t.admin.AddObject(ctx, "roleAssignments", ra, nil)
		return flow.Hop{Name: "assign-role", OK: true, Detail: fmt.Sprintf("%s → %s at %s", ra.Role, ra.Principal, ra.Scope)}, nil, err
	case st.Fault != nil:
		rule, err := t.admin.AddFault(ctx, *st.Fault)
		return flow.Hop{Name: "fault", OK: true, Detail: "installed " + rule.ID}, nil, err
	case st.RotateKeys != nil:
		return t.rotateKeys(ctx, st.RotateKeys)
	case st.AssignIdentity != nil:
		ix, now, err := t.index(ctx)
		if err != nil {
			return flow.Hop{}, nil, err
		}
		plan, err := scenarios.PlanIdentityAssignment(ix, st.AssignIdentity, now)
		if err != nil {
			return flow.Hop{}, nil, err
		}
		if plan.Denied != nil {
			return plan.Hop, plan.Denied, nil
		}
		return plan.Hop, nil, t.update(ctx, plan.Update)
	}
	return flow.Hop{}, nil, fmt.Errorf("step %q: no action the kind target knows", st.Action())
}

// advanceClock moves the simulator's clock by d, a Go duration.
func (t *Target) advanceClock(ctx context.Context, d string) (flow.Hop, *api.Decision, error) {
	by, err := time.ParseDuration(d)
	if err != nil {
		return flow.Hop{}, nil, fmt.Errorf("advanceClock %q: %w", d, err)
	}
	now, err := t.admin.AdvanceClock(ctx, by)
	hop := flow.Hop{Name: "clock", OK: true, Detail: "advanced " + d + " to " + now.Format(time.RFC3339Nano)}
	return hop, nil, err
}

// ringBackup is a cluster's issuer key ring before a scenario rotated it.
type ringBackup struct {
	path string
	data []byte
}

// rotateKeys rotates the simulator's issuer keys. kube-apiserver keeps
// signing with the key it started with, as a cluster whose issuer rotated
// away from its key; End restores every ring it backed up and restarts the
// simulator.
func (t *Target) rotateKeys(ctx context.Context, r *scenarios.RotateStep) (flow.Hop, *api.Decision, error) {
	ix, _, err := t.index(ctx)
	if err != nil {
		return flow.Hop{}, nil, err
	}
	c, err := scenarios.ClusterOf(ix, r.Cluster)
	if err != nil {
		return flow.Hop{}, nil, err
	}
	if _, ok := t.rings[c.Name]; !ok {
		p := filepath.Join(t.env.StateDir, "keys", "issuer-"+c.Name+".json")
		b, err := os.ReadFile(p)
		if err != nil {
			return flow.Hop{}, nil, fmt.Errorf("backing up the issuer keys: %w", err)
		}
		if t.rings == nil {
			t.rings = map[string]ringBackup{}
		}
		t.rings[c.Name] = ringBackup{path: p, data: b}
	}
	out, err := t.admin.RotateKeys(ctx, c.Name, r.DropOld)
	return flow.Hop{Name: "rotate-keys", OK: true, Detail: fmt.Sprintf("rotated %s (published kids %v)", c.Name, out.KIDs)}, nil, err
}

// restoreRings puts the backed-up key rings back and restarts the
// simulator container (it keeps rings in memory), then records its new
// host ports.
func (t *Target) restoreRings(ctx context.Context) error {
	for _, r := range t.rings {
		if err := state.WriteFile(r.path, r.data, 0o600); err != nil {
			return err
		}
	}
	if _, err := docker.Run(ctx, "restart", t.env.Container); err != nil {
		return err
	}
	// The nodes and CoreDNS pin the Azure names to the simulator's address.
	ip, err := docker.Run(ctx, "inspect", "-f", `{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}`, t.env.Container)
	if err != nil {
		return err
	}
	if !slices.Contains(strings.Fields(ip), t.env.SimIP) {
		return fmt.Errorf("simulator container %s came back at %s instead of %s; run `azsim kind up --reuse` to re-wire the nodes", t.env.Container, ip, t.env.SimIP)
	}
	return t.republish(ctx)
}

// republish waits for the restarted simulator and records its new host
// ports (Docker publishes others on a restart) in endpoints.json.
func (t *Target) republish(ctx context.Context) error {
	kw, err := world.Parse(t.kindWorld)
	if err != nil {
		return err
	}
	ix, err := world.Compile(kw, time.Now())
	if err != nil {
		return err
	}
	ep, _, err := simcontainer.Endpoints(ctx, t.env.Container, ix, t.env.StateDir, simcontainer.IMDSPorts(ix))
	if err != nil {
		return fmt.Errorf("simulator container after restart: %w", err)
	}
	t.ep, t.admin = ep, newAdmin(ep.Admin, t.token)
	return nil
}
