package world

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"

	"github.com/azsim/azsim/internal/platform/ids"
)

func (c *compiler) clusters() {
	seen := map[string]bool{}
	for i := range c.w.Clusters {
		cl := &c.w.Clusters[i]
		path := fmt.Sprintf("clusters[%d]", i)
		named := c.unique(seen, path, cl.Name)
		g, s := c.group(path+".resourceGroup", cl.ResourceGroup)
		if g == nil {
			continue
		}
		if cl.Location == "" {
			cl.Location = g.Location
		}
		cl.Location = lower(cl.Location)
		if cl.NodeResourceGroup == "" {
			cl.NodeResourceGroup = fmt.Sprintf("MC_%s_%s_%s", g.Name, cl.Name, cl.Location)
		}
		ci := &ClusterInfo{
			TenantID: c.tenantID(path, s.Tenant), SubscriptionID: s.ID,
			ResourceID: fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/%s", s.ID, g.Name, cl.Name),
		}
		c.issuer(path, cl, ci, named)
		c.clusterIdentity(path, cl, ci, s, named)
		ci.Cluster = *cl
		if cl.KubeletIdentity != "" {
			p := c.userAssigned(path+".kubeletIdentity", cl.KubeletIdentity)
			c.crossTenant(path+".kubeletIdentity", p, path, ci.TenantID)
			ci.Kubelet = p
		}
		poolSeen := map[string]bool{}
		for j := range cl.NodePools {
			np := &cl.NodePools[j]
			ppath := fmt.Sprintf("%s.nodePools[%d]", path, j)
			poolNamed := c.unique(poolSeen, ppath, np.Name)
			ci.Pools = append(ci.Pools, c.nodePool(path, ppath, ci, np, s, named && poolNamed))
		}
		ci.Cluster = *cl
		c.ix.Clusters = append(c.ix.Clusters, ci)
		c.ix.clusterByName[lower(cl.Name)] = ci
		if ci.IssuerEnabled() {
			c.ix.clusterByIss[ci.IssuerURL] = ci
		}
	}
}

// issuer derives and checks the cluster's OIDC issuer URL: https, on a
// host no other fake serves, and no other cluster's issuer (a token's iss
// must name one cluster).
func (c *compiler) issuer(cpath string, cl *Cluster, ci *ClusterInfo, named bool) {
	path := cpath + ".oidcIssuer"
	c.guid(path+".id", &cl.OIDCIssuer.ID, ids.Derive("issuer", ci.SubscriptionID, cl.ResourceGroup, cl.Name))
	if cl.OIDCIssuer.URL == "" {
		cl.OIDCIssuer.URL = fmt.Sprintf("https://%s.oic.prod-aks.azure.com/%s/%s/", cl.Location, ci.TenantID, cl.OIDCIssuer.ID)
	}
	ci.IssuerURL = cl.OIDCIssuer.URL
	u, err := url.Parse(cl.OIDCIssuer.URL)
	switch {
	case !strings.HasPrefix(cl.OIDCIssuer.URL, "https://"):
		c.add(path+".url", "%q must be an https URL", cl.OIDCIssuer.URL)
		return
	case err != nil || u.Hostname() == "":
		c.add(path+".url", "%q must be an https URL with a host", cl.OIDCIssuer.URL)
		return
	}
	host := lower(u.Hostname())
	if c.reservedHost(path+".url", cl.OIDCIssuer.URL, host) || !named {
		return
	}
	c.claim(c.issuers, cl.OIDCIssuer.URL, cl.OIDCIssuer.URL, path+".url", cpath, "OIDC issuer URL")
	if _, ok := c.issuerHosts[host]; !ok {
		// Clusters share issuer hosts; a registry must not (see registries).
		c.issuerHosts[host] = claim{what: "OIDC issuer host", owner: path + ".url"}
	}
}

func (c *compiler) clusterIdentity(path string, cl *Cluster, ci *ClusterInfo, s *Subscription, named bool) {
	switch cl.Identity.Type {
	case "", SystemAssigned:
		cl.Identity.Type = SystemAssigned
		if cl.Identity.UserAssigned != "" {
			c.add(path+".identity.userAssigned", "must be empty when type is %s", SystemAssigned)
		}
		p := &Principal{
			Kind: KindSystemAssigned, Name: cl.Name, TenantID: ci.TenantID,
			ClientID:   ids.Derive("cluster-client", s.ID, cl.ResourceGroup, cl.Name),
			ObjectID:   ids.Derive("cluster-principal", s.ID, cl.ResourceGroup, cl.Name),
			ResourceID: lowerRG(ci.ResourceID),
		}
		if named {
			c.uniqueIDs(path+".identity", p.ClientID, path+".identity", p.ObjectID)
		}
		c.addPrincipal(p)
		ci.SystemIdentity, ci.ControlPlane = p, p
	case UserAssigned:
		ci.ControlPlane = c.userAssigned(path+".identity.userAssigned", cl.Identity.UserAssigned)
		c.crossTenant(path+".identity.userAssigned", ci.ControlPlane, path, ci.TenantID)
	default:
		c.add(path+".identity.type", "must be %s or %s, got %q", SystemAssigned, UserAssigned, cl.Identity.Type)
	}
}

func (c *compiler) userAssigned(path, name string) *Principal {
	for _, p := range c.ix.byName[lower(name)] {
		if p.Kind == KindUserAssigned {
			return p
		}
	}
	c.add(path, "unknown user-assigned identity %q", name)
	return nil
}

// nodePool compiles the pool at path of the cluster at cpath; named says
// whether both names are unique (else its VMSS would only repeat that).
func (c *compiler) nodePool(cpath, path string, ci *ClusterInfo, np *NodePool, s *Subscription, named bool) *NodePoolInfo {
	if np.VMSS == "" {
		sum := sha256.Sum256([]byte(ci.ResourceID + "/" + np.Name))
		np.VMSS = fmt.Sprintf("aks-%s-%08d-vmss", np.Name, binary.BigEndian.Uint32(sum[:4])%100000000)
	}
	c.imdsAddress(path+".imdsAddress", path, np.IMDSAddress)
	pi := &NodePoolInfo{
		Cluster: ci, SubscriptionID: s.ID, ResourceGroup: ci.NodeResourceGroup, Location: ci.Location,
		VMSSResourceID: fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachineScaleSets/%s", s.ID, ci.NodeResourceGroup, np.VMSS),
	}
	if named {
		// A VMSS is one resource: two pools on one would share its
		// resource ID and its system-assigned identity.
		c.claim(c.vmss, lower(pi.VMSSResourceID), np.VMSS, path+".vmss", path,
			fmt.Sprintf("VMSS (in node resource group %q)", ci.NodeResourceGroup))
	}
	for k, name := range np.Identities {
		ipath := fmt.Sprintf("%s.identities[%d]", path, k)
		if p := c.userAssigned(ipath, name); p != nil {
			c.crossTenant(ipath, p, cpath, ci.TenantID)
			pi.UserAssigned = append(pi.UserAssigned, p)
		}
	}
	if np.SystemAssigned {
		ref := ci.Name + "/" + np.Name
		p := &Principal{
			Kind: KindSystemAssigned, Name: ref, TenantID: ci.TenantID,
			ClientID:   ids.Derive("vmss-client", pi.VMSSResourceID),
			ObjectID:   ids.Derive("vmss-principal", pi.VMSSResourceID),
			ResourceID: lowerRG(pi.VMSSResourceID),
		}
		if named {
			c.uniqueIDs(path+".systemAssigned", p.ClientID, path+".systemAssigned", p.ObjectID)
		}
		c.addPrincipal(p)
		pi.SystemIdentity = p
	}
	pi.NodePool = *np
	return pi
}

// lowerRG writes "resourcegroups" in lower case, as xms_mirid does (protocols.md 4.4).
func lowerRG(id string) string { return strings.Replace(id, "/resourceGroups/", "/resourcegroups/", 1) }
