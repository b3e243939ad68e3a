package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/azsim/azsim/internal/clients/credprovider"
)

func (e *env) credentialProviderCmd() *cobra.Command {
	var cacheDir string
	cmd := &cobra.Command{
		Use:   "credential-provider [AZURE_JSON]",
		Short: "Kubelet image credential provider for ACR (exec plugin protocol)",
		Long: `credential-provider reads a CredentialProviderRequest (credentialprovider.kubelet.k8s.io/v1)
on stdin and writes a CredentialProviderResponse: for an ACR image, 00000000-0000-0000-0000-000000000000
and an ACR refresh token obtained through IMDS with the kubelet identity of AZURE_JSON
(default /etc/kubernetes/azure.json), or through a federated client assertion when the kubelet
passes a service-account token.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/etc/kubernetes/azure.json"
			if len(args) == 1 {
				path = args[0]
			}
			cfg, err := credprovider.LoadConfig(path)
			if err != nil {
				return usageErr("%v", err)
			}
			req, err := credprovider.ReadRequest(e.stdin)
			if err != nil {
				return usageErr("%v", err)
			}
			p := &credprovider.Provider{Config: cfg}
			if cacheDir != "" {
				p.Cache = &credprovider.Cache{Dir: cacheDir}
			}
			resp, err := p.Get(cmd.Context(), req)
			if err != nil {
				return failed(err)
			}
			return json.NewEncoder(e.stdout).Encode(resp)
		},
	}
	cmd.Flags().StringVar(&cacheDir, "cache-dir", "", "keep responses here between invocations, per registry and identity")
	return cmd
}
