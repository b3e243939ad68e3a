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
	"context"
	"flag"
	"log"
	"net/http"
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
