//go:build integration

package kindenv_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"

	"github.com/azsim/azsim/kindenv"
	"github.com/azsim/azsim/kindenv/internal/docker"
	"github.com/azsim/azsim/kindenv/internal/kindcluster"
	"github.com/azsim/azsim/kindenv/internal/nodeimage"
)

// Skip messages (exact; CI logs are grepped for them).
const (
	skipNoDocker = "kindenv integration: skipped: no Docker engine answers (run hack/docker-bootstrap.sh)"
	skipNoImage  = "kindenv integration: skipped: no kind node image (the stock image cannot be pulled and the offline image is missing; run make kind-node-image)"
)

const clusterName = "azsim-e2e"

// TestIntegrationKindCluster creates a kind cluster through
// sigs.k8s.io/kind/pkg/cluster and checks: the node is Ready, CoreDNS is
// Running, a Service answers, and a pod pulls its image from a
// go-containerregistry registry served by this test process on the kind
// network's gateway. Set AZSIM_KEEP_CLUSTER=1 to keep the cluster.
func TestIntegrationKindCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := docker.Answers(ctx); err != nil {
		t.Log(err)
		t.Skip(skipNoDocker)
	}
	choice := kindenv.ChooseNodeImage(ctx)
	t.Logf("kind node image: %s (%s)", choice.Image, choice.Reason)
	if choice.Offline && exec.CommandContext(ctx, "docker", "image", "inspect", choice.Image).Run() != nil {
		t.Skip(skipNoImage)
	}

	require.NoError(t, kindcluster.Delete(clusterName, ""))
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	c, err := kindcluster.Create(ctx, kindcluster.CreateOptions{Name: clusterName, Choice: choice, Kubeconfig: kubeconfig})
	require.NoError(t, err)
	t.Logf("cluster %s created in %s (kind config:\n%s)", clusterName, c.Took.Round(100*time.Millisecond), c.Config)
	t.Cleanup(func() {
		if t.Failed() {
			dumpCluster(t, c)
		}
		if os.Getenv("AZSIM_KEEP_CLUSTER") == "1" {
			t.Logf("keeping cluster %s (kubeconfig %s)", clusterName, kubeconfig)
			return
		}
		start := time.Now()
		require.NoError(t, c.Delete())
		t.Logf("cluster deleted in %s", time.Since(start).Round(100*time.Millisecond))
	})

	// 1. Node Ready (kind only warns when its own wait times out).
	start := time.Now()
	require.NoError(t, c.WaitNodeReady(ctx, 3*time.Minute))
	t.Logf("node Ready %s after create returned", time.Since(start).Round(100*time.Millisecond))
	out, err := c.Kubectl(ctx, nil, "get", "nodes", "-o", "wide")
	require.NoError(t, err)
	t.Logf("\n%s", out)

	// 2. CoreDNS Running and ready.
	require.NoError(t, c.WaitCoreDNS(ctx, 3*time.Minute), "CoreDNS Running")
	t.Logf("CoreDNS Running %s after create returned", time.Since(start).Round(100*time.Millisecond))

	// 3. A registry in this process, on the kind network's gateway.
	gw, err := docker.NetworkGateway(ctx)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", net.JoinHostPort(gw, "0"))
	require.NoError(t, err)
	var manifestGets, blobGets atomic.Int64
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/") {
			manifestGets.Add(1)
		}
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			blobGets.Add(1)
		}
		reg.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	regHost := ln.Addr().String()
	t.Logf("registry serving on %s", regHost)

	image := pushEchoServer(ctx, t, regHost)
	require.NoError(t, c.TrustRegistry(ctx, regHost))
	pullsBefore := blobGets.Load()

	// 4. A Deployment pulling from that registry, a Service, and a client pod
	// that reaches the Service by its DNS name.
	manifest := fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - name: echo
        image: %[1]s
        imagePullPolicy: Always
        args: ["serve", ":8080"]
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
`, image)
	client := fmt.Sprintf(`
apiVersion: v1
kind: Pod
metadata: {name: echo-client, namespace: default}
spec:
  restartPolicy: Never
  containers:
  - name: client
    image: %s
    imagePullPolicy: IfNotPresent
    args: ["get", "http://echo.default.svc.cluster.local/"]
`, image)
	_, err = c.Kubectl(ctx, strings.NewReader(manifest), "apply", "-f", "-")
	require.NoError(t, err)

	require.NoError(t, docker.Poll(ctx, 3*time.Minute, func() (bool, string) {
		out, err := c.Kubectl(ctx, nil, "get", "deployment", "echo", "-o", "jsonpath={.status.availableReplicas}")
		if err != nil {
			return false, err.Error()
		}
		return strings.TrimSpace(string(out)) == "1", "echo deployment available replicas: " + string(out)
	}), "echo Deployment available")
	require.Greater(t, manifestGets.Load(), int64(0), "the node must have fetched the manifest from the test registry")
	require.Greater(t, blobGets.Load(), pullsBefore, "the node must have pulled blobs from the test registry")
	t.Logf("pod pulled %s: %d manifest GETs, %d blob GETs served by the test registry", image, manifestGets.Load(), blobGets.Load())

	_, err = c.Kubectl(ctx, strings.NewReader(client), "apply", "-f", "-")
	require.NoError(t, err)

	require.NoError(t, docker.Poll(ctx, 2*time.Minute, func() (bool, string) {
		out, err := c.Kubectl(ctx, nil, "get", "pod", "echo-client", "-o", "jsonpath={.status.phase}")
		if err != nil {
			return false, err.Error()
		}
		phase := strings.TrimSpace(string(out))
		if phase == "Failed" {
			logs, _ := c.Kubectl(ctx, nil, "logs", "echo-client")
			t.Fatalf("echo-client failed: %s", logs)
		}
		return phase == "Succeeded", "echo-client phase " + phase
	}), "client pod reaches the Service")
	logs, err := c.Kubectl(ctx, nil, "logs", "echo-client")
	require.NoError(t, err)
	require.Contains(t, string(logs), "200 azsim-echo echo-", "the Service answered through cluster DNS")
	t.Logf("Service answered: %s", strings.TrimSpace(string(logs)))
}

// pushEchoServer builds kindenv/internal/echoserver (static), assembles an
// image with go-containerregistry and pushes it to the registry at host.
func pushEchoServer(ctx context.Context, t *testing.T, host string) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(dir, "echoserver"), "./internal/echoserver")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	img, err := nodeimage.Assemble(nodeimage.ImageSpec{
		Files:      []nodeimage.File{{Path: "/echoserver", Mode: 0o755, Src: filepath.Join(dir, "echoserver")}},
		Entrypoint: []string{"/echoserver"},
	})
	require.NoError(t, err)
	ref := host + "/azsim/echoserver:v1"
	r, err := name.ParseReference(ref, name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(r, img, remote.WithContext(ctx)))
	return ref
}

func dumpCluster(t *testing.T, c *kindcluster.Cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, args := range [][]string{
		{"get", "pods", "-A", "-o", "wide"},
		{"get", "events", "-A", "--sort-by=.lastTimestamp"},
		{"describe", "pods", "-n", "default"},
	} {
		out, err := c.Kubectl(ctx, nil, args...)
		t.Logf("kubectl %s (err %v):\n%s", strings.Join(args, " "), err, out)
	}
	out, _ := c.Exec(ctx, nil, "journalctl", "-u", "kubelet", "--no-pager", "-n", "60")
	t.Logf("kubelet journal:\n%s", out)
}
