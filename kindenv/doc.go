// Package kindenv is azsim's kind integration: it renders the kind cluster
// config, the node's containerd config, CNI config and kubelet patches (pure
// functions, golden-tested), chooses the node image (stock kindest/node when a
// registry answers, the offline image built by kindenv/nodeimage otherwise)
// and creates clusters through sigs.k8s.io/kind/pkg/cluster.
//
// Facts it relies on are in the shared reference kind-offline.md (section
// numbers are cited as "ref §N").
package kindenv
