// Package netns prepares the private network and mount namespaces that
// `azsim exec` runs programs in: loopback up with extra addresses (such as
// 169.254.169.254) and files bind-mounted over system paths (/etc/hosts, the
// CA bundle). It speaks netlink directly, so no `ip` binary is needed.
package netns
