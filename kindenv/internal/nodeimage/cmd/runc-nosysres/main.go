// Command runc-nosysres is the node image's runc for containerd: it strips
// CAP_SYS_RESOURCE from the OCI spec files named by its arguments, then execs
// the real runc with the same arguments. Built static (the node has no jq).
package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/azsim/azsim/kindenv/internal/nodeimage/runcwrap"
)

const realRunc = "/usr/sbin/runc"

func main() {
	for _, f := range runcwrap.SpecFiles(os.Args[1:]) {
		if err := runcwrap.StripFile(f, "CAP_SYS_RESOURCE"); err != nil {
			fmt.Fprintf(os.Stderr, "runc-nosysres: %s: %v\n", f, err)
			os.Exit(1)
		}
	}
	argv := append([]string{"runc"}, os.Args[1:]...)
	if err := syscall.Exec(realRunc, argv, os.Environ()); err != nil {
		fmt.Fprintf(os.Stderr, "runc-nosysres: exec %s: %v\n", realRunc, err)
		os.Exit(1)
	}
}
