package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

type kube struct {
	host  string
	token string
	http  *http.Client
}

func inCluster() (*kube, error) {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" {
		return nil, errors.New("not in a cluster: KUBERNETES_SERVICE_HOST is empty")
	}
	tok, err := os.ReadFile(saDir + "/token")
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(saDir + "/ca.crt")
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	return &kube{host: "https://" + host + ":" + port, token: strings.TrimSpace(string(tok)),
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}}, nil
}

// errNotFound is a 404 from the API server.
var errNotFound = errors.New("not found")

func (k *kube) do(ctx context.Context, method, path, contentType string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, k.host+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+k.token)
	req.Header.Set("Accept", "application/json")
	if contentType == "" {
		contentType = "application/json"
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := k.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s %s: %w", method, path, errNotFound)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (k *kube) patchStatus(ctx context.Context, b binding, status map[string]any) error {
	return k.do(ctx, http.MethodPatch, fmt.Sprintf("/apis/%s/%s/namespaces/%s/acrpullbindings/%s/status", group, version, b.Metadata.Namespace, b.Metadata.Name),
		"application/merge-patch+json", map[string]any{"status": status}, nil)
}

// ensurePullSecret adds the pull secret to the service account's
// imagePullSecrets.
func ensurePullSecret(ctx context.Context, k *kube, b binding) error {
	path := "/api/v1/namespaces/" + b.Metadata.Namespace + "/serviceaccounts/" + b.Spec.ServiceAccountName
	var sa serviceAccount
	if err := k.do(ctx, http.MethodGet, path, "", nil, &sa); err != nil {
		return err
	}
	var names []map[string]string
	for _, s := range sa.ImagePullSecrets {
		if s.Name == secretName(b) {
			return nil
		}
		names = append(names, map[string]string{"name": s.Name})
	}
	names = append(names, map[string]string{"name": secretName(b)})
	return k.do(ctx, http.MethodPatch, path, "application/merge-patch+json", map[string]any{"imagePullSecrets": names}, nil)
}
