// Command acrpull-controller is a small reference implementation of the
// acrpull.microsoft.com/v1beta2 AcrPullBinding API (the Azure/msi-acrpull
// controller's storage version), kept as a test fixture for the conformance
// driver "acrpullbinding". It uses only the standard library: raw REST calls
// to the API server with the in-cluster service account, polling instead of
// watches.
//
// For each binding it mints a service-account token (TokenRequest, audience
// api://AzureCRTokenExchange) for spec.serviceAccountName, exchanges it at
// Entra (client_assertion, ARM scope) — or asks IMDS for the managed
// identity — exchanges the Entra token at ACR (/oauth2/exchange, then the
// scoped /oauth2/token), writes the kubernetes.io/dockerconfigjson secret
// acr-pull-<binding>, adds it to the service account's imagePullSecrets and
// reports lastTokenRefreshTime / tokenExpirationTime / error in the status.
// It refreshes at half the token's lifetime, when the secret is missing or
// when the binding's inputs change.
//
// -wrong makes it deliberately non-conforming, for the driver's own tests:
// "audience" requests the token with api://AzureADTokenExchange;
// "entra-token" writes the Entra token instead of the ACR token;
// "no-status-error" never reports errors in the status.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

const (
	group       = "acrpull.microsoft.com"
	version     = "v1beta2"
	pullUser    = "00000000-0000-0000-0000-000000000000"
	armScope    = "https://management.core.windows.net//.default"
	armResource = "https://management.core.windows.net/"
	labelKey    = "acr.microsoft.com/binding"
	annExpiry   = "acr.microsoft.com/token.expiry"
	annRefresh  = "acr.microsoft.com/token.refresh"
	annInputs   = "acr.microsoft.com/token.inputs"
	saDir       = "/var/run/secrets/kubernetes.io/serviceaccount"
)

var (
	audience  = flag.String("service-account-token-audience", "api://AzureCRTokenExchange", "audience of the TokenRequest")
	fraction  = flag.Float64("ttl-rotation-fraction", 0.5, "refresh point as a fraction of the token's lifetime")
	interval  = flag.Duration("interval", 2*time.Second, "polling interval")
	retry     = flag.Duration("retry", 10*time.Second, "retry interval after a failure")
	authority = flag.String("authority", "https://login.microsoftonline.com", "Entra authority (PublicCloud)")
	imdsURL   = flag.String("imds", "http://169.254.169.254", "IMDS base URL")
	wrong     = flag.String("wrong", "", "deliberately wrong behaviour: audience, entra-token or no-status-error")
)

type binding struct {
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
		UID       string `json:"uid"`
	} `json:"metadata"`
	Spec struct {
		ACR struct {
			Server      string `json:"server"`
			Scope       string `json:"scope"`
			Environment string `json:"environment"`
		} `json:"acr"`
		Auth struct {
			ManagedIdentity *struct {
				ClientID   string `json:"clientID"`
				ResourceID string `json:"resourceID"`
			} `json:"managedIdentity"`
			WorkloadIdentity *struct {
				ServiceAccountRef string `json:"serviceAccountRef"`
				ClientID          string `json:"clientID"`
				TenantID          string `json:"tenantID"`
			} `json:"workloadIdentity"`
		} `json:"auth"`
		ServiceAccountName string `json:"serviceAccountName"`
	} `json:"spec"`
	Status struct {
		Error string `json:"error"`
	} `json:"status"`
}

type serviceAccount struct {
	Metadata struct {
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	ImagePullSecrets []struct {
		Name string `json:"name"`
	} `json:"imagePullSecrets"`
}

type kube struct {
	host  string
	token string
	http  *http.Client
}

func main() {
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	k, err := inCluster()
	if err != nil {
		log.Fatal(err)
	}
	azure := &http.Client{Timeout: 30 * time.Second}
	failedAt := map[string]time.Time{}
	for ctx := context.Background(); ; time.Sleep(*interval) {
		var list struct{ Items []binding }
		if err := k.do(ctx, http.MethodGet, "/apis/"+group+"/"+version+"/acrpullbindings", "", nil, &list); err != nil {
			log.Printf("listing bindings: %v", err)
			continue
		}
		for _, b := range list.Items {
			key := b.Metadata.Namespace + "/" + b.Metadata.Name
			if t, ok := failedAt[key]; ok && time.Since(t) < *retry {
				continue
			}
			delete(failedAt, key)
			if err := reconcile(ctx, k, azure, b); err != nil {
				failedAt[key] = time.Now()
				log.Printf("%s: %v", key, err)
				if *wrong == "no-status-error" {
					continue
				}
				if err := k.patchStatus(ctx, b, map[string]any{"error": err.Error()}); err != nil {
					log.Printf("%s: status: %v", key, err)
				}
			}
		}
	}
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

func secretName(b binding) string { return "acr-pull-" + b.Metadata.Name }

// inputs hashes what the credential depends on.
func inputs(b binding) string {
	spec, _ := json.Marshal(b.Spec)
	sum := sha256.Sum224(spec)
	return hex.EncodeToString(sum[:])
}

func reconcile(ctx context.Context, k *kube, azure *http.Client, b binding) error {
	ns, name := b.Metadata.Namespace, b.Metadata.Name
	var secret struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	err := k.do(ctx, http.MethodGet, "/api/v1/namespaces/"+ns+"/secrets/"+secretName(b), "", nil, &secret)
	if err != nil && !errors.Is(err, errNotFound) {
		return err
	}
	if err == nil && secret.Metadata.Annotations[annInputs] == inputs(b) && b.Status.Error == "" {
		refresh, e1 := time.Parse(time.RFC3339, secret.Metadata.Annotations[annRefresh])
		expiry, e2 := time.Parse(time.RFC3339, secret.Metadata.Annotations[annExpiry])
		if e1 == nil && e2 == nil && time.Now().Before(refresh.Add(time.Duration(float64(expiry.Sub(refresh))**fraction))) {
			return ensurePullSecret(ctx, k, b) // fresh
		}
	}
	saName := b.Spec.ServiceAccountName
	var sa serviceAccount
	if err := k.do(ctx, http.MethodGet, "/api/v1/namespaces/"+ns+"/serviceaccounts/"+saName, "", nil, &sa); err != nil {
		if errors.Is(err, errNotFound) {
			return fmt.Errorf("service account %q not found", saName)
		}
		return err
	}
	var entra string
	switch a := b.Spec.Auth; {
	case a.WorkloadIdentity != nil:
		client, tenant := a.WorkloadIdentity.ClientID, a.WorkloadIdentity.TenantID
		if client == "" {
			client = sa.Metadata.Annotations["azure.workload.identity/client-id"]
			if client == "" {
				return fmt.Errorf("service account %s missing azure.workload.identity/client-id annotation", saName)
			}
		}
		if tenant == "" {
			tenant = sa.Metadata.Annotations["azure.workload.identity/tenant-id"]
			if tenant == "" {
				return fmt.Errorf("service account %s missing azure.workload.identity/tenant-id annotation", saName)
			}
		}
		aud := *audience
		if *wrong == "audience" {
			aud = "api://AzureADTokenExchange"
		}
		var tr struct {
			Status struct {
				Token string `json:"token"`
			} `json:"status"`
		}
		if err := k.do(ctx, http.MethodPost, "/api/v1/namespaces/"+ns+"/serviceaccounts/"+saName+"/token", "",
			map[string]any{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": map[string]any{"audiences": []string{aud}}}, &tr); err != nil {
			return fmt.Errorf("failed to mint service account token: %v", err)
		}
		var out struct {
			AccessToken string `json:"access_token"`
		}
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "scope": {armScope},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {tr.Status.Token}}
		if err := postForm(ctx, azure, strings.TrimRight(*authority, "/")+"/"+tenant+"/oauth2/v2.0/token", form, nil, &out); err != nil {
			return fmt.Errorf("failed to retrieve ARM token: %v", err)
		}
		entra = out.AccessToken
	case a.ManagedIdentity != nil:
		q := url.Values{"api-version": {"2018-02-01"}, "resource": {armResource}}
		if a.ManagedIdentity.ClientID != "" {
			q.Set("client_id", a.ManagedIdentity.ClientID)
		} else {
			q.Set("msi_res_id", a.ManagedIdentity.ResourceID)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(*imdsURL, "/")+"/metadata/identity/oauth2/token?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("Metadata", "true")
		var out struct {
			AccessToken string `json:"access_token"`
		}
		if err := send(azure, req, &out); err != nil {
			return fmt.Errorf("failed to retrieve ARM token: %v", err)
		}
		entra = out.AccessToken
	default:
		return errors.New("spec.auth: one of managedIdentity or workloadIdentity is required")
	}

	server := b.Spec.ACR.Server
	var ex struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := postForm(ctx, azure, "https://"+server+"/oauth2/exchange", url.Values{"grant_type": {"access_token"}, "service": {server}, "access_token": {entra}},
		url.Values{"api-version": {"2021-07-01"}}, &ex); err != nil {
		return fmt.Errorf("failed to retrieve ACR token: %v", err)
	}
	if ex.RefreshToken == "" {
		return errors.New("failed to retrieve ACR token: got an empty response")
	}
	token := ex.RefreshToken
	if b.Spec.ACR.Scope != "" {
		var at struct {
			AccessToken string `json:"access_token"`
		}
		if err := postForm(ctx, azure, "https://"+server+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "service": {server},
			"scope": {b.Spec.ACR.Scope}, "refresh_token": {ex.RefreshToken}}, url.Values{"api-version": {"2021-07-01"}}, &at); err != nil {
			return fmt.Errorf("failed to retrieve ACR token: %v", err)
		}
		token = at.AccessToken
	}
	exp, err := jwtExp(token)
	if err != nil {
		return fmt.Errorf("failed to parse ACR access token: %v", err)
	}
	if *wrong == "entra-token" {
		token = entra
	}
	now := time.Now().UTC()
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{server: map[string]string{
		"username": pullUser, "password": token, "email": "msi-acrpull@azurecr.io",
		"auth": base64.StdEncoding.EncodeToString([]byte(pullUser + ":" + token))}}})
	sec := map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
		"metadata": map[string]any{
			"name": secretName(b), "namespace": ns,
			"labels":      map[string]string{labelKey: name},
			"annotations": map[string]string{annExpiry: exp.UTC().Format(time.RFC3339), annRefresh: now.Format(time.RFC3339), annInputs: inputs(b)},
			"ownerReferences": []map[string]any{{"apiVersion": group + "/" + version, "kind": "AcrPullBinding", "name": name,
				"uid": b.Metadata.UID, "controller": true, "blockOwnerDeletion": true}},
		},
		"data": map[string]string{".dockerconfigjson": base64.StdEncoding.EncodeToString(cfg)},
	}
	if err := k.do(ctx, http.MethodPatch, "/api/v1/namespaces/"+ns+"/secrets/"+secretName(b)+"?fieldManager=acrpull-fixture&force=true",
		"application/apply-patch+yaml", sec, nil); err != nil {
		return fmt.Errorf("failed to write ACR dockercfg: %v", err)
	}
	if err := ensurePullSecret(ctx, k, b); err != nil {
		return err
	}
	log.Printf("%s/%s: refreshed, token expires %s", ns, name, exp.UTC().Format(time.RFC3339))
	return k.patchStatus(ctx, b, map[string]any{"error": nil,
		"lastTokenRefreshTime": now.Format(time.RFC3339), "tokenExpirationTime": exp.UTC().Format(time.RFC3339)})
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

func postForm(ctx context.Context, c *http.Client, u string, form, query url.Values, out any) error {
	if query != nil {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	return send(c, req, out)
}

func send(c *http.Client, req *http.Request, out any) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Host+req.URL.Path, resp.Status, bytes.TrimSpace(data))
	}
	return json.Unmarshal(data, out)
}

// jwtExp reads the exp claim without verifying the token, as acrpull does.
func jwtExp(tok string) (time.Time, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, err
	}
	var c struct {
		Exp *float64 `json:"exp"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Exp == nil {
		return time.Time{}, fmt.Errorf("no numeric exp claim (%v)", err)
	}
	return time.Unix(int64(*c.Exp), 0), nil
}
