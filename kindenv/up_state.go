package kindenv

import (
	"context"
	"encoding/json"
	"time"

	"github.com/azsim/azsim/internal/platform/certs"
	"github.com/azsim/azsim/internal/platform/jwtx"
	"github.com/azsim/azsim/internal/platform/ociimage"
	"github.com/azsim/azsim/internal/platform/state"
	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/kindenv/internal/simcontainer"
)

// prepareState writes the CA, issuer key, admin token, the container's
// world and the files the nodes mount.
func (r *upRun) prepareState(context.Context) error {
	start := time.Now()
	kindWorld, err := simcontainer.WorldForContainer(r.o.World, r.imdsPort)
	if err != nil {
		return err
	}
	if r.dir, err = state.Open(r.stateDir); err != nil {
		return err
	}
	if _, err := certs.LoadOrCreateCA(r.dir.File("ca.crt"), r.dir.File("ca.key"), time.Now()); err != nil {
		return err
	}
	ring, err := r.dir.Ring("issuer-" + r.wc.Name)
	if err != nil {
		return err
	}
	active := ring[len(ring)-1]
	jk, err := jwtx.NewKey(active)
	if err != nil {
		return err
	}
	r.kid = jk.KID
	if r.token, err = adminToken(r.dir.File(AdminTokenFile)); err != nil {
		return err
	}
	if err := state.WriteFile(r.dir.File(kindstate.WorldFile), kindWorld, 0o644); err != nil {
		return err
	}
	var logins []string
	for _, reg := range r.ix.Registries {
		logins = append(logins, reg.LoginServer)
	}
	nodeDir := r.dir.File(kindstate.NodeDirName)
	if err := writeNodeFiles(nodeDir, r.dir.File("ca.crt"), r.o, active, r.wc.TenantID, r.wc.Kubelet.ClientID, logins); err != nil {
		return err
	}
	if err := writeCNIFiles(nodeDir, r.cni, r.nodes); err != nil {
		return err
	}
	r.step("state (CA, keys, node files)", start)
	return nil
}

// simImage builds the simulator's image and loads it into the engine.
func (r *upRun) simImage(ctx context.Context) error {
	start := time.Now()
	img, err := ociimage.BuildFromFile(r.o.Binary)
	if err != nil {
		return err
	}
	if err := simcontainer.LoadImage(ctx, img); err != nil {
		return err
	}
	r.img = img
	r.step("simulator image", start)
	return nil
}

// record writes kind.json and returns the Env.
func (r *upRun) record() (*Env, error) {
	env := &Env{Name: r.o.Name, StateDir: r.stateDir, Kubeconfig: r.dir.File(kindstate.KubeconfigFile), NodeImage: r.c.Image,
		Container: kindstate.ContainerName(r.o.Name), SimIP: r.simIP, WorldCluster: r.wc.Name, NodePool: r.pool.Name,
		NodePools: r.o.NodePools, Nodes: r.nodes, CNI: r.cni, IssuerURL: r.wc.IssuerURL, KID: r.kid,
		Endpoints: r.ep, AdminToken: r.token, Timings: r.timings}
	b, _ := json.MarshalIndent(env, "", "  ")
	if err := state.WriteFile(r.dir.File(kindstate.KindInfoFile), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return env, nil
}
