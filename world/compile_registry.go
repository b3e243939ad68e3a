package world

import (
	"fmt"
	"net"
	"regexp"
	"time"
)

var (
	registryNameRE = regexp.MustCompile(`^[A-Za-z0-9]{5,50}$`)
	repoRE         = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	tagRE          = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

func (c *compiler) registries() {
	seen := map[string]bool{}
	for i := range c.w.Registries {
		r := &c.w.Registries[i]
		path := fmt.Sprintf("registries[%d]", i)
		named := c.unique(seen, path, r.Name)
		validName := r.Name != "" && registryNameRE.MatchString(r.Name)
		if r.Name != "" && !validName {
			c.add(path+".name", "%q must be 5-50 letters and digits", r.Name)
		}
		g, s := c.group(path+".resourceGroup", r.ResourceGroup)
		explicit := r.LoginServer != ""
		if !explicit {
			r.LoginServer = lower(r.Name) + ".azurecr.io"
		}
		r.LoginServer = lower(r.LoginServer)
		if named && (explicit || validName) {
			c.registryHosts(path, r)
		}
		switch r.RoleAssignmentMode {
		case "":
			r.RoleAssignmentMode = ModeLegacy
		case ModeLegacy, ModeABAC:
		default:
			c.add(path+".roleAssignmentMode", "must be %s or %s, got %q", ModeLegacy, ModeABAC, r.RoleAssignmentMode)
		}
		if r.AdminUser != nil && r.AdminUser.Enabled && r.AdminUser.Password == "" {
			c.add(path+".adminUser.password", "is required when the admin user is enabled")
		}
		c.registryTokens(path+".tokens", r.Tokens)
		c.images(path, r.Images)
		if g == nil {
			continue
		}
		ri := &RegistryInfo{Registry: *r, SubscriptionID: s.ID, TenantID: c.tenantID(path, s.Tenant),
			ResourceID: fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerRegistry/registries/%s", s.ID, g.Name, r.Name)}
		c.ix.Registries = append(c.ix.Registries, ri)
		c.ix.registryByHost[r.LoginServer] = ri
		c.ix.registryByHost[lower(r.Name)] = ri
	}
}

// registryHosts checks the registry's login server: a host name
// (lower case, no port: protocols.md 3.8) that no other fake serves and
// that names one registry. Index.Registry finds a registry by login server
// or by name, so neither may be another registry's.
func (c *compiler) registryHosts(path string, r *Registry) {
	lp := path + ".loginServer"
	if r.Name != "" {
		c.claim(c.registryHostClaims, lower(r.Name), r.Name, path+".name", path, "name")
	}
	switch {
	case c.reservedHost(lp, r.LoginServer, r.LoginServer):
		return
	case net.ParseIP(r.LoginServer) != nil:
		c.add(lp, "%q must be a host name, not an IP address", r.LoginServer)
		return
	case len(r.LoginServer) > 253 || !hostRE.MatchString(r.LoginServer):
		c.add(lp, "%q must be a host name, without scheme, port or path (protocols.md 3.8)", r.LoginServer)
		return
	}
	if first, ok := c.issuerHosts[r.LoginServer]; ok {
		c.add(lp, "%q is already the %s of %s", r.LoginServer, first.what, first.owner)
		return
	}
	c.claim(c.registryHostClaims, r.LoginServer, r.LoginServer, lp, path, "login server")
}

func (c *compiler) registryTokens(path string, t *RegistryTokens) {
	if t == nil {
		return
	}
	for _, f := range []struct {
		name string
		d    Duration
	}{{"refreshTokenLifetime", t.RefreshTokenLifetime}, {"accessTokenLifetime", t.AccessTokenLifetime}} {
		switch {
		case f.d < 0:
			c.add(path+"."+f.name, "must not be negative")
		case time.Duration(f.d) > MaxTokenLifetime:
			c.add(path+"."+f.name, "must be at most %s, got %s", MaxTokenLifetime, time.Duration(f.d))
		}
	}
}
