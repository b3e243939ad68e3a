package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// execParent starts this binary again as __exec-child in new namespaces and
// returns the child's exit status.
func (e *env) execParent(sp execSpec) error {
	tmp, err := os.MkdirTemp("", "azsim-exec-")
	if err != nil {
		return failed(err)
	}
	defer os.RemoveAll(tmp)
	sp.TmpDir = tmp
	if err := os.MkdirAll(sp.StateDir, 0o700); err != nil {
		return failed(fmt.Errorf("state directory: %w", err))
	}
	spec, _ := json.Marshal(sp)
	self, err := os.Executable()
	if err != nil {
		return failed(err)
	}
	c := exec.Command(self, "__exec-child")
	c.Env = append(os.Environ(), execSpecEnv+"="+string(spec))
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, e.stdout, e.stderr
	c.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	if uid := os.Geteuid(); uid != 0 {
		c.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		c.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: uid, Size: 1}}
		c.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		c.SysProcAttr.GidMappingsEnableSetgroups = false
	}
	if err := c.Start(); err != nil {
		return failed(namespaceError(err))
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			_ = c.Process.Signal(s)
		}
	}()
	err = c.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		return &exitError{code: ee.ExitCode(), err: fmt.Errorf("%s exited with status %d", sp.Cmd[0], ee.ExitCode()), silent: true}
	}
	return failed(err)
}

// namespaceError explains a failure to create the namespaces.
func namespaceError(err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("this kernel does not let %s create user and network namespaces (%v): run azsim exec as root, allow unprivileged user namespaces (sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, or the AppArmor restriction), or use `azsim up` with `azsim env` instead", whoami(), err)
	}
	return fmt.Errorf("starting the namespaced simulator: %w", err)
}

func whoami() string {
	if os.Geteuid() == 0 {
		return "root"
	}
	return fmt.Sprintf("uid %d", os.Geteuid())
}
