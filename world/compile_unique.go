package world

import (
	"net"
	"regexp"
	"strconv"
)

// IMDSHost is the link-local address at which clients reach IMDS
// (protocols.md 2.1); no other fake may answer on it.
const IMDSHost = "169.254.169.254"

var (
	// hostRE is a DNS host name: dot-separated labels of letters, digits
	// and inner hyphens (lower case, as login servers are: protocols.md 3.8).
	hostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
	// tenantDomainRE is what azidentity accepts as a tenant before it sends
	// a request (protocols.md 1.1).
	tenantDomainRE = regexp.MustCompile(`^[A-Za-z0-9.-]+$`)
)

// claim is the first object that holds a value which must be unique: what
// the value is to it ("login server") and its path ("registries[0]").
type claim struct{ what, owner string }

// claims maps a normalised value to its first holder.
type claims map[string]claim

// claim records that owner holds key as its what, or reports at path that
// another object already does; value is key as the world spells it. An
// object may hold one value in two roles (a registry whose login server is
// its name) without conflict.
func (c *compiler) claim(cl claims, key, value, path, owner, what string) bool {
	if first, ok := cl[key]; ok && first.owner != owner {
		c.add(path, "%q is already the %s of %s", value, first.what, first.owner)
		return false
	}
	if _, ok := cl[key]; !ok {
		cl[key] = claim{what: what, owner: owner}
	}
	return true
}

// reservedHost reports a host name that azsim serves for another fake than
// the one declaring it: Entra ID's host or the IMDS address.
func (c *compiler) reservedHost(path, value, host string) bool {
	switch host {
	case EntraHost:
		c.add(path, "%q is the host of Entra ID, which the simulator serves itself", value)
	case IMDSHost:
		c.add(path, "%q is the address of IMDS, which the simulator serves itself", value)
	default:
		return false
	}
	return true
}

// crossTenant reports a user-assigned identity used by a resource of
// another tenant: a managed identity belongs to its tenant and cannot be
// assigned across tenants
// (https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/managed-identities-faq).
func (c *compiler) crossTenant(path string, p *Principal, owner, tenantID string) {
	if p == nil || tenantID == "" || p.TenantID == "" || p.TenantID == tenantID {
		return
	}
	c.add(path, "identity %q (%s) is in tenant %q, but %s is in tenant %q",
		p.Name, c.paths[p], c.tenantNameOf(p.TenantID), owner, c.tenantNameOf(tenantID))
}

func (c *compiler) tenantNameOf(id string) string {
	if t, ok := c.ix.tenantByKey[id]; ok {
		return t.Name
	}
	return id
}

// imdsAddress checks a node pool's IMDS listen address: host:port with a
// port the listener can use, not already another pool's (two listeners
// cannot share it; port 0 picks a free port, so it never collides).
func (c *compiler) imdsAddress(path, owner, addr string) {
	if addr == "" {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		c.add(path, "%q is not host:port: %v", addr, err)
		return
	}
	n, err := net.LookupPort("tcp", port) // a number or a service name, as net.Listen takes
	if err != nil {
		c.add(path, "%q has no valid port (a number 0-65535 or a service name)", addr)
		return
	}
	if n == 0 {
		return
	}
	key := net.JoinHostPort(lower(host), strconv.Itoa(n))
	c.claim(c.imdsAddrs, key, addr, path, owner, "IMDS address")
}

// tenantDomain reports a domain clients could not name in a request.
func (c *compiler) tenantDomain(path, domain string) bool {
	if !tenantDomainRE.MatchString(domain) {
		c.add(path, "%q must be letters, digits, '.' and '-' (protocols.md 1.1)", domain)
		return false
	}
	switch lower(domain) {
	case "common", "organizations", "consumers":
		c.add(path, "%q is one of Entra ID's multi-tenant authorities (protocols.md 1.1)", domain)
		return false
	}
	return true
}
