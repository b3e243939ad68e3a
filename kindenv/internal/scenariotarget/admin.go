package scenariotarget

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/internal/clients/flow"
	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/simcontainer"
	"github.com/azsim/azsim/scenarios"
	"github.com/azsim/azsim/world"
)

// adminClient speaks to the simulator container's admin API.
type adminClient struct {
	base, token string
	hc          *http.Client
}

func (a *adminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin API %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("admin API %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (a *adminClient) trace(ctx context.Context, since uint64) ([]api.Decision, error) {
	var ds []api.Decision
	err := a.do(ctx, http.MethodGet, "/api/trace?since="+strconv.FormatUint(since, 10), nil, &ds)
	return ds, err
}

// index is the simulator's current world, compiled at its clock.
func (t *Target) index(ctx context.Context) (*world.Index, time.Time, error) {
	var raw json.RawMessage
	if err := t.admin.do(ctx, http.MethodGet, "/api/world", nil, &raw); err != nil {
		return nil, time.Time{}, err
	}
	w, err := world.Parse(raw)
	if err != nil {
		return nil, time.Time{}, err
	}
	var c struct{ Now time.Time }
	if err := t.admin.do(ctx, http.MethodGet, "/api/clock", nil, &c); err != nil {
		return nil, time.Time{}, err
	}
	ix, err := world.Compile(w, c.Now)
	return ix, c.Now, err
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
	return t.admin.do(ctx, http.MethodPut, "/api/world", w, nil)
}

// Explain implements scenarios.Target.
func (t *Target) Explain(ctx context.Context, mark uint64) (*api.Decision, error) {
	ds, err := t.admin.trace(ctx, mark)
	return scenarios.LastRefused(ds), err
}

// control performs the steps that change the simulator, through its admin
// API (DESIGN.md "Admin API").
func (t *Target) control(ctx context.Context, st *scenarios.Step) (flow.Hop, *api.Decision, error) {
	switch {
	case st.AdvanceClock != "":
		var c struct{ Now string }
		err := t.admin.do(ctx, http.MethodPost, "/api/clock", map[string]string{"advance": st.AdvanceClock}, &c)
		return flow.Hop{Name: "clock", OK: true, Detail: "advanced " + st.AdvanceClock + " to " + c.Now}, nil, err
	case st.AssignRole != nil:
		// POST appends through the store's update, which keeps the
		// propagation deadlines of the assignments already there.
		ra := *st.AssignRole
		err := t.admin.do(ctx, http.MethodPost, "/api/world/roleAssignments", ra, nil)
		return flow.Hop{Name: "assign-role", OK: true, Detail: fmt.Sprintf("%s → %s at %s", ra.Role, ra.Principal, ra.Scope)}, nil, err
	case st.Fault != nil:
		var rule struct{ ID string }
		err := t.admin.do(ctx, http.MethodPost, "/api/faults", st.Fault, &rule)
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
	var out struct{ Kids []string }
	err = t.admin.do(ctx, http.MethodPost, "/api/clusters/"+c.Name+"/rotate-keys?dropOld="+strconv.FormatBool(r.DropOld), nil, &out)
	return flow.Hop{Name: "rotate-keys", OK: true, Detail: fmt.Sprintf("rotated %s (published kids %v)", c.Name, out.Kids)}, nil, err
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
	t.ep, t.admin.base = ep, "http://"+ep.Admin
	return nil
}
