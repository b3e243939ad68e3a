package conformance

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/azsim/azsim/internal/platform/jwtx"
)

// apbStatus is what the harness reads of a binding.
type apbStatus struct {
	LastTokenRefreshTime string `json:"lastTokenRefreshTime"`
	TokenExpirationTime  string `json:"tokenExpirationTime"`
	Error                string `json:"error"`
}

func (d *apb) createBinding(c *C, name, sa, scope, server, auth string) {
	if server == "" {
		server = d.server
	}
	if auth == "" {
		auth = fmt.Sprintf("workloadIdentity: {serviceAccountRef: %s}", sa)
	}
	d.mustKubectl(c, fmt.Sprintf(`apiVersion: acrpull.microsoft.com/v1beta2
kind: AcrPullBinding
metadata: {name: %s, namespace: %s}
spec:
  acr: {server: %s, scope: %q, environment: PublicCloud}
  auth: {%s}
  serviceAccountName: %s
`, name, d.cfg.Namespace, server, scope, auth, sa), "apply", "-f", "-")
	c.Logf("created AcrPullBinding %s (server %s, scope %s, SA %s, auth %s)", name, server, scope, sa, auth)
}

func (d *apb) status(c *C, name string) apbStatus {
	var b struct {
		Status apbStatus `json:"status"`
	}
	out := d.mustKubectl(c, "", "get", "acrpullbinding", "-n", d.cfg.Namespace, name, "-o", "json")
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		c.Broken("AcrPullBinding %s: %v", name, err)
	}
	return b.Status
}

// wait polls f every 2 s until it reports done or the timeout passes.
func wait(c *C, timeout time.Duration, f func() (bool, string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	for {
		ok, why := f()
		if ok || time.Now().After(deadline) {
			return ok, why
		}
		select {
		case <-c.Context().Done():
			return false, why + " (case timeout)"
		case <-time.After(2 * time.Second):
		}
	}
}

// waitStatus waits until the binding reports a refresh (ok) or an error.
// A binding that must fail and reports a refresh fails at once; one that
// must succeed gets 30 s after its first error to recover.
func (d *apb) waitStatus(c *C, name string, wantError bool) apbStatus {
	var st apbStatus
	var firstErr time.Time
	ok, _ := wait(c, 90*time.Second, func() (bool, string) {
		st = d.status(c, name)
		if wantError {
			return st.Error != "" || st.LastTokenRefreshTime != "", ""
		}
		if st.Error != "" && firstErr.IsZero() {
			firstErr = time.Now()
		}
		return (st.Error == "" && st.LastTokenRefreshTime != "" && st.TokenExpirationTime != "") ||
			(!firstErr.IsZero() && time.Since(firstErr) > 30*time.Second), ""
	})
	c.Logf("status of %s: %+v", name, st)
	switch {
	case wantError && st.Error == "":
		c.Fatalf("AcrPullBinding %s: want status.error, got none (status %+v)", name, st)
	case !wantError && (!ok || st.Error != "" || st.LastTokenRefreshTime == ""):
		c.Fatalf("AcrPullBinding %s: no successful refresh (status %+v)", name, st)
	}
	return st
}

// pullSecret is what the harness reads of acr-pull-<binding>.
type pullSecret struct {
	Type     string
	Labels   map[string]string
	Username string
	Password string
	Auth     string
	Owner    string
	Servers  []string
}

func (d *apb) secret(c *C, binding string) (*pullSecret, bool) {
	out, err := d.kubectl(c.Context(), "", "get", "secret", "-n", d.cfg.Namespace, apbSecretPrefix+binding, "-o", "json")
	if err != nil {
		if strings.Contains(err.Error(), "NotFound") {
			return nil, false
		}
		c.Broken("%v", err)
	}
	var s struct {
		Type     string `json:"type"`
		Metadata struct {
			Labels          map[string]string `json:"labels"`
			OwnerReferences []struct {
				Kind, Name string
			} `json:"ownerReferences"`
		} `json:"metadata"`
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		c.Broken("secret: %v", err)
	}
	ps := &pullSecret{Type: s.Type, Labels: s.Metadata.Labels}
	for _, o := range s.Metadata.OwnerReferences {
		if o.Kind == "AcrPullBinding" {
			ps.Owner = o.Name
		}
	}
	raw, _ := base64.StdEncoding.DecodeString(s.Data[".dockerconfigjson"])
	var cfg struct {
		Auths map[string]struct{ Username, Password, Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		c.Failf("secret %s: .dockerconfigjson is not a Docker config JSON: %v", apbSecretPrefix+binding, err)
		return ps, true
	}
	for srv, a := range cfg.Auths {
		ps.Servers = append(ps.Servers, srv)
		if srv == d.server || srv == "https://"+d.server {
			ps.Username, ps.Password, ps.Auth = a.Username, a.Password, a.Auth
		}
	}
	return ps, true
}

func (d *apb) saPullSecrets(c *C, sa string) []string {
	out := d.mustKubectl(c, "", "get", "serviceaccount", "-n", d.cfg.Namespace, sa, "-o", "jsonpath={.imagePullSecrets[*].name}")
	return strings.Fields(out)
}

// checkSecret asserts the pull secret's shape and that it holds an ACR
// token whose exp is the status's tokenExpirationTime; it returns the token.
func (d *apb) checkSecret(c *C, binding, sa string, st apbStatus) string {
	ps, ok := d.secret(c, binding)
	c.Must(ok, "secret %s%s does not exist", apbSecretPrefix, binding)
	c.Equal("secret type", "kubernetes.io/dockerconfigjson", ps.Type)
	c.Equal("secret label acr.microsoft.com/binding", binding, ps.Labels["acr.microsoft.com/binding"])
	c.Equal("secret owner (controller reference)", binding, ps.Owner)
	c.Must(ps.Password != "", "the secret has no auths entry for %s (has %v)", d.server, ps.Servers)
	c.Equal("username", apbPullUser, ps.Username)
	if ps.Auth != "" {
		c.Equal("auth", base64.StdEncoding.EncodeToString([]byte(ps.Username+":"+ps.Password)), ps.Auth)
	}
	tok, err := jwtx.Parse(ps.Password)
	c.Must(err == nil, "the password is not a JWT: %v", err)
	var claims struct {
		Iss string   `json:"iss"`
		Aud any      `json:"aud"`
		Exp *float64 `json:"exp"`
	}
	c.Must(tok.Claims(&claims) == nil, "the password's claims do not decode")
	c.Check(!strings.Contains(claims.Iss, "login.microsoftonline.com") && !strings.Contains(claims.Iss, "sts.windows.net"),
		"the password is an Entra token (iss %s), want an ACR token from /oauth2/token", claims.Iss)
	c.Check(fmt.Sprint(claims.Aud) == d.server, "the password's aud is %v, want the registry %s (an ACR token)", claims.Aud, d.server)
	if c.Check(claims.Exp != nil, "the ACR token has no exp") {
		exp := time.Unix(int64(*claims.Exp), 0).UTC()
		got, err := time.Parse(time.RFC3339, st.TokenExpirationTime)
		c.Check(err == nil && got.Sub(exp).Abs() <= time.Second,
			"status.tokenExpirationTime %s, want the token's exp %s", st.TokenExpirationTime, exp.Format(time.RFC3339))
	}
	c.Check(contains(d.saPullSecrets(c, sa), apbSecretPrefix+binding), "service account %s imagePullSecrets %v lack %s%s",
		sa, d.saPullSecrets(c, sa), apbSecretPrefix, binding)
	return ps.Password
}

// pull runs a pod with sa and image (imagePullPolicy Always, no
// imagePullSecrets of its own) and reports whether the kubelet pulled it.
func (d *apb) pull(c *C, pod, sa, image string, want bool) {
	d.mustKubectl(c, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s}
spec:
  serviceAccountName: %s
  restartPolicy: Never
  containers:
  - {name: c, image: %s, imagePullPolicy: Always}
`, pod, d.cfg.Namespace, sa, image), "apply", "-f", "-")
	defer func() {
		_, _ = d.kubectl(context.WithoutCancel(c.Context()), "", "delete", "pod", "-n", d.cfg.Namespace, pod, "--wait=false")
	}()
	var phase, reason string
	wait(c, 2*time.Minute, func() (bool, string) {
		out, err := d.kubectl(c.Context(), "", "get", "pod", "-n", d.cfg.Namespace, pod, "-o",
			`jsonpath={.status.phase} {.status.containerStatuses[0].state.waiting.reason}`)
		if err != nil {
			return false, err.Error()
		}
		phase, reason, _ = strings.Cut(strings.TrimSpace(out), " ")
		return phase == "Succeeded" || phase == "Running" || phase == "Failed" || reason == "ErrImagePull" || reason == "ImagePullBackOff", ""
	})
	ev, _ := d.kubectl(c.Context(), "", "get", "events", "-n", d.cfg.Namespace, "--field-selector", "involvedObject.name="+pod,
		"-o", `jsonpath={range .items[*]}{.type} {.reason}: {.message}{"\n"}{end}`)
	c.Logf("pod %s: phase %s, waiting %q; events:\n%s", pod, phase, reason, ev)
	pulled := strings.Contains(ev, "Successfully pulled image") || phase == "Running" || phase == "Succeeded"
	switch {
	case want && !pulled:
		c.Failf("pod %s (service account %s) did not pull %s: phase %s, waiting %q", pod, sa, image, phase, reason)
	case !want && pulled:
		c.Failf("pod %s (service account %s) pulled %s, want the pull denied", pod, sa, image)
	case !want && reason != "ErrImagePull" && reason != "ImagePullBackOff":
		c.Failf("pod %s: want ErrImagePull/ImagePullBackOff, got phase %s, waiting %q", pod, phase, reason)
	}
}
