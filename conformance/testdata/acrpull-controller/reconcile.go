package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"
)

func secretName(b binding) string { return "acr-pull-" + b.Metadata.Name }

// inputs hashes what the credential depends on.
func inputs(b binding) string {
	spec, _ := json.Marshal(b.Spec)
	sum := sha256.Sum224(spec)
	return hex.EncodeToString(sum[:])
}

func reconcile(ctx context.Context, k *kube, azure *http.Client, b binding) error {
	ns, name := b.Metadata.Namespace, b.Metadata.Name
	fresh, err := secretIsFresh(ctx, k, b)
	if err != nil {
		return err
	}
	if fresh {
		return ensurePullSecret(ctx, k, b)
	}
	saName := b.Spec.ServiceAccountName
	var sa serviceAccount
	if err := k.do(ctx, http.MethodGet, "/api/v1/namespaces/"+ns+"/serviceaccounts/"+saName, "", nil, &sa); err != nil {
		if errors.Is(err, errNotFound) {
			return fmt.Errorf("service account %q not found", saName)
		}
		return err
	}
	entra, err := entraToken(ctx, k, azure, b, sa)
	if err != nil {
		return err
	}
	token, err := acrToken(ctx, azure, b, entra)
	if err != nil {
		return err
	}
	exp, err := jwtExp(token)
	if err != nil {
		return fmt.Errorf("failed to parse ACR access token: %v", err)
	}
	if *wrong == "entra-token" {
		token = entra
	}
	now := time.Now().UTC()
	if err := writeSecret(ctx, k, b, token, exp, now); err != nil {
		return err
	}
	if err := ensurePullSecret(ctx, k, b); err != nil {
		return err
	}
	log.Printf("%s/%s: refreshed, token expires %s", ns, name, exp.UTC().Format(time.RFC3339))
	return k.patchStatus(ctx, b, map[string]any{"error": nil,
		"lastTokenRefreshTime": now.Format(time.RFC3339), "tokenExpirationTime": exp.UTC().Format(time.RFC3339)})
}

// secretIsFresh reports whether the binding's secret exists, was written for
// its current inputs and is not due for a refresh.
func secretIsFresh(ctx context.Context, k *kube, b binding) (bool, error) {
	var secret struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	err := k.do(ctx, http.MethodGet, "/api/v1/namespaces/"+b.Metadata.Namespace+"/secrets/"+secretName(b), "", nil, &secret)
	if err != nil && !errors.Is(err, errNotFound) {
		return false, err
	}
	if err != nil || secret.Metadata.Annotations[annInputs] != inputs(b) || b.Status.Error != "" {
		return false, nil
	}
	refresh, e1 := time.Parse(time.RFC3339, secret.Metadata.Annotations[annRefresh])
	expiry, e2 := time.Parse(time.RFC3339, secret.Metadata.Annotations[annExpiry])
	return e1 == nil && e2 == nil && time.Now().Before(refresh.Add(time.Duration(float64(expiry.Sub(refresh))**fraction))), nil
}

// entraToken gets the ARM token of the binding's identity: by federation
// with a service-account token, or from IMDS.
func entraToken(ctx context.Context, k *kube, azure *http.Client, b binding, sa serviceAccount) (string, error) {
	switch a := b.Spec.Auth; {
	case a.WorkloadIdentity != nil:
		return workloadIdentityToken(ctx, k, azure, b, sa)
	case a.ManagedIdentity != nil:
		q := url.Values{"api-version": {"2018-02-01"}, "resource": {armResource}}
		if a.ManagedIdentity.ClientID != "" {
			q.Set("client_id", a.ManagedIdentity.ClientID)
		} else {
			q.Set("msi_res_id", a.ManagedIdentity.ResourceID)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(*imdsURL, "/")+"/metadata/identity/oauth2/token?"+q.Encode(), nil)
		if err != nil {
			return "", err
		}
		req.Header.Set("Metadata", "true")
		var out struct {
			AccessToken string `json:"access_token"`
		}
		if err := send(azure, req, &out); err != nil {
			return "", fmt.Errorf("failed to retrieve ARM token: %v", err)
		}
		return out.AccessToken, nil
	default:
		return "", errors.New("spec.auth: one of managedIdentity or workloadIdentity is required")
	}
}

func workloadIdentityToken(ctx context.Context, k *kube, azure *http.Client, b binding, sa serviceAccount) (string, error) {
	ns, saName := b.Metadata.Namespace, b.Spec.ServiceAccountName
	client, tenant := b.Spec.Auth.WorkloadIdentity.ClientID, b.Spec.Auth.WorkloadIdentity.TenantID
	if client == "" {
		client = sa.Metadata.Annotations["azure.workload.identity/client-id"]
		if client == "" {
			return "", fmt.Errorf("service account %s missing azure.workload.identity/client-id annotation", saName)
		}
	}
	if tenant == "" {
		tenant = sa.Metadata.Annotations["azure.workload.identity/tenant-id"]
		if tenant == "" {
			return "", fmt.Errorf("service account %s missing azure.workload.identity/tenant-id annotation", saName)
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
		return "", fmt.Errorf("failed to mint service account token: %v", err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {client}, "scope": {armScope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {tr.Status.Token}}
	if err := postForm(ctx, azure, strings.TrimRight(*authority, "/")+"/"+tenant+"/oauth2/v2.0/token", form, nil, &out); err != nil {
		return "", fmt.Errorf("failed to retrieve ARM token: %v", err)
	}
	return out.AccessToken, nil
}

// acrToken exchanges the Entra token at ACR: the refresh token, or the
// access token of spec.acr.scope when one is set.
func acrToken(ctx context.Context, azure *http.Client, b binding, entra string) (string, error) {
	server := b.Spec.ACR.Server
	var ex struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := postForm(ctx, azure, "https://"+server+"/oauth2/exchange", url.Values{"grant_type": {"access_token"}, "service": {server}, "access_token": {entra}},
		url.Values{"api-version": {"2021-07-01"}}, &ex); err != nil {
		return "", fmt.Errorf("failed to retrieve ACR token: %v", err)
	}
	if ex.RefreshToken == "" {
		return "", errors.New("failed to retrieve ACR token: got an empty response")
	}
	if b.Spec.ACR.Scope == "" {
		return ex.RefreshToken, nil
	}
	var at struct {
		AccessToken string `json:"access_token"`
	}
	if err := postForm(ctx, azure, "https://"+server+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "service": {server},
		"scope": {b.Spec.ACR.Scope}, "refresh_token": {ex.RefreshToken}}, url.Values{"api-version": {"2021-07-01"}}, &at); err != nil {
		return "", fmt.Errorf("failed to retrieve ACR token: %v", err)
	}
	return at.AccessToken, nil
}

// writeSecret applies the binding's kubernetes.io/dockerconfigjson secret.
func writeSecret(ctx context.Context, k *kube, b binding, token string, exp, now time.Time) error {
	ns, name, server := b.Metadata.Namespace, b.Metadata.Name, b.Spec.ACR.Server
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
	return nil
}
