package sim_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/api"
	"github.com/azsim/azsim/sim"
	"github.com/azsim/azsim/sim/simtest"
)

// Fault rules added through the method surface fire on requests and are
// listed until cleared; an invalid rule is refused.
func TestAddFaultFiresUntilCleared(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	_, err := s.AddFault(api.FaultRule{Service: "nosuchservice", Status: 503})
	require.Error(t, err)
	rule, err := s.AddFault(api.FaultRule{Service: api.ServiceRegistry, Path: "/v2/*", Status: 503})
	require.NoError(t, err)
	assert.NotEmpty(t, rule.ID)
	require.Len(t, s.Faults(), 1)
	assert.Equal(t, rule.ID, s.Faults()[0].ID)
	assert.Equal(t, 503, status(t, s.Client(), "https://azsimacr.azurecr.io/v2/"))
	s.ClearFaults()
	assert.Empty(t, s.Faults())
	assert.Equal(t, 401, status(t, s.Client(), "https://azsimacr.azurecr.io/v2/"))
}

// Record puts a decision in the trace with the next sequence number, and
// subscribers and Decisions(since) see it.
func TestRecordReachesDecisionsAndSubscribers(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	assert.Empty(t, s.Decisions(0))
	ch, cancel := s.SubscribeDecisions()
	defer cancel()
	s.Record(api.Decision{Service: api.ServiceARM, Outcome: api.OutcomeAllow, Reason: "first"})
	s.Record(api.Decision{Service: api.ServiceARM, Outcome: api.OutcomeDeny, Reason: "second"})
	ds := s.Decisions(0)
	require.Len(t, ds, 2)
	assert.Equal(t, []string{"first", "second"}, []string{ds[0].Reason, ds[1].Reason})
	later := s.Decisions(ds[0].Seq)
	require.Len(t, later, 1)
	assert.Equal(t, "second", later[0].Reason)
	for _, want := range []string{"first", "second"} {
		select {
		case d := <-ch:
			assert.Equal(t, want, d.Reason)
		case <-time.After(5 * time.Second):
			t.Fatalf("no decision %q streamed", want)
		}
	}
}

// RotateIssuerKeys adds a key (keeping the previous one unless dropOld) and
// refuses an unknown cluster.
func TestRotateIssuerKeys(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	before, err := sim.IssuerKeysOf(s, "aks1")
	require.NoError(t, err)
	_, err = s.RotateIssuerKeys("no-such-cluster", false)
	require.Error(t, err)
	for _, tc := range []struct {
		name    string
		dropOld bool
		want    int
	}{
		{"keep the previous key", false, 2},
		{"drop the previous key", true, 1},
	} {
		kids, err := s.RotateIssuerKeys("aks1", tc.dropOld)
		require.NoError(t, err, tc.name)
		require.Len(t, kids, tc.want, tc.name)
		assert.NotEqual(t, before[len(before)-1].KID, kids[len(kids)-1], "%s: a new active key", tc.name)
		now, err := sim.IssuerKeysOf(s, "aks1")
		require.NoError(t, err)
		assert.Equal(t, now[len(now)-1].KID, kids[len(kids)-1], "%s: the issuer signs with the new key", tc.name)
	}
}

// The CA methods agree with each other and with the state directory, and a
// certificate from IssueCertificate verifies against CAPool.
func TestCAAndStateDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := simtest.Start(t, nil, sim.WithStateDir(dir))
	assert.Equal(t, dir, s.StateDir())
	assert.Equal(t, filepath.Join(dir, "ca.crt"), s.CACertFile())
	assert.Equal(t, s.CACertFile(), s.StateFile("ca.crt"))
	pem, err := os.ReadFile(s.CACertFile())
	require.NoError(t, err)
	assert.Equal(t, pem, s.CACertPEM())
	assert.Equal(t, s.CACertFile(), s.Endpoints().CAFile)

	cert, err := s.IssueCertificate([]string{"front.example.test"}, nil)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	require.NoError(t, err)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: s.CAPool(), DNSName: "front.example.test"})
	assert.NoError(t, err)

	c, err := tls.Dial("tcp", s.HTTPSAddr(), &tls.Config{ServerName: "login.microsoftonline.com", RootCAs: s.CAPool()})
	require.NoError(t, err, "the HTTPS listener's certificate verifies against CAPool")
	assert.NoError(t, c.Close())
}

// A recorded decision's candidates are bounded in number and size, like its
// other texts, so hostile claims cannot grow the trace.
func TestRecordClipsConsidered(t *testing.T) {
	t.Parallel()
	s := simtest.Start(t, nil)
	long := strings.Repeat("x", 64<<10)
	var cs []api.Considered
	for i := 0; i < 100; i++ {
		cs = append(cs, api.Considered{Kind: api.ConsideredFederatedCredential, Name: long, Why: long})
	}
	s.Record(api.Decision{Path: "/clip", Considered: cs})
	ds := s.Decisions(0)
	require.NotEmpty(t, ds)
	d := ds[len(ds)-1]
	require.Len(t, d.Considered, 33, "32 kept and one saying how many were not")
	assert.Equal(t, "truncated", d.Considered[32].Kind)
	for _, c := range d.Considered {
		assert.Less(t, len(c.Name)+len(c.Why), 8<<10)
	}
	assert.Len(t, cs[0].Name, 64<<10, "the caller's slice is not changed")
}
