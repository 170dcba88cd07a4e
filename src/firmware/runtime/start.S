/* Entry of an x86-64 PV firmware domain, and the ELF notes that make the
 * image one Xen's domain builder accepts.
 *
 * Xen starts the first vCPU here in 64-bit mode with paging on: the image,
 * start_info, the xenstore and console pages, the p2m list and the boot
 * page tables are mapped at VIRT_BASE + pfn * 4096, %rsi holds the virtual
 * address of start_info, interrupts (event upcalls) are masked. We switch
 * to our own stack, clear .bss (the builder zeroes it already; this keeps
 * the invariant independent of the loader) and call fw_boot, which never
 * returns. */

/* Note types (xen_abi.h, Xen's elfnote.h). */
#define NOTE_ENTRY          1
#define NOTE_HYPERCALL_PAGE 2
#define NOTE_VIRT_BASE      3
#define NOTE_PADDR_OFFSET   4
#define NOTE_XEN_VERSION    5
#define NOTE_GUEST_OS       6
#define NOTE_GUEST_VERSION  7
#define NOTE_LOADER         8

/* One note: name "Xen", the given type, desc from the macro's body. */
#define XEN_NOTE(type, desctype, value) \
	.balign 4; \
	.long 4; \
	.long 2f - 1f; \
	.long type; \
	.asciz "Xen"; \
	.balign 4; \
1:	desctype value; \
2:	.balign 4

	.section .note.Xen, "a", @note
	XEN_NOTE(NOTE_GUEST_OS, .asciz, "xenamp-fw")
	XEN_NOTE(NOTE_GUEST_VERSION, .asciz, "0.1")
	XEN_NOTE(NOTE_XEN_VERSION, .asciz, "xen-3.0")
	XEN_NOTE(NOTE_LOADER, .asciz, "generic")
	XEN_NOTE(NOTE_VIRT_BASE, .quad, __fw_virt_base)
	XEN_NOTE(NOTE_PADDR_OFFSET, .quad, __fw_virt_base)
	XEN_NOTE(NOTE_ENTRY, .quad, fw_start)
	XEN_NOTE(NOTE_HYPERCALL_PAGE, .quad, hypercall_page)

	.text
	.globl fw_start
	.type fw_start, @function
fw_start:
	cld
	lea fw_stack_top(%rip), %rsp
	mov %rsi, %r12                 /* start_info, callee-saved */
	lea __bss_start(%rip), %rdi
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb
	mov %r12, %rdi
	call fw_boot
1:	hlt                            /* not reached: fw_boot shuts down */
	jmp 1b
	.size fw_start, . - fw_start

/* Xen writes the hypercall stubs here when it builds the domain. */
	.section .text.hypercall_page, "ax", @progbits
	.balign 4096
	.globl hypercall_page
hypercall_page:
	.fill 4096, 1, 0xcc
	.size hypercall_page, 4096

/* The boot stack lives outside .bss so that clearing .bss does not pull
 * the rug from under fw_start. */
	.section .stack, "aw", @nobits
	.balign 16
fw_stack:
	.skip 65536
fw_stack_top:
	.section .note.GNU-stack, "", @progbits
