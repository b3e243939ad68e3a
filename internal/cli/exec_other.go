//go:build !linux

package cli

import "errors"

func (e *env) execParent(execSpec) error {
	return failed(errors.New("azsim exec needs Linux namespaces: on this system use `azsim up` and `eval \"$(azsim env)\"` instead"))
}
