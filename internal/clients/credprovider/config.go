package credprovider

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Config is the azure.json subset the provider reads (clients.md 3.1).
type Config struct {
	TenantID                    string `json:"tenantId"`
	UseManagedIdentityExtension bool   `json:"useManagedIdentityExtension"`
	// UserAssignedIdentityID is a client ID, or an ARM resource ID when it
	// contains /subscriptions/.
	UserAssignedIdentityID string `json:"userAssignedIdentityID"`
	AADClientID            string `json:"aadClientId"`
	AADClientSecret        string `json:"aadClientSecret"`
}

// LoadConfig reads an azure.json file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config %q: %w", path, err)
	}
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("reading config %q: %w", path, err)
	}
	return &c, c.validate()
}

func (c *Config) validate() error {
	var errs []error
	if c.TenantID == "" {
		errs = append(errs, errors.New("tenantId is required"))
	}
	if !c.UseManagedIdentityExtension && (c.AADClientID == "" || c.AADClientSecret == "") {
		errs = append(errs, errors.New("without useManagedIdentityExtension, aadClientId and aadClientSecret are required"))
	}
	return errors.Join(errs...)
}

// identityIsResourceID reports whether the configured identity is an ARM ID.
func (c *Config) identityIsResourceID() bool {
	return strings.Contains(strings.ToLower(c.UserAssignedIdentityID), "/subscriptions/")
}
