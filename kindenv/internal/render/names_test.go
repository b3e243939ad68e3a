package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var pinHosts = []string{"login.microsoftonline.com", "eastus.oic.prod-aks.azure.com", "azsimacr.azurecr.io"}

func TestRenderHostsScript(t *testing.T) {
	golden(t, "pin-hosts.sh", RenderHostsScript("172.18.0.7", pinHosts))
}

// kubeadm's Corefile (testdata, as kubeadm v1.37.2 renders it) gets one
// hosts block; pinning again (the simulator's address changed) replaces
// it; pinning with the same address changes nothing.
func TestPinCorefile(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "coredns-corefile.txt"))
	require.NoError(t, err)
	pinned, err := PinCorefile(string(in), "172.18.0.7", pinHosts)
	require.NoError(t, err)
	golden(t, "coredns-corefile-pinned.txt", []byte(pinned))

	again, err := PinCorefile(pinned, "172.18.0.7", pinHosts)
	require.NoError(t, err)
	require.Equal(t, pinned, again, "idempotent: CoreDNS is not restarted for nothing")

	moved, err := PinCorefile(pinned, "172.18.0.9", pinHosts)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(moved, "hosts {"))
	require.Contains(t, moved, "172.18.0.9 login.microsoftonline.com")
	require.NotContains(t, moved, "172.18.0.7")
	require.Equal(t, strings.Replace(pinned, "172.18.0.7", "172.18.0.9", 1), moved)

	_, err = PinCorefile("example.org {\n}\n", "172.18.0.7", pinHosts)
	require.ErrorContains(t, err, "no main server block")
}
