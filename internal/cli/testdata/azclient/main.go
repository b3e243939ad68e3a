// Command azclient gets an ACR token with azidentity's default options and
// prints the token's oid; the exec tests run it inside `azsim exec`.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

func main() {
	var cred azcore.TokenCredential
	var err error
	switch os.Args[1] {
	case "managed-identity":
		var opts *azidentity.ManagedIdentityCredentialOptions
		if len(os.Args) > 2 {
			opts = &azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(os.Args[2])}
		}
		cred, err = azidentity.NewManagedIdentityCredential(opts)
	case "workload-identity":
		cred, err = azidentity.NewWorkloadIdentityCredential(nil)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{"https://containerregistry.azure.net/.default"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok.Token, ".")[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	fmt.Println(claims["oid"])
}
