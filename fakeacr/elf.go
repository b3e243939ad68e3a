package fakeacr

import (
	"bytes"
	"encoding/binary"
)

// helloMessage is what the hello program writes to standard output.
const helloMessage = "Hello from azsim\n"

// elfBase is the virtual address the hello program is loaded at.
const elfBase = 0x400000

// Sizes of the ELF64 file header and of one program header.
const (
	elfHeaderSize  = 64
	progHeaderSize = 56
)

// helloCode is x86-64 machine code for
//
//	mov eax, 1            ; write
//	mov edi, 1            ; stdout
//	lea rsi, [rip + 16]   ; the message, right after the code
//	mov edx, len(message)
//	syscall
//	mov eax, 60           ; exit
//	xor edi, edi          ; status 0
//	syscall
var helloCode = []byte{
	0xb8, 0x01, 0x00, 0x00, 0x00,
	0xbf, 0x01, 0x00, 0x00, 0x00,
	0x48, 0x8d, 0x35, 0x10, 0x00, 0x00, 0x00, // rip-relative: 33 - 17 = 16
	0xba, byte(len(helloMessage)), 0x00, 0x00, 0x00,
	0x0f, 0x05,
	0xb8, 0x3c, 0x00, 0x00, 0x00,
	0x31, 0xff,
	0x0f, 0x05,
}

// HelloELF returns a minimal static x86-64 Linux executable, assembled by
// hand: an ELF64 header, one PT_LOAD program header mapping the whole file
// read+execute at 0x400000, the code and the message. It writes
// "Hello from azsim\n" with the write system call and exits 0.
func HelloELF() []byte {
	size := uint64(elfHeaderSize + progHeaderSize + len(helloCode) + len(helloMessage))
	var b bytes.Buffer
	le := binary.LittleEndian
	w := func(v any) { _ = binary.Write(&b, le, v) }
	// e_ident: magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV, padding.
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	w(uint16(2))                                        // e_type ET_EXEC
	w(uint16(0x3e))                                     // e_machine EM_X86_64
	w(uint32(1))                                        // e_version
	w(uint64(elfBase + elfHeaderSize + progHeaderSize)) // e_entry
	w(uint64(elfHeaderSize))                            // e_phoff
	w(uint64(0))                                        // e_shoff
	w(uint32(0))                                        // e_flags
	w(uint16(elfHeaderSize))                            // e_ehsize
	w(uint16(progHeaderSize))                           // e_phentsize
	w(uint16(1))                                        // e_phnum
	w(uint16(64))                                       // e_shentsize
	w(uint16(0))                                        // e_shnum
	w(uint16(0))                                        // e_shstrndx
	// Program header: PT_LOAD, PF_R|PF_X, the whole file at elfBase.
	w(uint32(1))
	w(uint32(5))
	w(uint64(0))
	w(uint64(elfBase))
	w(uint64(elfBase))
	w(size)
	w(size)
	w(uint64(0x1000))
	b.Write(helloCode)
	b.WriteString(helloMessage)
	return b.Bytes()
}
