package netns

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// SetupLoopback brings lo up and adds each address to it as a /32 (or /128).
// It must run inside the new network namespace.
func SetupLoopback(addrs ...net.IP) error {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return fmt.Errorf("finding loopback: %w", err)
	}
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("opening netlink: %w", err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("binding netlink: %w", err)
	}
	link := make([]byte, syscall.SizeofIfInfomsg)
	info := (*syscall.IfInfomsg)(unsafe.Pointer(&link[0]))
	info.Family = syscall.AF_UNSPEC
	info.Index = int32(lo.Index)
	info.Flags = syscall.IFF_UP
	info.Change = syscall.IFF_UP
	if err := request(fd, syscall.RTM_NEWLINK, 0, link); err != nil {
		return fmt.Errorf("bringing loopback up: %w", err)
	}
	for _, ip := range addrs {
		if err := addAddress(fd, lo.Index, ip); err != nil {
			return fmt.Errorf("adding %s to loopback: %w", ip, err)
		}
	}
	return nil
}

func addAddress(fd, index int, ip net.IP) error {
	family, bits, raw := syscall.AF_INET, 32, ip.To4()
	if raw == nil {
		family, bits, raw = syscall.AF_INET6, 128, ip.To16()
	}
	msg := make([]byte, syscall.SizeofIfAddrmsg)
	am := (*syscall.IfAddrmsg)(unsafe.Pointer(&msg[0]))
	am.Family = uint8(family)
	am.Prefixlen = uint8(bits)
	am.Scope = syscall.RT_SCOPE_HOST
	am.Index = uint32(index)
	msg = appendAttr(msg, syscall.IFA_LOCAL, raw)
	msg = appendAttr(msg, syscall.IFA_ADDRESS, raw)
	return request(fd, syscall.RTM_NEWADDR, syscall.NLM_F_CREATE|syscall.NLM_F_EXCL, msg)
}

func appendAttr(b []byte, typ uint16, data []byte) []byte {
	l := syscall.SizeofRtAttr + len(data)
	hdr := make([]byte, syscall.SizeofRtAttr)
	binary.NativeEndian.PutUint16(hdr[0:2], uint16(l))
	binary.NativeEndian.PutUint16(hdr[2:4], typ)
	b = append(b, hdr...)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// request sends one netlink request and waits for its acknowledgement.
func request(fd int, typ uint16, flags uint16, body []byte) error {
	hdr := make([]byte, syscall.NLMSG_HDRLEN)
	binary.NativeEndian.PutUint32(hdr[0:4], uint32(syscall.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(hdr[4:6], typ)
	binary.NativeEndian.PutUint16(hdr[6:8], syscall.NLM_F_REQUEST|syscall.NLM_F_ACK|flags)
	binary.NativeEndian.PutUint32(hdr[8:12], 1)
	if err := syscall.Sendto(fd, append(hdr, body...), 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	n, _, err := syscall.Recvfrom(fd, buf, 0)
	if err != nil {
		return err
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.Header.Type == syscall.NLMSG_ERROR && len(m.Data) >= 4 {
			if code := int32(binary.NativeEndian.Uint32(m.Data[0:4])); code != 0 {
				return syscall.Errno(-code)
			}
		}
	}
	return nil
}

// PrivateMounts makes every mount private, so bind mounts made in this
// mount namespace never reach the host.
func PrivateMounts() error {
	if err := syscall.Mount("none", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	return nil
}

// BindFile bind-mounts src over the existing file dst.
func BindFile(src, dst string) error {
	if _, err := os.Stat(dst); err != nil {
		return fmt.Errorf("bind mount target %s: %w", dst, err)
	}
	if err := syscall.Mount(src, dst, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting %s over %s: %w", src, dst, err)
	}
	return nil
}
