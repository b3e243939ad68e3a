package conformance

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Driver kinds of the clients suite.
const (
	DriverCredentialProvider = "credential-provider"
	DriverExec               = "exec"
)

// Plugin is the implementation under test in the clients suite.
type Plugin struct {
	Driver string   `json:"driver"`
	Path   string   `json:"path"`
	Args   []string `json:"args,omitempty"`
}

// KubeletResult is what playing the kubelet for one image gave.
type KubeletResult struct {
	PluginExit   int    `json:"pluginExit"`
	PluginStderr string `json:"pluginStderr,omitempty"`
	// Problems lists how the plugin's answer breaks its protocol.
	Problems []string `json:"problems,omitempty"`
	// Username is the username the plugin returned for the registry.
	Username   string `json:"username,omitempty"`
	PullError  string `json:"pullError,omitempty"`
	PullStatus int    `json:"pullStatus,omitempty"`
	Digest     string `json:"digest,omitempty"`
}

// PlayKubelet runs the plugin for image as the kubelet does (the exec
// plugin protocol for credential providers: a CredentialProviderRequest on
// stdin; for the exec driver: environment in, Docker config JSON out) and
// pulls the image with the credentials it returned. It runs where the
// registry and IMDS are reachable by their real names (inside azsim exec).
func PlayKubelet(ctx context.Context, p Plugin, env []string, image string) KubeletResult {
	var res KubeletResult
	ref, err := name.ParseReference(image)
	if err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("image %q: %v", image, err))
		return res
	}
	host := ref.Context().RegistryStr()
	var auth *authn.AuthConfig
	switch p.Driver {
	case DriverCredentialProvider:
		auth = runCredentialProvider(ctx, p, env, image, host, &res)
	case DriverExec:
		auth = runExecPlugin(ctx, p, env, host, &res)
	default:
		res.Problems = append(res.Problems, fmt.Sprintf("unknown driver %q", p.Driver))
		return res
	}
	pull(ctx, ref, auth, &res)
	return res
}

func runPlugin(ctx context.Context, p Plugin, env []string, stdin []byte, res *KubeletResult) []byte {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Path, p.Args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res.PluginStderr = strings.TrimSpace(errb.String())
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.PluginExit = ee.ExitCode()
	case err != nil:
		res.PluginExit = -1
		res.Problems = append(res.Problems, fmt.Sprintf("running %s: %v", p.Path, err))
	}
	return out.Bytes()
}

// credentialProviderResponse is the kubelet's view of the plugin's answer.
type credentialProviderResponse struct {
	Kind          string `json:"kind"`
	APIVersion    string `json:"apiVersion"`
	CacheKeyType  string `json:"cacheKeyType"`
	CacheDuration string `json:"cacheDuration"`
	Auth          map[string]struct {
		Username string `json:"username"`
		Password string `json:"password"`
	} `json:"auth"`
}

func runCredentialProvider(ctx context.Context, p Plugin, env []string, image, host string, res *KubeletResult) *authn.AuthConfig {
	req, _ := json.Marshal(map[string]string{"kind": "CredentialProviderRequest",
		"apiVersion": "credentialprovider.kubelet.k8s.io/v1", "image": image})
	out := runPlugin(ctx, p, env, req, res)
	if res.PluginExit != 0 {
		return nil // the kubelet then pulls without credentials
	}
	var r credentialProviderResponse
	if err := json.Unmarshal(out, &r); err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("the response is not JSON: %v", err))
		return nil
	}
	if r.Kind != "CredentialProviderResponse" || r.APIVersion != "credentialprovider.kubelet.k8s.io/v1" {
		res.Problems = append(res.Problems, fmt.Sprintf("kind/apiVersion %q/%q, want CredentialProviderResponse/credentialprovider.kubelet.k8s.io/v1", r.Kind, r.APIVersion))
	}
	switch r.CacheKeyType {
	case "Image", "Registry", "Global":
	default:
		res.Problems = append(res.Problems, fmt.Sprintf("cacheKeyType %q, want Image, Registry or Global", r.CacheKeyType))
	}
	if r.CacheDuration != "" {
		if _, err := time.ParseDuration(r.CacheDuration); err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("cacheDuration %q: %v", r.CacheDuration, err))
		}
	}
	for key, a := range r.Auth {
		if matchesRegistry(key, host) && a.Username != "" {
			res.Username = a.Username
			return &authn.AuthConfig{Username: a.Username, Password: a.Password}
		}
	}
	res.Problems = append(res.Problems, fmt.Sprintf("no credentials for %s in auth (keys %v)", host, keys(r.Auth)))
	return nil
}

// matchesRegistry applies the kubelet's matching of auth keys: a host,
// optionally with *. wildcards per label.
func matchesRegistry(key, host string) bool {
	k, h := strings.Split(strings.ToLower(key), "."), strings.Split(strings.ToLower(host), ".")
	if len(k) != len(h) {
		return false
	}
	for i := range k {
		if k[i] != "*" && k[i] != h[i] {
			return false
		}
	}
	return true
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// runExecPlugin reads a Docker config JSON from the command.
func runExecPlugin(ctx context.Context, p Plugin, env []string, host string, res *KubeletResult) *authn.AuthConfig {
	out := runPlugin(ctx, p, append(env, "AZSIM_REGISTRY="+host), nil, res)
	if res.PluginExit != 0 {
		return nil
	}
	var cfg struct {
		Auths map[string]authn.AuthConfig `json:"auths"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		res.Problems = append(res.Problems, fmt.Sprintf("the output is not a Docker config JSON: %v", err))
		return nil
	}
	a, ok := cfg.Auths[host]
	if !ok {
		res.Problems = append(res.Problems, fmt.Sprintf("no auths entry for %s (keys %v)", host, keys(cfg.Auths)))
		return nil
	}
	if a.Auth != "" && a.Username == "" {
		if b, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
			a.Username, a.Password, _ = strings.Cut(string(b), ":")
		}
	}
	res.Username = a.Username
	return &a
}

// pull fetches the manifest and every layer with the credentials, as the
// container runtime would.
func pull(ctx context.Context, ref name.Reference, auth *authn.AuthConfig, res *KubeletResult) {
	a := authn.Anonymous
	if auth != nil {
		a = authn.FromConfig(*auth)
	}
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithAuth(a), remote.WithTransport(http.DefaultTransport))
	if err == nil {
		var layers []interface{ Compressed() (io.ReadCloser, error) }
		if ls, lerr := img.Layers(); lerr == nil {
			for _, l := range ls {
				layers = append(layers, l)
			}
		} else {
			err = lerr
		}
		for _, l := range layers {
			if err != nil {
				break
			}
			var rc io.ReadCloser
			if rc, err = l.Compressed(); err == nil {
				_, err = io.Copy(io.Discard, rc)
				rc.Close()
			}
		}
	}
	if err != nil {
		res.PullError = err.Error()
		var te *transport.Error
		if errors.As(err, &te) {
			res.PullStatus = te.StatusCode
		}
		return
	}
	d, _ := img.Digest()
	res.Digest = d.String()
}
