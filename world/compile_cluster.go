package world

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"strings"

	"github.com/azsim/azsim/internal/platform/ids"
)

func (c *compiler) clusters() {
	seen := map[string]bool{}
	for i := range c.w.Clusters {
		cl := &c.w.Clusters[i]
		path := fmt.Sprintf("clusters[%d]", i)
		c.unique(seen, path, cl.Name)
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
		c.issuer(path+".oidcIssuer", cl, ci)
		c.clusterIdentity(path, cl, ci, s)
		ci.Cluster = *cl
		if cl.KubeletIdentity != "" {
			p := c.userAssigned(path+".kubeletIdentity", cl.KubeletIdentity)
			ci.Kubelet = p
		}
		poolSeen := map[string]bool{}
		for j := range cl.NodePools {
			np := &cl.NodePools[j]
			c.unique(poolSeen, fmt.Sprintf("%s.nodePools[%d]", path, j), np.Name)
			ci.Pools = append(ci.Pools, c.nodePool(fmt.Sprintf("%s.nodePools[%d]", path, j), ci, np, s))
		}
		ci.Cluster = *cl
		c.ix.Clusters = append(c.ix.Clusters, ci)
		c.ix.clusterByName[lower(cl.Name)] = ci
		if ci.IssuerEnabled() {
			c.ix.clusterByIss[ci.IssuerURL] = ci
		}
	}
}

func (c *compiler) issuer(path string, cl *Cluster, ci *ClusterInfo) {
	c.guid(path+".id", &cl.OIDCIssuer.ID, ids.Derive("issuer", ci.SubscriptionID, cl.ResourceGroup, cl.Name))
	if cl.OIDCIssuer.URL == "" {
		cl.OIDCIssuer.URL = fmt.Sprintf("https://%s.oic.prod-aks.azure.com/%s/%s/", cl.Location, ci.TenantID, cl.OIDCIssuer.ID)
	}
	if !strings.HasPrefix(cl.OIDCIssuer.URL, "https://") {
		c.add(path+".url", "%q must be an https URL", cl.OIDCIssuer.URL)
	}
	ci.IssuerURL = cl.OIDCIssuer.URL
}

func (c *compiler) clusterIdentity(path string, cl *Cluster, ci *ClusterInfo, s *Subscription) {
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
		c.addPrincipal(p)
		ci.SystemIdentity, ci.ControlPlane = p, p
	case UserAssigned:
		ci.ControlPlane = c.userAssigned(path+".identity.userAssigned", cl.Identity.UserAssigned)
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

func (c *compiler) nodePool(path string, ci *ClusterInfo, np *NodePool, s *Subscription) *NodePoolInfo {
	if np.VMSS == "" {
		sum := sha256.Sum256([]byte(ci.ResourceID + "/" + np.Name))
		np.VMSS = fmt.Sprintf("aks-%s-%08d-vmss", np.Name, binary.BigEndian.Uint32(sum[:4])%100000000)
	}
	if np.IMDSAddress != "" {
		if _, _, err := net.SplitHostPort(np.IMDSAddress); err != nil {
			c.add(path+".imdsAddress", "%q is not host:port: %v", np.IMDSAddress, err)
		}
	}
	pi := &NodePoolInfo{
		Cluster: ci, SubscriptionID: s.ID, ResourceGroup: ci.NodeResourceGroup, Location: ci.Location,
		VMSSResourceID: fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachineScaleSets/%s", s.ID, ci.NodeResourceGroup, np.VMSS),
	}
	for k, name := range np.Identities {
		if p := c.userAssigned(fmt.Sprintf("%s.identities[%d]", path, k), name); p != nil {
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
		c.addPrincipal(p)
		pi.SystemIdentity = p
	}
	pi.NodePool = *np
	return pi
}

// lowerRG writes "resourcegroups" in lower case, as xms_mirid does (protocols.md 4.4).
func lowerRG(id string) string { return strings.Replace(id, "/resourceGroups/", "/resourcegroups/", 1) }
