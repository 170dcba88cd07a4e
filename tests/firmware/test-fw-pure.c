/* Host unit tests of the firmware runtime's pure parts: the xenstore wire
 * format and ring (xs_wire.c), grant table v1 entries (gnt_entry.c), the
 * formatter and number parser (fmt.c), and, when Xen's public headers are
 * installed, our ABI layouts (xen_abi.h) against theirs. The same sources
 * are compiled freestanding into the firmware. */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fw.h"
#include "gnt_entry.h"
#include "xs_wire.h"

static int failures, checks;

#define CHECK(cond) do {                                                      \
		checks++;                                                     \
		if (!(cond)) {                                                \
			failures++;                                           \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                             \
		}                                                             \
	} while (0)
#define CHECK_EQ(a, b) do {                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);           \
		checks++;                                                     \
		if (a_ != b_) {                                               \
			failures++;                                           \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);          \
		}                                                             \
	} while (0)

static void test_encode(void)
{
	uint8_t buf[sizeof(struct xen_xs_hdr) + XEN_XS_PAYLOAD_MAX];
	static char big[XEN_XS_PAYLOAD_MAX + 1];
	struct xen_xs_hdr h;
	struct xs_part rd = { "domid", 6 };
	struct xs_part wr[2] = { { "device/rpmsg/0/state", 21 }, { "3", 1 } };
	long n;

	n = xs_msg_encode(buf, sizeof(buf), XEN_XS_READ, 7, 0, &rd, 1);
	CHECK_EQ(n, 16 + 6);
	memcpy(&h, buf, sizeof(h));
	CHECK_EQ(h.type, XEN_XS_READ);
	CHECK_EQ(h.req_id, 7);
	CHECK_EQ(h.tx_id, 0);
	CHECK_EQ(h.len, 6);
	CHECK(memcmp(buf + 16, "domid\0", 6) == 0);

	/* XS_WRITE: the value runs to the end, no NUL */
	n = xs_msg_encode(buf, sizeof(buf), XEN_XS_WRITE, 8, 42, wr, 2);
	CHECK_EQ(n, 16 + 22);
	memcpy(&h, buf, sizeof(h));
	CHECK_EQ(h.tx_id, 42);
	CHECK_EQ(h.len, 22);
	CHECK(memcmp(buf + 16, "device/rpmsg/0/state\0" "3", 22) == 0);

	/* payload limit: exactly the maximum fits, one byte more does not */
	struct xs_part p = { big, XEN_XS_PAYLOAD_MAX };

	CHECK_EQ(xs_msg_encode(buf, sizeof(buf), XEN_XS_WRITE, 1, 0, &p, 1),
		 16 + XEN_XS_PAYLOAD_MAX);
	p.n = XEN_XS_PAYLOAD_MAX + 1;
	CHECK_EQ(xs_msg_encode(buf, sizeof(buf), XEN_XS_WRITE, 1, 0, &p, 1), -FW_E2BIG);
	struct xs_part two[2] = { { big, XEN_XS_PAYLOAD_MAX }, { "x", 1 } };

	CHECK_EQ(xs_msg_encode(buf, sizeof(buf), XEN_XS_WRITE, 1, 0, two, 2), -FW_E2BIG);
	/* an output buffer too small for header + payload */
	CHECK_EQ(xs_msg_encode(buf, 20, XEN_XS_READ, 1, 0, &rd, 1), -FW_E2BIG);
}

static void test_ring(void)
{
	static struct xen_xs_interface r;
	uint8_t in[40], out[40];
	long n;

	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(0xa0 + i);
	/* request ring: a write that wraps the end of the ring */
	memset(&r, 0, sizeof(r));
	r.req_cons = r.req_prod = 0xfffffff0u + 1016u;   /* index wraps too */
	n = xs_ring_write(&r, in, 20);
	CHECK_EQ(n, 20);
	CHECK_EQ(r.req_prod, (uint32_t)(0xfffffff0u + 1016u + 20u));
	unsigned at = (0xfffffff0u + 1016u) & 1023u;

	for (unsigned i = 0; i < 20; i++)
		CHECK_EQ((uint8_t)r.req[(at + i) & 1023u], in[i]);
	/* full: 1024 bytes in flight take nothing more */
	r.req_cons = r.req_prod - 1024u;
	CHECK_EQ(xs_ring_write(&r, in, 1), 0);
	/* partly full: only the room is taken */
	r.req_cons = r.req_prod - 1020u;
	CHECK_EQ(xs_ring_write(&r, in, 10), 4);
	/* corrupt indexes: nothing written, nothing moved */
	uint32_t prod = r.req_prod;

	r.req_cons = prod - 2000u;
	CHECK_EQ(xs_ring_write(&r, in, 1), -FW_EIO);
	CHECK_EQ(r.req_prod, prod);

	/* response ring: read across the wrap, in two parts */
	memset(&r, 0, sizeof(r));
	r.rsp_cons = 1010u;
	for (unsigned i = 0; i < 30; i++)
		r.rsp[(1010u + i) & 1023u] = (char)in[i];
	r.rsp_prod = 1010u + 30u;
	n = xs_ring_read(&r, out, 12);
	CHECK_EQ(n, 12);
	n = xs_ring_read(&r, out + 12, sizeof(out) - 12);
	CHECK_EQ(n, 18);
	CHECK(memcmp(out, in, 30) == 0);
	CHECK_EQ(r.rsp_cons, 1040u);
	CHECK_EQ(xs_ring_read(&r, out, 1), 0);
	/* a producer index beyond the ring size: corrupt, nothing consumed */
	r.rsp_prod = r.rsp_cons + 1025u;
	CHECK_EQ(xs_ring_read(&r, out, 1), -FW_EIO);
	CHECK_EQ(r.rsp_cons, 1040u);
}

static void test_reply(void)
{
	struct xen_xs_hdr h = { .type = XEN_XS_READ, .len = 2 };

	CHECK_EQ(xs_reply_check(&h, "42", XEN_XS_READ), 0);
	CHECK_EQ(xs_reply_check(&h, "42", XEN_XS_WRITE), -FW_EPROTO);
	h.type = XEN_XS_ERROR;
	h.len = 7;
	CHECK_EQ(xs_reply_check(&h, "ENOENT", XEN_XS_READ), -FW_ENOENT);
	CHECK_EQ(xs_reply_check(&h, "EAGAIN", XEN_XS_TRANSACTION_END), -FW_EAGAIN);
	CHECK_EQ(xs_reply_check(&h, "EACCES", XEN_XS_WRITE), -FW_EACCES);
	h.len = 6;   /* without the NUL */
	CHECK_EQ(xs_reply_check(&h, "EINVAL", XEN_XS_WRITE), -FW_EINVAL);
	CHECK_EQ(xs_reply_check(&h, "EWHAT?", XEN_XS_WRITE), -FW_EIO);
	h.len = 3;   /* a prefix of a known name is not that name */
	CHECK_EQ(xs_reply_check(&h, "EAGAIN", XEN_XS_WRITE), -FW_EIO);
	h.type = XEN_XS_READ;
	h.len = XEN_XS_PAYLOAD_MAX + 1;
	CHECK_EQ(xs_reply_check(&h, "", XEN_XS_READ), -FW_EPROTO);
}

static void test_watch_event(void)
{
	const char *path = NULL, *token = NULL;
	static const char ev[] = "/local/domain/0/backend/rpmsg/5/0/state\0be";

	CHECK_EQ(xs_watch_event_parse(ev, sizeof(ev), &path, &token), 0);
	CHECK(path && strcmp(path, "/local/domain/0/backend/rpmsg/5/0/state") == 0);
	CHECK(token && strcmp(token, "be") == 0);
	CHECK_EQ(xs_watch_event_parse(ev, sizeof(ev) - 1, &path, &token), -FW_EPROTO);
	CHECK_EQ(xs_watch_event_parse("abc", 3, &path, &token), -FW_EPROTO);
	CHECK_EQ(xs_watch_event_parse("abc", 4, &path, &token), -FW_EPROTO);
	CHECK_EQ(xs_watch_event_parse("a\0b", 4, &path, &token), 0);
}

static void test_gnt(void)
{
	static struct xen_grant_entry_v1 e[16];
	static struct gnt_table t;
	uint32_t ref, refs[8];

	memset(e, 0, sizeof(e));
	/* the toolstack's entries (console, xenstore) are left alone */
	e[0] = (struct xen_grant_entry_v1){ XEN_GTF_permit_access, 0, 1234 };
	e[1] = (struct xen_grant_entry_v1){ XEN_GTF_permit_access, 0, 5678 };
	gnt_table_init(&t, e, 16);
	CHECK_EQ(e[0].frame, 1234);
	CHECK_EQ(e[1].flags, XEN_GTF_permit_access);

	CHECK_EQ(gnt_grant(&t, 0, 0xabcdef, false, &ref), 0);
	CHECK_EQ(ref, XEN_GNTTAB_NR_RESERVED);
	CHECK_EQ(e[ref].flags, XEN_GTF_permit_access);
	CHECK_EQ(e[ref].domid, 0);
	CHECK_EQ(e[ref].frame, 0xabcdef);
	CHECK_EQ(gnt_grant(&t, 3, 77, true, &ref), 0);
	CHECK_EQ(ref, XEN_GNTTAB_NR_RESERVED + 1);
	CHECK_EQ(e[ref].flags, XEN_GTF_permit_access | XEN_GTF_readonly);
	CHECK_EQ(e[ref].domid, 3);

	/* the other six free entries, then none */
	for (unsigned i = 0; i < 6; i++)
		CHECK_EQ(gnt_grant(&t, 0, 100 + i, false, &refs[i]), 0);
	CHECK_EQ(gnt_grant(&t, 0, 1, false, &ref), -FW_ENOSPC);

	/* still mapped by the other side: refused, entry untouched */
	e[9].flags |= XEN_GTF_writing;
	CHECK_EQ(gnt_end(&t, 9), -FW_EAGAIN);
	CHECK_EQ(e[9].flags, XEN_GTF_permit_access | XEN_GTF_readonly | XEN_GTF_writing);
	e[9].flags &= (uint16_t)~XEN_GTF_writing;
	e[9].flags |= XEN_GTF_reading;
	CHECK_EQ(gnt_end(&t, 9), -FW_EAGAIN);
	e[9].flags &= (uint16_t)~XEN_GTF_reading;
	CHECK_EQ(gnt_end(&t, 9), 0);
	CHECK_EQ(e[9].flags, 0);
	CHECK_EQ(gnt_end(&t, 9), -FW_EINVAL);   /* not granted any more */
	CHECK_EQ(gnt_end(&t, 1), -FW_EINVAL);   /* reserved */
	CHECK_EQ(gnt_end(&t, 16), -FW_EINVAL);  /* beyond the table */
	/* the freed reference is handed out again */
	CHECK_EQ(gnt_grant(&t, 0, 555, false, &ref), 0);
	CHECK_EQ(ref, 9);
	CHECK_EQ(e[9].frame, 555);
	CHECK_EQ(e[9].flags, XEN_GTF_permit_access);
}

static int fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = fw_vsnprintf(buf, size, f, ap);
	va_end(ap);
	return n;
}

static void test_fmt(void)
{
	char b[64];
	unsigned long v;

	CHECK_EQ(fmt(b, sizeof(b), "a%db%uc%xd%Xe%s%c%%", -12, 34u, 0xbeefu, 0xabu, "str", 'Z'), 21);
	CHECK(strcmp(b, "a-12b34cbeefdABestrZ%") == 0);
	fmt(b, sizeof(b), "[%5d|%-5d|%05u|%08lx]", 42, 42, 7u, 0x1234ul);
	CHECK(strcmp(b, "[   42|42   |00007|00001234]") == 0);
	fmt(b, sizeof(b), "%lld %llu %zu %ld", -9000000000LL, 18446744073709551615ULL,
	    (size_t)99, -1L);
	CHECK(strcmp(b, "-9000000000 18446744073709551615 99 -1") == 0);
	fmt(b, sizeof(b), "%.*s|%.2s|%6s|%-4s|", 3, "abcdef", "xyz", "ab", "c");
	CHECK(strcmp(b, "abc|xy|    ab|c   |") == 0);
	fmt(b, sizeof(b), "%p %s", (void *)0x200000, (char *)NULL);
	CHECK(strcmp(b, "0x200000 (null)") == 0);
	fmt(b, sizeof(b), "%d", -2147483647 - 1);
	CHECK(strcmp(b, "-2147483648") == 0);
	/* truncation: always terminated, returns the full length */
	CHECK_EQ(fmt(b, 5, "%s", "hello world"), 11);
	CHECK(strcmp(b, "hell") == 0);
	CHECK_EQ(fmt(b, 1, "abc"), 3);
	CHECK_EQ(b[0], '\0');
	CHECK_EQ(fmt(NULL, 0, "abc%d", 5), 4);
	/* an unknown conversion is copied out, not consumed */
	fmt(b, sizeof(b), "x%qy%d", 5);
	CHECK(strcmp(b, "x%qy5") == 0);
	fmt(b, sizeof(b), "end%");
	CHECK(strcmp(b, "end%") == 0);

	CHECK_EQ(fw_parse_ulong("0", &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(fw_parse_ulong("4096", &v), 0);
	CHECK_EQ(v, 4096);
	CHECK_EQ(fw_parse_ulong("18446744073709551615", &v), 0);
	CHECK(v == 18446744073709551615UL);
	CHECK_EQ(fw_parse_ulong("18446744073709551616", &v), -FW_EINVAL);
	CHECK_EQ(fw_parse_ulong("", &v), -FW_EINVAL);
	CHECK_EQ(fw_parse_ulong("12a", &v), -FW_EINVAL);
	CHECK_EQ(fw_parse_ulong("-1", &v), -FW_EINVAL);
	CHECK_EQ(fw_parse_ulong(" 1", &v), -FW_EINVAL);
}

#ifdef HAVE_XEN
/* Our declarations against Xen's own (the latest interface version). */
#define __XEN_TOOLS__ 1
#include <xen/xen.h>
#include <xen/sched.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/elfnote.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>

#define SAME(ours, theirs, field) \
	CHECK_EQ(offsetof(struct ours, field), offsetof(struct theirs, field))

static void test_abi(void)
{
	CHECK_EQ(sizeof(struct xen_start_info), sizeof(struct start_info));
	SAME(xen_start_info, start_info, nr_pages);
	SAME(xen_start_info, start_info, shared_info);
	SAME(xen_start_info, start_info, store_mfn);
	SAME(xen_start_info, start_info, store_evtchn);
	CHECK_EQ(offsetof(struct xen_start_info, console_mfn),
		 offsetof(struct start_info, console.domU.mfn));
	CHECK_EQ(offsetof(struct xen_start_info, console_evtchn),
		 offsetof(struct start_info, console.domU.evtchn));
	SAME(xen_start_info, start_info, mfn_list);
	SAME(xen_start_info, start_info, cmd_line);
	SAME(xen_start_info, start_info, nr_p2m_frames);
	CHECK_EQ(sizeof(struct xen_vcpu_info), sizeof(struct vcpu_info));
	SAME(xen_vcpu_info, vcpu_info, evtchn_upcall_mask);
	SAME(xen_vcpu_info, vcpu_info, time);
	SAME(xen_vcpu_time_info, vcpu_time_info, tsc_timestamp);
	SAME(xen_vcpu_time_info, vcpu_time_info, system_time);
	SAME(xen_vcpu_time_info, vcpu_time_info, tsc_to_system_mul);
	SAME(xen_vcpu_time_info, vcpu_time_info, tsc_shift);
	SAME(xen_shared_info, shared_info, evtchn_pending);
	SAME(xen_shared_info, shared_info, evtchn_mask);
	SAME(xen_shared_info, shared_info, wc_sec_hi);
	CHECK_EQ(sizeof(struct xen_sched_poll), sizeof(struct sched_poll));
	SAME(xen_sched_poll, sched_poll, nr_ports);
	SAME(xen_sched_poll, sched_poll, timeout);
	CHECK_EQ(sizeof(struct xen_evtchn_alloc_unbound), sizeof(struct evtchn_alloc_unbound));
	SAME(xen_evtchn_alloc_unbound, evtchn_alloc_unbound, port);
	CHECK_EQ(sizeof(struct xen_gnttab_setup_table), sizeof(struct gnttab_setup_table));
	SAME(xen_gnttab_setup_table, gnttab_setup_table, status);
	SAME(xen_gnttab_setup_table, gnttab_setup_table, frame_list);
	CHECK_EQ(sizeof(struct xen_gnttab_query_size), sizeof(struct gnttab_query_size));
	SAME(xen_gnttab_query_size, gnttab_query_size, max_nr_frames);
	SAME(xen_gnttab_query_size, gnttab_query_size, status);
	CHECK_EQ(sizeof(struct xen_grant_entry_v1), sizeof(struct grant_entry_v1));
	SAME(xen_grant_entry_v1, grant_entry_v1, frame);
	CHECK_EQ(sizeof(struct xen_cons_interface), sizeof(struct xencons_interface));
	SAME(xen_cons_interface, xencons_interface, out_prod);
	CHECK_EQ(sizeof(struct xen_xs_interface), sizeof(struct xenstore_domain_interface));
	SAME(xen_xs_interface, xenstore_domain_interface, rsp_prod);
	SAME(xen_xs_interface, xenstore_domain_interface, error);
	CHECK_EQ(sizeof(struct xen_xs_hdr), sizeof(struct xsd_sockmsg));
	CHECK_EQ(XEN_HC_sched_op, __HYPERVISOR_sched_op);
	CHECK_EQ(XEN_HC_event_channel_op, __HYPERVISOR_event_channel_op);
	CHECK_EQ(XEN_HC_grant_table_op, __HYPERVISOR_grant_table_op);
	CHECK_EQ(XEN_HC_update_va_mapping, __HYPERVISOR_update_va_mapping);
	CHECK_EQ(XEN_HC_console_io, __HYPERVISOR_console_io);
	CHECK_EQ(XEN_SCHEDOP_poll, SCHEDOP_poll);
	CHECK_EQ(XEN_SCHEDOP_shutdown, SCHEDOP_shutdown);
	CHECK_EQ(XEN_SHUTDOWN_crash, SHUTDOWN_crash);
	CHECK_EQ(XEN_EVTCHNOP_alloc_unbound, EVTCHNOP_alloc_unbound);
	CHECK_EQ(XEN_EVTCHNOP_send, EVTCHNOP_send);
	CHECK_EQ(XEN_GNTTABOP_setup_table, GNTTABOP_setup_table);
	CHECK_EQ(XEN_GNTTABOP_query_size, GNTTABOP_query_size);
	CHECK_EQ(XEN_GTF_reading, GTF_reading);
	CHECK_EQ(XEN_GTF_writing, GTF_writing);
	CHECK_EQ(XEN_GTF_readonly, GTF_readonly);
	CHECK_EQ(XEN_XS_WRITE, XS_WRITE);
	CHECK_EQ(XEN_XS_RM, XS_RM);
	CHECK_EQ(XEN_XS_WATCH_EVENT, XS_WATCH_EVENT);
	CHECK_EQ(XEN_XS_ERROR, XS_ERROR);
	CHECK_EQ(XEN_XS_TRANSACTION_END, XS_TRANSACTION_END);
	CHECK_EQ(XEN_XS_DIRECTORY, XS_DIRECTORY);
	CHECK_EQ(XEN_XS_PAYLOAD_MAX, XENSTORE_PAYLOAD_MAX);
	CHECK_EQ(XEN_ELFNOTE_HYPERCALL_PAGE, 2);
	CHECK_EQ(XEN_ELFNOTE_LOADER, 8);
	CHECK_EQ(XEN_ELFNOTE_PHYS32_ENTRY, 18);
}
#endif

int main(void)
{
	test_encode();
	test_ring();
	test_reply();
	test_watch_event();
	test_gnt();
	test_fmt();
#ifdef HAVE_XEN
	test_abi();
	printf("ABI layouts compared with the host's Xen headers\n");
#else
	printf("SKIP: ABI comparison (no Xen headers)\n");
#endif
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
