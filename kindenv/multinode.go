package kindenv

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/azsim/azsim/kindenv/internal/kindstate"
	"github.com/azsim/azsim/world"
)

// maxNodesPerPool bounds COUNT in a --node-pools entry: every kind node is a
// full container (kubelet, containerd, kube-proxy).
const maxNodesPerPool = 10

var poolNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// ParseNodePools parses `kind up --node-pools` ("POOL[=COUNT],...", COUNT
// defaults to 1) and checks the pools against the world cluster the kind
// cluster plays (cluster, default the world's first). It reports every
// problem at once, each naming its entry, and returns the entries that
// parsed.
func ParseNodePools(w *world.World, cluster, spec string) ([]PoolNodes, error) {
	pools, err := parseNodePools(spec)
	if len(pools) > 0 {
		err = errors.Join(err, checkNodePools(w, cluster, pools))
	}
	return pools, err
}

// parseNodePools parses "POOL[=COUNT],...". It reports every bad entry at
// once, naming it, and returns the entries that parsed so they can be
// checked against the world as well.
func parseNodePools(spec string) ([]PoolNodes, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New(`empty list: want POOL[=COUNT],... (e.g. "nodepool1,userpool=2")`)
	}
	var out []PoolNodes
	var errs []error
	seen := map[string]bool{}
	for _, entry := range strings.Split(spec, ",") {
		pn, err := parsePoolEntry(strings.TrimSpace(entry))
		if err != nil {
			errs = append(errs, fmt.Errorf("%q: %w", entry, err))
			continue
		}
		if seen[strings.ToLower(pn.Pool)] {
			errs = append(errs, fmt.Errorf("%q: pool %s is listed twice (use %s=COUNT)", entry, pn.Pool, pn.Pool))
			continue
		}
		seen[strings.ToLower(pn.Pool)] = true
		out = append(out, pn)
	}
	return out, errors.Join(errs...)
}

func parsePoolEntry(entry string) (PoolNodes, error) {
	name, count, hasCount := strings.Cut(entry, "=")
	pn := PoolNodes{Pool: name, Count: 1}
	if entry == "" {
		return pn, errors.New("empty entry")
	}
	if !poolNameRE.MatchString(name) {
		return pn, errors.New("POOL must be a node pool name (letters, digits, '-', '_')")
	}
	if hasCount {
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 || n > maxNodesPerPool {
			return pn, fmt.Errorf("COUNT must be an integer from 1 to %d", maxNodesPerPool)
		}
		pn.Count = n
	}
	return pn, nil
}

// FormatNodePools is the inverse of ParseNodePools: "POOL=COUNT,...".
func FormatNodePools(pools []PoolNodes) string {
	parts := make([]string, len(pools))
	for i, p := range pools {
		parts[i] = fmt.Sprintf("%s=%d", p.Pool, p.Count)
	}
	return strings.Join(parts, ",")
}

// checkNodePools checks that every pool belongs to the world cluster the
// kind cluster plays (cluster, default the world's first), reporting every
// unknown pool at once.
func checkNodePools(w *world.World, cluster string, pools []PoolNodes) error {
	ix, err := world.Compile(w, time.Now())
	if err != nil {
		return fmt.Errorf("world: %w", err)
	}
	wc, _, err := pickClusterPool(ix, cluster, "")
	if err != nil {
		return err
	}
	_, err = resolvePools(wc, pools)
	return err
}

// resolvePools finds each listed pool in wc (case-insensitively, as the
// world index does).
func resolvePools(wc *world.ClusterInfo, pools []PoolNodes) ([]*world.NodePoolInfo, error) {
	var have []string
	byName := map[string]*world.NodePoolInfo{}
	for _, p := range wc.Pools {
		have = append(have, p.Name)
		byName[strings.ToLower(p.Name)] = p
	}
	var out []*world.NodePoolInfo
	var errs []error
	for _, pn := range pools {
		if pn.Count < 1 || pn.Count > maxNodesPerPool {
			errs = append(errs, fmt.Errorf("%q: COUNT must be an integer from 1 to %d, got %d", pn.Pool, maxNodesPerPool, pn.Count))
		}
		p, ok := byName[strings.ToLower(pn.Pool)]
		if !ok {
			errs = append(errs, fmt.Errorf("%q: world cluster %s has no node pool %q (it has %s)", pn.Pool, wc.Name, pn.Pool, strings.Join(have, ", ")))
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// podSubnet is node i's host-local range inside PodSubnet.
func podSubnet(i int) string { return fmt.Sprintf("10.244.%d.0/24", i) }

// planNodes lays out the kind cluster's nodes: without pools, the single
// control-plane node playing single; with pools, a dedicated control plane
// (its IMDS the first listed pool's) and Count workers per pool, named as
// kind names them (<name>-worker, <name>-worker2, ...). Pod subnets are
// set for the offline image (10.244.<i>.0/24, i the node's index).
func planNodes(name string, single *world.NodePoolInfo, pools []PoolNodes, offline bool) []kindstate.NodeInfo {
	subnet := func(i int) string {
		if offline {
			return podSubnet(i)
		}
		return ""
	}
	cp := name + "-" + kindstate.RoleControlPlane
	if len(pools) == 0 {
		return []kindstate.NodeInfo{{Name: cp, Role: kindstate.RoleControlPlane, Pool: single.Name, IMDSPool: single.Name, PodSubnet: subnet(0)}}
	}
	nodes := []kindstate.NodeInfo{{Name: cp, Role: kindstate.RoleControlPlane, IMDSPool: pools[0].Pool, PodSubnet: subnet(0)}}
	for _, p := range pools {
		for k := 0; k < p.Count; k++ {
			n := len(nodes)
			wname := name + "-" + kindstate.RoleWorker
			if n > 1 {
				wname += strconv.Itoa(n)
			}
			nodes = append(nodes, kindstate.NodeInfo{Name: wname, Role: kindstate.RoleWorker, Pool: p.Pool, IMDSPool: p.Pool, PodSubnet: subnet(n)})
		}
	}
	return nodes
}

// agentPoolLabels are the labels AKS sets on the nodes of pool: the first
// pool of the cluster is the system pool (the world model carries no mode),
// kubernetes.azure.com/cluster is the node resource group.
func agentPoolLabels(pool *world.NodePoolInfo) map[string]string {
	wc := pool.Cluster
	mode := "user"
	if len(wc.Pools) > 0 && wc.Pools[0].Name == pool.Name {
		mode = "system"
	}
	l := map[string]string{
		"agentpool":                      pool.Name,
		"kubernetes.azure.com/agentpool": pool.Name,
		"kubernetes.azure.com/mode":      mode,
		"kubernetes.azure.com/role":      "agent",
		"kubernetes.azure.com/cluster":   wc.NodeResourceGroup,
		"kubernetes.azure.com/os-sku":    "Ubuntu",
		"topology.kubernetes.io/region":  pool.Location,
	}
	if wc.Kubelet != nil {
		l["kubernetes.azure.com/kubelet-identity-client-id"] = wc.Kubelet.ClientID
	}
	return l
}

var labelValueRE = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`)

// checkLabels reports label values Kubernetes would refuse (the kubelet
// would not register the node, and kind would only say kubeadm failed).
func checkLabels(node string, labels map[string]string) error {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		if v := labels[k]; len(v) > 63 || !labelValueRE.MatchString(v) {
			errs = append(errs, fmt.Errorf("node %s: label %s=%q is not a valid Kubernetes label value (63 characters at most, alphanumerics, '-', '_', '.')", node, k, v))
		}
	}
	return errors.Join(errs...)
}
