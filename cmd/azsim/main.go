// Command azsim is the offline simulator and conformance harness for Entra
// ID, IMDS, the AKS OIDC issuer and ACR.
package main

import (
	"os"

	"github.com/azsim/azsim/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
