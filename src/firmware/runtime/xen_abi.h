/* The slice of Xen's x86-64 PV guest ABI that the firmware runtime uses:
 * hypercall numbers, sub-operation numbers and the shared structures, as
 * fixed-width types. The numbers and layouts are Xen's (public interface,
 * xen/include/public); the declarations are ours. Each structure's size
 * and the offsets the runtime relies on are checked below, and
 * tests/firmware/test-fw-abi.c compares them with the host's Xen headers
 * when those are installed.
 *
 * Freestanding: includes only compiler-provided headers, so the host's
 * unit tests compile it too. */
#ifndef XENAMP_FW_XEN_ABI_H
#define XENAMP_FW_XEN_ABI_H

#include <stddef.h>
#include <stdint.h>

#define XEN_PAGE_SHIFT 12
#define XEN_PAGE_SIZE  4096u

/* Hypercall numbers (xen.h). Each is a 32-byte stub in the hypercall page. */
#define XEN_HC_mmu_update        1
#define XEN_HC_memory_op        12
#define XEN_HC_update_va_mapping 14
#define XEN_HC_xen_version      17
#define XEN_HC_console_io       18
#define XEN_HC_grant_table_op   20
#define XEN_HC_vcpu_op          24
#define XEN_HC_sched_op         29
#define XEN_HC_event_channel_op 32

/* sched_op (sched.h). */
#define XEN_SCHEDOP_yield    0
#define XEN_SCHEDOP_block    1
#define XEN_SCHEDOP_shutdown 2
#define XEN_SCHEDOP_poll     3
#define XEN_SHUTDOWN_poweroff 0
#define XEN_SHUTDOWN_reboot   1
#define XEN_SHUTDOWN_crash    3

struct xen_sched_shutdown {
	uint32_t reason;
};

/* SCHEDOP_poll: sleep until one of the ports is pending or the absolute
 * system time `timeout` (ns, 0 = none) passes. */
struct xen_sched_poll {
	uint32_t *ports;          /* guest handle: a plain pointer on x86-64 */
	uint32_t nr_ports;
	uint32_t pad;
	uint64_t timeout;
};

/* event_channel_op (event_channel.h). */
#define XEN_EVTCHNOP_close         3
#define XEN_EVTCHNOP_send          4
#define XEN_EVTCHNOP_alloc_unbound 6
#define XEN_EVTCHNOP_unmask        9
#define XEN_DOMID_SELF 0x7ff0u

struct xen_evtchn_alloc_unbound {
	uint16_t dom;             /* in: DOMID_SELF */
	uint16_t remote_dom;      /* in: the domain that will bind it */
	uint32_t port;            /* out */
};

struct xen_evtchn_port {       /* send, close, unmask: just the port */
	uint32_t port;
};

/* grant_table_op (grant_table.h), v1 entries. */
#define XEN_GNTTABOP_setup_table 2
#define XEN_GNTTABOP_query_size  6
#define XEN_GTF_permit_access 1u
#define XEN_GTF_readonly      (1u << 2)
#define XEN_GTF_reading       (1u << 3)
#define XEN_GTF_writing       (1u << 4)
/* Entries 0..7 belong to the toolstack (console, xenstore). */
#define XEN_GNTTAB_NR_RESERVED 8u

struct xen_grant_entry_v1 {
	uint16_t flags;           /* written last when granting, first when ending */
	uint16_t domid;           /* the domain allowed to map the frame */
	uint32_t frame;           /* MFN for a PV guest */
};

struct xen_gnttab_setup_table {
	uint16_t dom;
	uint16_t pad0;
	uint32_t nr_frames;
	int16_t status;
	uint16_t pad1[3];
	uint64_t *frame_list;     /* out: MFNs of the table's frames */
};

struct xen_gnttab_query_size {
	uint16_t dom;
	uint16_t pad0;
	uint32_t nr_frames;       /* out */
	uint32_t max_nr_frames;   /* out */
	int16_t status;
	uint16_t pad1;
};

/* update_va_mapping flags and x86 page-table entry bits. */
#define XEN_UVMF_INVLPG 2u
#define X86_PTE_PRESENT 0x001u
#define X86_PTE_RW      0x002u
#define X86_PTE_USER    0x004u
#define X86_PTE_ACCESSED 0x020u
#define X86_PTE_DIRTY   0x040u

/* start_info (xen.h), at the address in %rsi on entry. */
struct xen_start_info {
	char magic[32];           /* "xen-<version>-<platform>" */
	uint64_t nr_pages;
	uint64_t shared_info;     /* machine address */
	uint32_t flags;
	uint32_t pad0;
	uint64_t store_mfn;
	uint32_t store_evtchn;
	uint32_t pad1;
	uint64_t console_mfn;     /* console.domU.mfn */
	uint32_t console_evtchn;  /* console.domU.evtchn */
	uint32_t pad2;
	uint64_t pt_base;         /* virtual */
	uint64_t nr_pt_frames;
	uint64_t mfn_list;        /* virtual address of the p2m array */
	uint64_t mod_start;
	uint64_t mod_len;
	char cmd_line[1024];
	uint64_t first_p2m_pfn;
	uint64_t nr_p2m_frames;
};
#define XEN_SIF_INITDOMAIN 2u

struct xen_vcpu_time_info {
	uint32_t version;         /* odd while Xen updates the fields */
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;     /* ns since boot at tsc_timestamp */
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad1[2];
};

struct xen_vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask;
	uint8_t pad0[6];
	uint64_t evtchn_pending_sel;
	uint64_t cr2;
	uint64_t pad1;
	struct xen_vcpu_time_info time;
};

#define XEN_LEGACY_MAX_VCPUS 32
struct xen_shared_info {
	struct xen_vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
	uint64_t evtchn_pending[64];
	uint64_t evtchn_mask[64];
	uint32_t wc_version;
	uint32_t wc_sec;
	uint32_t wc_nsec;
	uint32_t wc_sec_hi;
	/* arch_shared_info follows; not used */
};

/* PV console ring (io/console.h). */
struct xen_cons_interface {
	char in[1024];
	char out[2048];
	uint32_t in_cons, in_prod;
	uint32_t out_cons, out_prod;
};

/* xenstore ring and wire header (io/xs_wire.h). */
#define XEN_XS_RING_SIZE 1024u
#define XEN_XS_PAYLOAD_MAX 4096u
struct xen_xs_interface {
	char req[XEN_XS_RING_SIZE];
	char rsp[XEN_XS_RING_SIZE];
	uint32_t req_cons, req_prod;
	uint32_t rsp_cons, rsp_prod;
	uint32_t server_features;
	uint32_t connection;
	uint32_t error;
};

struct xen_xs_hdr {
	uint32_t type;
	uint32_t req_id;
	uint32_t tx_id;
	uint32_t len;             /* payload bytes that follow */
};

enum {
	XEN_XS_DIRECTORY = 1,
	XEN_XS_READ = 2,
	XEN_XS_WATCH = 4,
	XEN_XS_UNWATCH = 5,
	XEN_XS_TRANSACTION_START = 6,
	XEN_XS_TRANSACTION_END = 7,
	XEN_XS_WRITE = 11,
	XEN_XS_MKDIR = 12,
	XEN_XS_RM = 13,
	XEN_XS_WATCH_EVENT = 15,
	XEN_XS_ERROR = 16,
};

/* ELF note types (elfnote.h), name "Xen". */
#define XEN_ELFNOTE_ENTRY          1
#define XEN_ELFNOTE_HYPERCALL_PAGE 2
#define XEN_ELFNOTE_VIRT_BASE      3
#define XEN_ELFNOTE_PADDR_OFFSET   4
#define XEN_ELFNOTE_XEN_VERSION    5
#define XEN_ELFNOTE_GUEST_OS       6
#define XEN_ELFNOTE_GUEST_VERSION  7
#define XEN_ELFNOTE_LOADER         8
#define XEN_ELFNOTE_FEATURES      10
#define XEN_ELFNOTE_PHYS32_ENTRY  18

#ifndef __ASSEMBLER__
_Static_assert(sizeof(struct xen_start_info) == 1168, "start_info size");
_Static_assert(offsetof(struct xen_start_info, store_mfn) == 56, "start_info.store_mfn");
_Static_assert(offsetof(struct xen_start_info, console_mfn) == 72, "start_info.console");
_Static_assert(offsetof(struct xen_start_info, mfn_list) == 104, "start_info.mfn_list");
_Static_assert(offsetof(struct xen_start_info, cmd_line) == 128, "start_info.cmd_line");
_Static_assert(sizeof(struct xen_vcpu_time_info) == 32, "vcpu_time_info size");
_Static_assert(sizeof(struct xen_vcpu_info) == 64, "vcpu_info size");
_Static_assert(offsetof(struct xen_shared_info, evtchn_pending) == 2048, "evtchn_pending");
_Static_assert(offsetof(struct xen_shared_info, evtchn_mask) == 2560, "evtchn_mask");
_Static_assert(sizeof(struct xen_cons_interface) == 3088, "xencons_interface size");
_Static_assert(offsetof(struct xen_xs_interface, req_cons) == 2048, "xenstore ring indexes");
_Static_assert(sizeof(struct xen_xs_hdr) == 16, "xsd_sockmsg size");
_Static_assert(sizeof(struct xen_grant_entry_v1) == 8, "grant_entry_v1 size");
_Static_assert(sizeof(struct xen_gnttab_setup_table) == 24, "gnttab_setup_table size");
_Static_assert(sizeof(struct xen_sched_poll) == 24, "sched_poll size");
#endif

#endif
