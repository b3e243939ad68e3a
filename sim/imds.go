package sim

import (
	"fmt"
	"net"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/fakeimds"
)

// startIMDS opens one plain-HTTP IMDS listener per node pool: the pool's
// imdsAddress, else the configured IMDS address for the first pool without
// one, else an ephemeral loopback port (DESIGN.md "Network shape").
func (s *Sim) startIMDS() error {
	defaultUsed := false
	for _, p := range s.store.Snapshot().NodePools() {
		ref := p.Cluster.Name + "/" + p.Name
		addr := p.IMDSAddress
		if a, ok := s.opts.poolIMDS[ref]; ok {
			addr = a
		}
		if addr == "" && !defaultUsed {
			addr, defaultUsed = s.opts.imdsAddr, true
		}
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listening for the IMDS of node pool %s on %s: %w", ref, addr, err)
		}
		h, err := fakeimds.New(s.store, ref, s.entra, append(s.opts.imds.fakeOptions(), fakeimds.WithLogger(s.opts.logger))...)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("the IMDS of node pool %s: %w", ref, err)
		}
		s.imds[ref] = ln.Addr().String()
		s.serve(ln, s.wrap(api.ServiceIMDS, h))
	}
	return nil
}
