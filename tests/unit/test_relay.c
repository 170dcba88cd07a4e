/* Unit tests: the relay policy of xenamp-backend (src/backend/relay.c),
 * on real rings, without a transport or a partition process.
 *
 * Each partition is simulated here: a region in this process's memory
 * with a resource table and two vrings driven by core/vring.h's driver
 * side, as libxenamp lays them out. The backend side talks to it through
 * a fake transport (struct xa_be_ops) that counts notifications and
 * records closes; events (appeared, region ready, kick, gone) are fed to
 * xa_relay_event() directly and rounds run by hand, so every assertion is
 * about one deterministic schedule:
 *
 *  - back-pressure: a sender's TX buffers stay pending while the
 *    receiver has no free RX buffer, and are delivered when it frees
 *    some: no loss, no reordering, no duplicate;
 *  - name-service bookkeeping: announcements tracked per end, withdrawn
 *    ones forgotten; the peer gets destroys when an end goes away and
 *    the live services when it comes back;
 *  - fairness: a flooding link moves at most XA_RELAY_BUDGET messages in
 *    a round, and another link's message goes through in that round;
 *  - notification moderation: one notify per end per round however many
 *    messages moved, none in the middle of a burst while the receiver
 *    has more than half its RX buffers free;
 *  - the per-round flush and the polling scan walk only the ends that
 *    were served (relay.h, notify and polled lists), never every link,
 *    and an end that closes leaves both lists;
 *  - a peer that went away: what the sender's connection had queued for
 *    it, or sends it meanwhile, is dropped, not delivered to the peer's
 *    next connection; a late peer still gets what waited for it;
 *  - a dynamic link that goes is withdrawn from the transports before
 *    its held end is closed. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/log.h"
#include "backend/relay.h"
#include "core/byteorder.h"
#include "core/rpmsg_wire.h"
#include "core/vring.h"
#include "core/xa_error.h"
#include "xenamp/rsc_table.h"

#define PAGE 4096u
#define BUF_SIZE 64u
#define MAX_BUFS 256u
#define VDEV_OFF 32u

/* ------------------------------------------------------------------ */
/* A simulated partition                                               */

struct part {
	const char *name;
	unsigned num;                   /* buffers per direction */
	uint8_t *mem;
	size_t size;
	uint64_t buf_off;               /* RX buffers, then TX buffers */
	struct xa_vq_driver rxq, txq;
	struct xa_vq_driver_slot rxs[MAX_BUFS], txs[MAX_BUFS];
	uint16_t tx_free[MAX_BUFS];
	unsigned ntx_free;
	void *cookie;                   /* what the relay passed to accept() */
	int notifies;
	int closes;
	char why[256];
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void put32(uint8_t *p, uint32_t v)
{
	xa_put_le32(p, v);
}

/* Resource table with one RPMsg vdev and its two vrings. */
static void write_table(struct part *p, uint64_t ring0, uint64_t ring1)
{
	uint8_t *t = p->mem, *v = t + VDEV_OFF;

	put32(t, 1);            /* ver */
	put32(t + 4, 1);        /* num */
	put32(t + 16, VDEV_OFF);
	put32(v, RSC_VDEV);
	put32(v + 4, XA_VIRTIO_ID_RPMSG);
	put32(v + 12, 1u << XA_VIRTIO_RPMSG_F_NS);   /* dfeatures */
	put32(v + 16, 1u << XA_VIRTIO_RPMSG_F_NS);   /* gfeatures */
	v[25] = 2;              /* num_of_vrings */
	for (unsigned i = 0; i < 2; i++) {
		uint8_t *vr = v + 28 + 20 * i;

		put32(vr, (uint32_t)(i == 0 ? ring0 : ring1));
		put32(vr + 4, PAGE);
		put32(vr + 8, p->num);
		put32(vr + 12, i);
	}
}

/* A fresh region: rx_posted RX buffers offered, every TX buffer free. */
static void part_region(struct part *p, unsigned rx_posted)
{
	uint64_t ring = align_up(xa_vring_size(p->num, PAGE), PAGE);

	free(p->mem);
	p->buf_off = PAGE + 2 * ring;
	p->size = align_up(p->buf_off + 2u * p->num * BUF_SIZE, PAGE);
	p->mem = aligned_alloc(PAGE, p->size);
	ck_assert_ptr_nonnull(p->mem);
	memset(p->mem, 0, p->size);
	write_table(p, PAGE, PAGE + ring);
	ck_assert_int_eq(xa_vqdrv_init(&p->rxq, p->mem + PAGE, p->num, PAGE, p->rxs), XA_OK);
	ck_assert_int_eq(xa_vqdrv_init(&p->txq, p->mem + PAGE + ring, p->num, PAGE,
				       p->txs), XA_OK);
	for (unsigned i = 0; i < rx_posted; i++)
		ck_assert_int_eq(xa_vqdrv_add(&p->rxq, p->buf_off + i * BUF_SIZE, BUF_SIZE,
					      true, (void *)(uintptr_t)(i + 1)), XA_OK);
	(void)xa_vqdrv_publish(&p->rxq);
	p->ntx_free = 0;
	for (unsigned i = p->num; i-- > 0;)
		p->tx_free[p->ntx_free++] = (uint16_t)i;
}

/* ------------------------------------------------------------------ */
/* The fake transport                                                  */

static struct part *of(struct xa_be_end *h)
{
	return (struct part *)h;
}

static int f_declare(struct xa_be_transport *t, const char *p, unsigned d)
{
	(void)t, (void)p, (void)d;
	return 0;
}

static int f_accept(struct xa_be_transport *t, struct xa_be_end *h, void *cookie,
		    const struct xa_link_params *params, char *err, size_t errlen)
{
	(void)t, (void)params, (void)err, (void)errlen;
	of(h)->cookie = cookie;
	return 0;
}

static int f_set_state(struct xa_be_transport *t, struct xa_be_end *h,
		       enum xa_state s)
{
	(void)t, (void)h, (void)s;
	return 0;
}

static int f_notify(struct xa_be_transport *t, struct xa_be_end *h)
{
	(void)t;
	of(h)->notifies++;
	return 0;
}

/* What withdraw_end and close_end were called for, in order: "w:e:0 c:e " */
static char calls[256];

static void f_withdraw(struct xa_be_transport *t, const char *p, unsigned d)
{
	size_t n = strlen(calls);

	(void)t;
	snprintf(calls + n, sizeof(calls) - n, "w:%s:%u ", p, d);
}

static void f_close(struct xa_be_transport *t, struct xa_be_end *h, int code,
		    const char *why)
{
	size_t n = strlen(calls);

	(void)t, (void)code;
	snprintf(calls + n, sizeof(calls) - n, "c:%s ", of(h)->name);
	of(h)->closes++;
	of(h)->cookie = NULL;
	snprintf(of(h)->why, sizeof(of(h)->why), "%s", why ? why : "");
}

static const struct xa_be_ops fake_ops = {
	.name = "fake",
	.declare_end = f_declare,
	.accept = f_accept,
	.set_state = f_set_state,
	.notify = f_notify,
	.close_end = f_close,
	.withdraw_end = f_withdraw,
};
static struct xa_be_transport fake = { .ops = &fake_ops };

/* ------------------------------------------------------------------ */
/* Set-up: links a-b and c-d                                           */

static struct xa_cfg_link links[2];
static struct xa_config cfg;
static struct xa_relay relay;
static struct part pa, pb, pc, pd;
static unsigned dyn_links;   /* cfg.dynamic_links of the next start() */

static void set_link(struct xa_cfg_link *l, const char *name, const char *a,
		     const char *b, unsigned num)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	snprintf(l->end[0].partition, sizeof(l->end[0].partition), "%s", a);
	snprintf(l->end[1].partition, sizeof(l->end[1].partition), "%s", b);
	l->buf_size = BUF_SIZE;
	l->buf_count = num;
}

/* Both links with num buffers per direction. */
static void start(unsigned num)
{
	char err[256];
	struct part *ps[4] = { &pa, &pb, &pc, &pd };
	const char *names[4] = { "a", "b", "c", "d" };

	set_link(&links[0], "ab", "a", "b", num);
	set_link(&links[1], "cd", "c", "d", num);
	memset(&cfg, 0, sizeof(cfg));
	cfg.max_pages = 4096;
	cfg.max_services = 8;
	cfg.log_level = -1;
	cfg.links = links;
	cfg.nlinks = 2;
	cfg.dynamic_links = dyn_links;
	calls[0] = '\0';
	for (int i = 0; i < 4; i++) {
		memset(ps[i], 0, sizeof(*ps[i]));
		ps[i]->name = names[i];
		ps[i]->num = num;
	}
	/* No adaptive polling: every empty ring is armed, as when idle. */
	setenv("XENAMP_POLL_US", "0", 1);
	xa_log_set_level(XA_LOG_ERROR);
	ck_assert_int_eq(xa_relay_init(&relay, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(xa_relay_add_transport(&relay, &fake, err, sizeof(err)), 0);
}

static void stop(void)
{
	xa_relay_shutdown(&relay);
	xa_relay_free(&relay);
	free(pa.mem);
	free(pb.mem);
	free(pc.mem);
	free(pd.mem);
	pa.mem = pb.mem = pc.mem = pd.mem = NULL;
}

static void event(struct part *p, enum xa_be_event_type type)
{
	struct xa_be_event ev = {
		.type = type, .end = (struct xa_be_end *)p, .cookie = p->cookie,
		.partition = p->name, .devno = 0, .peer = "test",
		.region = p->mem, .region_size = p->size,
	};

	xa_relay_event(&relay, &fake, &ev);
}

static struct xa_end *end_of(struct part *p)
{
	return xa_reg_find_end(&relay.reg, p->name, 0);
}

static void part_connect(struct part *p, unsigned rx_posted)
{
	part_region(p, rx_posted);
	event(p, XA_BE_EV_END_APPEARED);
	ck_assert_ptr_nonnull(p->cookie);
	event(p, XA_BE_EV_REGION_READY);
	ck_assert(xa_end_connected(end_of(p)));
}

static void run(void)
{
	for (int i = 0; i < 1000 && xa_relay_busy(&relay); i++)
		xa_relay_round(&relay);
	ck_assert(!xa_relay_busy(&relay));
}

/* ------------------------------------------------------------------ */
/* The partition's side of the rings                                   */

/* Queue one message (no kick). */
static void post(struct part *p, uint32_t src, uint32_t dst, const void *payload,
		 uint16_t len)
{
	struct xa_rpmsg_hdr h = { .src = src, .dst = dst, .len = len };
	void *tok;
	uint32_t ul;
	uint16_t i;

	while (xa_vqdrv_get_used(&p->txq, &tok, &ul) == XA_OK)
		p->tx_free[p->ntx_free++] = (uint16_t)((uintptr_t)tok - 1);
	ck_assert_uint_gt(p->ntx_free, 0);
	i = p->tx_free[--p->ntx_free];
	uint64_t off = p->buf_off + (uint64_t)(p->num + i) * BUF_SIZE;

	xa_rpmsg_hdr_encode(p->mem + off, &h);
	memcpy(p->mem + off + XA_RPMSG_HDR_SIZE, payload, len);
	ck_assert_int_eq(xa_vqdrv_add(&p->txq, off, XA_RPMSG_HDR_SIZE + len, false,
				      (void *)(uintptr_t)(i + 1)), XA_OK);
	(void)xa_vqdrv_publish(&p->txq);
}

static void send_seq(struct part *p, uint32_t seq)
{
	uint8_t b[4];

	xa_put_le32(b, seq);
	post(p, 1024, 1025, b, sizeof(b));
}

static void announce(struct part *p, const char *name, uint32_t addr,
		     uint32_t flags)
{
	uint8_t ns[XA_RPMSG_NS_SIZE];

	xa_rpmsg_ns_encode(ns, name, addr, flags);
	post(p, addr, XA_RPMSG_NS_ADDR, ns, sizeof(ns));
}

/* The next delivered message of p: 1 and *h filled (payload copied into
 * out, at most outlen bytes), or 0 when none. The buffer is not given
 * back (see repost). */
static int recv_msg(struct part *p, struct xa_rpmsg_hdr *h, void *out,
		    size_t outlen, unsigned *idx)
{
	void *tok;
	uint32_t len;
	int rc = xa_vqdrv_get_used(&p->rxq, &tok, &len);

	if (rc == XA_EMPTY)
		return 0;
	ck_assert_int_eq(rc, XA_OK);
	*idx = (unsigned)((uintptr_t)tok - 1);
	const uint8_t *b = p->mem + p->buf_off + (uint64_t)*idx * BUF_SIZE;

	ck_assert_int_eq(xa_rpmsg_hdr_decode(b, len, h), XA_OK);
	memcpy(out, b + XA_RPMSG_HDR_SIZE, h->len < outlen ? h->len : outlen);
	return 1;
}

static void repost(struct part *p, unsigned idx)
{
	ck_assert_int_eq(xa_vqdrv_add(&p->rxq, p->buf_off + (uint64_t)idx * BUF_SIZE,
				      BUF_SIZE, true, (void *)(uintptr_t)(idx + 1)),
			 XA_OK);
	(void)xa_vqdrv_publish(&p->rxq);
}

/* Data messages received, their sequence numbers appended to seqs. */
static unsigned recv_seqs(struct part *p, uint32_t *seqs, unsigned max,
			  unsigned *idx, unsigned *nidx)
{
	struct xa_rpmsg_hdr h;
	uint8_t b[4];
	unsigned n = 0, i;

	while (n < max && recv_msg(p, &h, b, sizeof(b), &i)) {
		ck_assert_uint_eq(h.len, 4);
		seqs[n++] = xa_get_le32(b);
		if (idx != NULL)
			idx[(*nidx)++] = i;
	}
	return n;
}

/* The next name-service message of p. */
static void expect_ns(struct part *p, const char *name, uint32_t addr,
		      uint32_t flags)
{
	struct xa_rpmsg_hdr h;
	struct xa_rpmsg_ns ns;
	uint8_t b[XA_RPMSG_NS_SIZE];
	unsigned i;

	ck_assert_msg(recv_msg(p, &h, b, sizeof(b), &i) == 1,
		      "%s: no name-service message (wanted '%s')", p->name, name);
	ck_assert_uint_eq(h.dst, XA_RPMSG_NS_ADDR);
	ck_assert_int_eq(xa_rpmsg_ns_decode(b, h.len, &ns), XA_OK);
	ck_assert_str_eq(ns.name, name);
	ck_assert_uint_eq(ns.addr, addr);
	ck_assert_uint_eq(ns.flags, flags);
	repost(p, i);
}

/* ------------------------------------------------------------------ */
/* Back-pressure                                                       */

START_TEST(backpressure_holds_then_delivers_in_order)
{
	uint32_t got[16];
	unsigned idx[16], nidx = 0, n;

	start(8);
	part_connect(&pa, 8);
	part_connect(&pb, 2);            /* b offers 2 RX buffers only */
	run();
	for (uint32_t s = 0; s < 5; s++)
		send_seq(&pa, s);
	event(&pa, XA_BE_EV_KICK);
	run();

	n = recv_seqs(&pb, got, 16, idx, &nidx);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(got[0], 0);
	ck_assert_uint_eq(got[1], 1);
	/* The other three are still a's: not returned, not lost. */
	ck_assert_int_eq(xa_vqdrv_used_pending(&pa.txq), 2);
	ck_assert(end_of(&pa)->blocked);
	ck_assert_uint_eq(end_of(&pa)->st.backpressure, 1);
	ck_assert_int_eq(xa_vqdev_avail_count(&end_of(&pa)->dev.tx.vq), 3);
	/* b waits for nothing; its RX ring is armed: it will kick. */
	ck_assert(end_of(&pb)->dev.rx.armed);

	/* b frees its two buffers and offers one more. */
	repost(&pb, idx[0]);
	repost(&pb, idx[1]);
	repost(&pb, 2);
	event(&pb, XA_BE_EV_KICK);
	run();
	n = recv_seqs(&pb, got + 2, 14, NULL, NULL);
	ck_assert_uint_eq(n, 3);
	for (uint32_t s = 0; s < 5; s++)
		ck_assert_uint_eq(got[s], s);
	ck_assert(!end_of(&pa)->blocked);
	ck_assert_int_eq(xa_vqdrv_used_pending(&pa.txq), 5);
	ck_assert_uint_eq(end_of(&pa)->st.msgs_in, 5);
	ck_assert_uint_eq(end_of(&pb)->st.msgs_out, 5);
	ck_assert_int_eq(pa.closes + pb.closes, 0);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Name service                                                        */

START_TEST(name_service_bookkeeping)
{
	struct xa_end *ea;

	start(8);
	part_connect(&pa, 8);
	part_connect(&pb, 8);
	run();
	ea = end_of(&pa);

	announce(&pa, "svc-x", 1024, XA_RPMSG_NS_CREATE);
	announce(&pa, "svc-y", 1025, XA_RPMSG_NS_CREATE);
	event(&pa, XA_BE_EV_KICK);
	run();
	expect_ns(&pb, "svc-x", 1024, XA_RPMSG_NS_CREATE);
	expect_ns(&pb, "svc-y", 1025, XA_RPMSG_NS_CREATE);
	ck_assert_uint_eq(ea->nsvc, 2);

	announce(&pa, "svc-y", 1025, XA_RPMSG_NS_DESTROY);
	event(&pa, XA_BE_EV_KICK);
	run();
	expect_ns(&pb, "svc-y", 1025, XA_RPMSG_NS_DESTROY);
	ck_assert_uint_eq(ea->nsvc, 1);
	ck_assert_str_eq(ea->svc[0].name, "svc-x");

	/* b goes and comes back with a fresh region: it is told a's live
	 * services (svc-x), not the withdrawn one. */
	event(&pb, XA_BE_EV_END_GONE);
	ck_assert(!xa_end_connected(end_of(&pb)));
	run();
	part_connect(&pb, 8);
	run();
	expect_ns(&pb, "svc-x", 1024, XA_RPMSG_NS_CREATE);
	ck_assert_int_eq(xa_vqdrv_used_pending(&pb.rxq), 0);
	ck_assert_uint_eq(end_of(&pb)->st.ns_built, 1);

	/* a goes: b is told its services are gone. */
	event(&pa, XA_BE_EV_END_GONE);
	run();
	expect_ns(&pb, "svc-x", 1024, XA_RPMSG_NS_DESTROY);
	ck_assert_int_eq(xa_vqdrv_used_pending(&pb.rxq), 0);
	ck_assert_uint_eq(end_of(&pb)->st.ns_built, 2);
	ck_assert_uint_eq(ea->nsvc, 0);
	stop();
}
END_TEST

/* A partition announces services at reserved addresses (0, 1023) and a
 * dynamic one. When it goes, the backend withdraws in its place only what
 * it would have withdrawn itself: the dynamic one. RPMsg never announces
 * the destruction of a reserved address (OpenAMP peers report such a
 * destroy as an error). A peer that connects later still learns all
 * three (they were announced). */
START_TEST(name_service_no_destroy_below_1024)
{
	start(8);
	part_connect(&pa, 8);
	part_connect(&pb, 8);
	run();

	announce(&pa, "svc-r0", 0, XA_RPMSG_NS_CREATE);
	announce(&pa, "svc-r1023", 1023, XA_RPMSG_NS_CREATE);
	announce(&pa, "svc-d", 1024, XA_RPMSG_NS_CREATE);
	event(&pa, XA_BE_EV_KICK);
	run();
	expect_ns(&pb, "svc-r0", 0, XA_RPMSG_NS_CREATE);
	expect_ns(&pb, "svc-r1023", 1023, XA_RPMSG_NS_CREATE);
	expect_ns(&pb, "svc-d", 1024, XA_RPMSG_NS_CREATE);
	ck_assert_uint_eq(end_of(&pa)->nsvc, 3);

	/* b comes back: told all three live services. */
	event(&pb, XA_BE_EV_END_GONE);
	run();
	part_connect(&pb, 8);
	run();
	expect_ns(&pb, "svc-r0", 0, XA_RPMSG_NS_CREATE);
	expect_ns(&pb, "svc-r1023", 1023, XA_RPMSG_NS_CREATE);
	expect_ns(&pb, "svc-d", 1024, XA_RPMSG_NS_CREATE);
	ck_assert_uint_eq(end_of(&pb)->st.ns_built, 3);

	/* a goes: one destroy, for the dynamic address only. */
	event(&pa, XA_BE_EV_END_GONE);
	run();
	expect_ns(&pb, "svc-d", 1024, XA_RPMSG_NS_DESTROY);
	ck_assert_int_eq(xa_vqdrv_used_pending(&pb.rxq), 0);
	ck_assert_uint_eq(end_of(&pb)->st.ns_built, 4);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Fairness                                                            */

START_TEST(fairness_between_links)
{
	uint32_t got[MAX_BUFS];
	unsigned flood = 128, nb, nd, rounds = 1;

	start(128);
	part_connect(&pa, 128);
	part_connect(&pb, 128);
	part_connect(&pc, 128);
	part_connect(&pd, 128);
	run();
	for (uint32_t s = 0; s < flood; s++)
		send_seq(&pa, s);
	event(&pa, XA_BE_EV_KICK);
	send_seq(&pc, 7);
	event(&pc, XA_BE_EV_KICK);

	/* One round: a's flood is cut at the budget, c's message goes. */
	xa_relay_round(&relay);
	ck_assert_uint_eq(end_of(&pb)->st.msgs_out, XA_RELAY_BUDGET);
	ck_assert_uint_eq(end_of(&pd)->st.msgs_out, 1);
	nd = recv_seqs(&pd, got, 1, NULL, NULL);
	ck_assert_uint_eq(nd, 1);
	ck_assert_uint_eq(got[0], 7);

	while (xa_relay_busy(&relay) && rounds < 100) {
		xa_relay_round(&relay);
		rounds++;
	}
	ck_assert_uint_eq(rounds, (flood + XA_RELAY_BUDGET - 1) / XA_RELAY_BUDGET + 1);
	nb = recv_seqs(&pb, got, MAX_BUFS, NULL, NULL);
	ck_assert_uint_eq(nb, flood);
	for (uint32_t s = 0; s < flood; s++)
		ck_assert_uint_eq(got[s], s);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Notification moderation                                             */

START_TEST(one_notify_per_end_per_round)
{
	uint32_t got[8];

	start(8);
	part_connect(&pa, 8);
	part_connect(&pb, 8);
	run();
	pa.notifies = pb.notifies = 0;
	for (uint32_t s = 0; s < 3; s++)
		send_seq(&pa, s);
	event(&pa, XA_BE_EV_KICK);
	xa_relay_round(&relay);
	/* Three messages, one call each way: b for its RX, a for its TX
	 * buffers coming back. */
	ck_assert_int_eq(pb.notifies, 1);
	ck_assert_int_eq(pa.notifies, 1);
	ck_assert_uint_eq(recv_seqs(&pb, got, 8, NULL, NULL), 3);
	run();
	ck_assert_int_eq(pb.notifies, 1);

	/* A driver that does not want interrupts gets none. */
	xa_vqdrv_disable_notify(&pb.rxq);
	send_seq(&pa, 3);
	event(&pa, XA_BE_EV_KICK);
	run();
	ck_assert_int_eq(pb.notifies, 1);
	ck_assert_uint_eq(recv_seqs(&pb, got, 8, NULL, NULL), 1);
	stop();
}
END_TEST

START_TEST(no_notify_mid_burst)
{
	/* 256 RX buffers: after one round of XA_RELAY_BUDGET (64), 192 are
	 * free, more than half: nothing is published yet. After the second
	 * (128 free, not more than half) it is, once. */
	const unsigned flood = 200;
	const int want[] = { 0, 1, 1, 1 };
	uint32_t got[MAX_BUFS];
	int pending[4];

	start(256);
	part_connect(&pa, 256);
	part_connect(&pb, 256);
	run();
	pa.notifies = pb.notifies = 0;
	for (uint32_t s = 0; s < flood; s++)
		send_seq(&pa, s);
	event(&pa, XA_BE_EV_KICK);
	for (int i = 0; i < 4; i++) {
		int before = pb.notifies;

		ck_assert(xa_relay_busy(&relay));
		xa_relay_round(&relay);
		ck_assert_msg(pb.notifies - before == want[i],
			      "round %d: %d notifies, want %d", i + 1,
			      pb.notifies - before, want[i]);
		pending[i] = xa_vqdrv_used_pending(&pb.rxq);
	}
	ck_assert(!xa_relay_busy(&relay));
	/* What b can see after each round: nothing, then whole rounds. */
	ck_assert_int_eq(pending[0], 0);
	ck_assert_int_eq(pending[1], 2 * XA_RELAY_BUDGET);
	ck_assert_int_eq(pending[2], 3 * XA_RELAY_BUDGET);
	ck_assert_int_eq(pending[3], (int)flood);
	ck_assert_uint_eq(recv_seqs(&pb, got, MAX_BUFS, NULL, NULL), flood);
	for (uint32_t s = 0; s < flood; s++)
		ck_assert_uint_eq(got[s], s);
	/* a's TX buffers came back with b's deliveries: as many calls. */
	ck_assert_int_eq(pa.notifies, 3);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* The walks follow the served ends, not the links                     */

static bool on_list(struct xa_end *head, struct xa_end *e, bool polled,
		    unsigned *len)
{
	bool found = false;

	*len = 0;
	for (struct xa_end *x = head; x != NULL; x = polled ? x->pnext : x->nnext) {
		found |= x == e;
		++*len;
	}
	return found;
}

/* The sleep decision with the polling window shut: the scan that arms
 * what is left unarmed and drops what it finds armed. */
static void arm_scan(void)
{
	relay.poll_ns = 1;
	ck_assert_int_eq(xa_relay_poll_timeout(&relay), -1);
	relay.poll_ns = 0;   /* back to arming every empty ring at once */
	relay.sleep_ns = 0;
}

START_TEST(walks_follow_served_ends)
{
	unsigned n;

	start(8);
	part_connect(&pa, 8);
	part_connect(&pb, 8);
	part_connect(&pc, 8);
	part_connect(&pd, 8);
	run();
	ck_assert_ptr_null(relay.nhead);   /* every flush empties it */
	arm_scan();
	ck_assert_ptr_null(relay.phead);   /* every ring armed: nothing to watch */

	/* Traffic on link ab only: the polled list holds a and b, not the
	 * quiet link cd; the round's flush leaves the notify list empty. */
	send_seq(&pa, 1);
	event(&pa, XA_BE_EV_KICK);
	xa_relay_round(&relay);
	ck_assert_ptr_null(relay.nhead);
	ck_assert_int_eq(pb.notifies > 0, 1);
	ck_assert(on_list(relay.phead, end_of(&pa), true, &n));
	ck_assert(on_list(relay.phead, end_of(&pb), true, &n));
	ck_assert_uint_eq(n, 2);
	ck_assert(!end_of(&pc)->plisted && !end_of(&pd)->plisted);
	run();
	arm_scan();
	ck_assert_ptr_null(relay.phead);

	/* An end that closes while listed leaves the list. */
	send_seq(&pc, 2);
	event(&pc, XA_BE_EV_KICK);
	xa_relay_round(&relay);
	ck_assert(on_list(relay.phead, end_of(&pc), true, &n));
	event(&pc, XA_BE_EV_END_GONE);
	ck_assert(!on_list(relay.phead, end_of(&pc), true, &n));
	ck_assert(!end_of(&pc)->plisted && !end_of(&pc)->nlisted);
	ck_assert(!on_list(relay.nhead, end_of(&pc), false, &n));
	run();
	arm_scan();
	ck_assert_ptr_null(relay.phead);
	stop();
}
END_TEST

/* ------------------------------------------------------------------ */
/* A peer that went away                                               */

/* What a had queued for b when b went away, and what that connection of
 * a sends while b is away, was meant for that b: it is dropped (a gets
 * its buffers back), never delivered to b's next connection, a restarted
 * partition that reuses the old one's addresses (the echo client of
 * tests/xen step 9b got a reply to its predecessor's message). A late
 * peer still gets what was sent before it came: one that never
 * connected, or one that left before the sender connected. */
START_TEST(gone_peer_gets_nothing_meant_for_its_predecessor)
{
	uint32_t got[16];
	unsigned n;

	start(8);
	part_connect(&pa, 8);
	part_connect(&pb, 0);            /* b takes nothing yet */
	run();
	send_seq(&pa, 0);
	send_seq(&pa, 1);
	event(&pa, XA_BE_EV_KICK);
	run();
	ck_assert_int_eq(xa_vqdrv_used_pending(&pa.txq), 0);
	event(&pb, XA_BE_EV_END_GONE);
	run();
	/* a's two messages to the b that left: returned, not delivered */
	ck_assert_int_eq(xa_vqdrv_used_pending(&pa.txq), 2);
	ck_assert_uint_eq(end_of(&pa)->st.dropped, 2);
	ck_assert_uint_eq(end_of(&pa)->st.msgs_in, 0);
	ck_assert_int_gt(pa.notifies, 0);
	send_seq(&pa, 2);                /* while b is away (post took back 2) */
	event(&pa, XA_BE_EV_KICK);
	run();
	ck_assert_int_eq(xa_vqdrv_used_pending(&pa.txq), 1);
	ck_assert_uint_eq(end_of(&pa)->st.dropped, 3);

	part_connect(&pb, 8);            /* b's next connection */
	run();
	send_seq(&pa, 3);
	event(&pa, XA_BE_EV_KICK);
	run();
	n = recv_seqs(&pb, got, 16, NULL, NULL);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(got[0], 3);
	ck_assert_uint_eq(end_of(&pa)->st.dropped, 3);

	/* b leaves again, then a: a's next connection never talked to a b,
	 * so what it sends waits for b. */
	event(&pb, XA_BE_EV_END_GONE);
	event(&pa, XA_BE_EV_END_GONE);
	run();
	part_connect(&pa, 8);
	send_seq(&pa, 4);
	event(&pa, XA_BE_EV_KICK);
	run();
	part_connect(&pb, 8);
	run();
	n = recv_seqs(&pb, got, 16, NULL, NULL);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(got[0], 4);
	ck_assert_uint_eq(end_of(&pa)->st.dropped, 3);

	/* c writes to d before d ever connected: d gets it. */
	part_connect(&pc, 8);
	send_seq(&pc, 7);
	event(&pc, XA_BE_EV_KICK);
	run();
	part_connect(&pd, 8);
	run();
	n = recv_seqs(&pd, got, 16, NULL, NULL);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(got[0], 7);
	ck_assert_uint_eq(end_of(&pc)->st.dropped, 0);
	stop();
}
END_TEST

/* A dynamic link that goes is withdrawn from the transports (a Xen
 * domain is no longer offered its device) before its held end is
 * closed, so that the transport does not offer that end again; a link
 * of xenamp.conf, or one refused with -EBUSY, is not. Re-pointing a
 * dynamic link withdraws its old ends. */
START_TEST(link_remove_withdraws_ends)
{
	struct xa_registry *reg;
	struct xa_cfg_link c;
	static struct part pe = { .name = "e", .num = 8 };
	char err[256];
	bool added, updated;

	dyn_links = 2;
	start(8);
	dyn_links = 0;
	reg = &relay.reg;
	set_link(&c, "ef", "e", "f", 8);
	ck_assert_int_eq(xa_reg_link_add(reg, &c, &added, &updated, NULL, err, sizeof(err)), 0);
	ck_assert(added);
	event(&pe, XA_BE_EV_END_APPEARED);   /* e takes its end: InitWait */
	ck_assert_ptr_nonnull(pe.cookie);

	ck_assert_int_eq(xa_reg_link_remove(reg, "ef", false, err, sizeof(err)), -EBUSY);
	ck_assert_int_eq(xa_reg_link_remove(reg, "ab", true, err, sizeof(err)), -EPERM);
	ck_assert_str_eq(calls, "");
	ck_assert_int_eq(xa_reg_link_remove(reg, "ef", true, err, sizeof(err)), 0);
	ck_assert_str_eq(calls, "w:e:0 w:f:0 c:e ");
	ck_assert_uint_eq(pe.closes, 1);

	calls[0] = '\0';
	set_link(&c, "gh", "g", "h", 8);
	ck_assert_int_eq(xa_reg_link_add(reg, &c, &added, &updated, NULL, err, sizeof(err)), 0);
	set_link(&c, "gh", "g", "i", 8);
	ck_assert_int_eq(xa_reg_link_add(reg, &c, &added, &updated, NULL, err, sizeof(err)), 0);
	ck_assert(updated);
	ck_assert_str_eq(calls, "w:g:0 w:h:0 ");
	stop();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("relay");
	TCase *tc = tcase_create("policy");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, backpressure_holds_then_delivers_in_order);
	tcase_add_test(tc, name_service_bookkeeping);
	tcase_add_test(tc, name_service_no_destroy_below_1024);
	tcase_add_test(tc, fairness_between_links);
	tcase_add_test(tc, one_notify_per_end_per_round);
	tcase_add_test(tc, no_notify_mid_burst);
	tcase_add_test(tc, walks_follow_served_ends);
	tcase_add_test(tc, gone_peer_gets_nothing_meant_for_its_predecessor);
	tcase_add_test(tc, link_remove_withdraws_ends);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
