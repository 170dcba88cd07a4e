/* One RPMsg device of a firmware domain (contract in fw_rpmsg.h). */
#include "firmware/runtime/fw.h"
#include "firmware/rpmsg/fw_rpmsg.h"

#include <xenamp/rsc_table.h>

#include "core/byteorder.h"
#include "core/rpmsg_wire.h"

#define PAGE 4096u
#define VRING_ALIGN 4096u
#define RSC_VDEV_OFF 20u
#define STATUS_READY 0x07u         /* ACKNOWLEDGE | DRIVER | DRIVER_OK */
/* xenbus states (src/common/state.h) */
#define ST_INITWAIT 2
#define ST_INITIALISED 3
#define ST_CONNECTED 4
#define ST_CLOSING 5
#define ST_CLOSED 6

/* The one region: granted page by page to the backend domain. */
static uint8_t region[FW_RPMSG_MAX_PAGES * PAGE] __attribute__((aligned(PAGE)));

static uint64_t deadline_ms(uint32_t ms)
{
	return fw_now_ns() + (uint64_t)ms * 1000000u;
}

/* Sleep for xenstore news until deadline, but at most 1 s: a watch event
 * can be missed (xenstored drops them under pressure), so the callers look
 * again now and then, as xen_fe.c does. 0 once the deadline has passed. */
static int xs_nap(uint64_t deadline)
{
	uint64_t step = fw_now_ns() + 1000000000ull;

	if (fw_now_ns() >= deadline)
		return 0;
	(void)fw_xs_wait(step < deadline ? step : deadline, 0);
	return 1;
}

static uint32_t align_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int fe_read_uint(struct fw_rpmsg_dev *d, const char *key, unsigned long *v)
{
	char p[96];

	fw_snprintf(p, sizeof(p), "%s/%s", d->fe_dir, key);
	return fw_xs_read_uint(0, p, v);
}

/* The backend's state; its node gone reads as Closed. */
static int read_be_state(struct fw_rpmsg_dev *d)
{
	char p[112];
	unsigned long v;

	if (d->be_dir[0] == '\0')
		return 0;
	fw_snprintf(p, sizeof(p), "%s/state", d->be_dir);
	d->be_state = fw_xs_read_uint(0, p, &v) < 0 ? ST_CLOSED : (int)v;
	return d->be_state;
}

/* Follow fe_dir/backend (watching its state) and report whether the
 * backend sits in InitWait with the three link parameters written. */
static bool offered(struct fw_rpmsg_dev *d, unsigned long *bs, unsigned long *bc,
		    unsigned long *mp)
{
	char p[96], be[96];

	fw_snprintf(p, sizeof(p), "%s/backend", d->fe_dir);
	if (fw_xs_read(0, p, be, sizeof(be), NULL) < 0)
		return false;
	if (strcmp(be, d->be_dir) != 0) {
		char w[112];

		memcpy(d->be_dir, be, sizeof(be));
		fw_snprintf(w, sizeof(w), "%s/state", d->be_dir);
		(void)fw_xs_watch(w, "be");
	}
	return read_be_state(d) == ST_INITWAIT &&
	       fe_read_uint(d, "buf-size", bs) == 0 &&
	       fe_read_uint(d, "buf-count", bc) == 0 &&
	       fe_read_uint(d, "max-pages", mp) == 0;
}

/* Wait for the offer. A frontend state of Initialised or Connected left
 * by an earlier boot of this domain is moved to Closed first, so that the
 * backend releases that region and offers the device again (as xen_fe.c). */
static int wait_offer(struct fw_rpmsg_dev *d, uint64_t deadline, unsigned long *bs,
		      unsigned long *bc, unsigned long *mp)
{
	unsigned long st;

	if (fe_read_uint(d, "state", &st) == 0 &&
	    (st == ST_INITIALISED || st == ST_CONNECTED)) {
		char p[96];

		fw_snprintf(p, sizeof(p), "%s/state", d->fe_dir);
		(void)fw_xs_printf(0, p, "%d", ST_CLOSED);
	}
	for (;;) {
		(void)fw_xs_take_events();   /* before looking: no lost wake-up */
		if (offered(d, bs, bc, mp))
			return 0;
		if (xs_nap(deadline) == 0)
			return -FW_ETIMEDOUT;
	}
}

/* The layout of docs/protocol.md for the backend's parameters. */
static int layout(struct fw_rpmsg_dev *d, unsigned long bs, unsigned long bc,
		  unsigned long mp)
{
	uint32_t vsize, bufs, off;

	if (bc == 0 || (bc & (bc - 1)) != 0 || bc > FW_RPMSG_MAX_BUFS ||
	    bs < XA_RPMSG_HDR_SIZE + XA_RPMSG_NS_SIZE || bs > 65536 || mp == 0) {
		fw_printf("xenamp-fw: rpmsg: link parameters buf-size %lu buf-count %lu max-pages %lu do not fit this firmware (at most %u buffers)\n",
			  bs, bc, mp, FW_RPMSG_MAX_BUFS);
		return -FW_EINVAL;
	}
	d->buf_size = (uint32_t)bs;
	d->buf_count = (uint32_t)bc;
	d->max_pages = mp > 0xffffffffUL ? 0xffffffffu : (uint32_t)mp;
	d->stride = align_up(d->buf_size, 16);
	vsize = align_up((uint32_t)xa_vring_size(d->buf_count, VRING_ALIGN), PAGE);
	bufs = align_up(d->buf_count * d->stride, PAGE);
	off = PAGE;
	d->vring_off[0] = off;
	off += vsize;
	d->vring_off[1] = off;
	off += vsize;
	d->rx_off = off;
	off += bufs;
	d->tx_off = off;
	off += bufs;
	d->size = off;
	d->npages = off / PAGE;
	if (d->npages > FW_RPMSG_MAX_PAGES || d->npages > d->max_pages) {
		fw_printf("xenamp-fw: rpmsg: the region needs %u pages; this firmware has %u, the backend maps %u\n",
			  d->npages, FW_RPMSG_MAX_PAGES, d->max_pages);
		return -FW_E2BIG;
	}
	return 0;
}

static void *token(unsigned i)
{
	return (void *)(uintptr_t)(i + 1u);
}

static unsigned token_index(void *t)
{
	return (unsigned)((uintptr_t)t - 1u);
}

static void write_rsc_table(struct fw_rpmsg_dev *d)
{
	uint8_t *t = d->base, *v = t + RSC_VDEV_OFF;
	uint32_t features = 1u << XA_VIRTIO_RPMSG_F_NS;

	xa_put_le32(t + offsetof(struct resource_table, ver), 1);
	xa_put_le32(t + offsetof(struct resource_table, num), 1);
	xa_put_le32(t + offsetof(struct resource_table, offset), RSC_VDEV_OFF);
	xa_put_le32(v + offsetof(struct fw_rsc_vdev, type), RSC_VDEV);
	xa_put_le32(v + offsetof(struct fw_rsc_vdev, id), XA_VIRTIO_ID_RPMSG);
	xa_put_le32(v + offsetof(struct fw_rsc_vdev, notifyid), 2);
	xa_put_le32(v + offsetof(struct fw_rsc_vdev, dfeatures), features);
	xa_put_le32(v + offsetof(struct fw_rsc_vdev, gfeatures), features);
	v[offsetof(struct fw_rsc_vdev, num_of_vrings)] = 2;
	for (unsigned i = 0; i < 2; i++) {
		uint8_t *vr = v + offsetof(struct fw_rsc_vdev, vring) +
			      i * sizeof(struct fw_rsc_vdev_vring);

		xa_put_le32(vr + offsetof(struct fw_rsc_vdev_vring, da), d->vring_off[i]);
		xa_put_le32(vr + offsetof(struct fw_rsc_vdev_vring, align), VRING_ALIGN);
		xa_put_le32(vr + offsetof(struct fw_rsc_vdev_vring, num), d->buf_count);
		xa_put_le32(vr + offsetof(struct fw_rsc_vdev_vring, notifyid), i);
	}
}

/* Lay out the zeroed region: table, both rings, every RX buffer posted,
 * TX interrupts off, then status DRIVER_OK (release: after the rest). */
static int region_init(struct fw_rpmsg_dev *d)
{
	d->base = region;
	memset(region, 0, d->size);
	write_rsc_table(d);
	if (xa_vqdrv_init(&d->rxq, d->base + d->vring_off[0], d->buf_count, VRING_ALIGN,
			  d->rx_slots) != XA_OK ||
	    xa_vqdrv_init(&d->txq, d->base + d->vring_off[1], d->buf_count, VRING_ALIGN,
			  d->tx_slots) != XA_OK)
		return -FW_EINVAL;
	for (unsigned i = 0; i < d->buf_count; i++)
		(void)xa_vqdrv_add(&d->rxq, d->rx_off + (uint64_t)i * d->stride,
				   d->buf_size, true, token(i));
	(void)xa_vqdrv_publish(&d->rxq);
	d->tx_nfree = 0;
	for (unsigned i = d->buf_count; i-- > 0;)
		d->tx_free[d->tx_nfree++] = (uint16_t)i;
	xa_vqdrv_disable_notify(&d->txq);
	__atomic_store_n(d->base + RSC_VDEV_OFF + offsetof(struct fw_rsc_vdev, status),
			 (uint8_t)STATUS_READY, __ATOMIC_RELEASE);
	return 0;
}

static int grant_region(struct fw_rpmsg_dev *d)
{
	for (uint32_t i = 0; i < d->npages; i++) {
		int rc = fw_gnt_grant(d->base + (size_t)i * PAGE, d->be_domid, false,
				      &d->refs[i]);

		if (rc < 0) {
			fw_printf("xenamp-fw: rpmsg: cannot grant page %u of %u to domain %u: %d\n",
				  i, d->npages, d->be_domid, rc);
			return rc;
		}
	}
	return 0;
}

/* Every ring-ref<i>, num-pages, event-channel and state Initialised in
 * one transaction: the backend sees all or nothing. */
static int write_region_keys(struct fw_rpmsg_dev *d)
{
	char p[96];
	int rc = 0;

	for (int attempt = 0; attempt < 20; attempt++) {
		uint32_t tx;

		rc = fw_xs_transaction_start(&tx);
		if (rc < 0)
			return rc;
		for (uint32_t i = 0; i < d->npages && rc == 0; i++) {
			fw_snprintf(p, sizeof(p), "%s/ring-ref%u", d->fe_dir, i);
			rc = fw_xs_printf(tx, p, "%u", d->refs[i]);
		}
		fw_snprintf(p, sizeof(p), "%s/num-pages", d->fe_dir);
		if (rc == 0)
			rc = fw_xs_printf(tx, p, "%u", d->npages);
		fw_snprintf(p, sizeof(p), "%s/event-channel", d->fe_dir);
		if (rc == 0)
			rc = fw_xs_printf(tx, p, "%u", d->port);
		fw_snprintf(p, sizeof(p), "%s/state", d->fe_dir);
		if (rc == 0)
			rc = fw_xs_printf(tx, p, "%d", ST_INITIALISED);
		if (rc < 0) {
			(void)fw_xs_transaction_end(tx, false);
			return rc;
		}
		rc = fw_xs_transaction_end(tx, true);
		if (rc != -FW_EAGAIN)
			return rc;
	}
	return rc;
}

static int wait_connected(struct fw_rpmsg_dev *d, uint64_t deadline)
{
	char p[96];

	for (;;) {
		(void)fw_xs_take_events();
		int st = read_be_state(d);

		if (st == ST_CONNECTED)
			break;
		if (st >= ST_CLOSING) {
			fw_printf("xenamp-fw: rpmsg: the backend moved device %u to state %d instead of Connected\n",
				  d->devno, st);
			return -FW_EIO;
		}
		if (xs_nap(deadline) == 0)
			return -FW_ETIMEDOUT;
	}
	fw_snprintf(p, sizeof(p), "%s/state", d->fe_dir);
	return fw_xs_printf(0, p, "%d", ST_CONNECTED);
}

int fw_rpmsg_open(struct fw_rpmsg_dev *d, unsigned devno, uint32_t timeout_ms)
{
	uint64_t deadline = deadline_ms(timeout_ms);
	unsigned long domid, bs, bc, mp, be;
	int rc;

	memset(d, 0, sizeof(*d));
	d->devno = devno;
	rc = fw_xs_read_uint(0, "domid", &domid);
	if (rc < 0)
		return rc;
	d->domid = (unsigned)domid;
	fw_snprintf(d->fe_dir, sizeof(d->fe_dir), "/local/domain/%u/device/rpmsg/%u",
		    d->domid, devno);
	(void)fw_xs_watch(d->fe_dir, "fe");
	if (wait_offer(d, deadline, &bs, &bc, &mp) < 0) {
		fw_printf("xenamp-fw: rpmsg: xenamp-backend did not offer device %u in %u ms (no InitWait at %s)\n",
			  devno, timeout_ms, d->fe_dir);
		return -FW_ETIMEDOUT;
	}
	if (fe_read_uint(d, "backend-id", &be) < 0 || be > 0x7fef)
		return -FW_EPROTO;
	d->be_domid = (uint16_t)be;
	rc = layout(d, bs, bc, mp);
	if (rc == 0)
		rc = region_init(d);
	if (rc == 0)
		rc = grant_region(d);
	if (rc == 0)
		rc = fw_evtchn_alloc_unbound(d->be_domid, &d->port);
	if (rc == 0)
		rc = write_region_keys(d);
	if (rc < 0) {
		fw_printf("xenamp-fw: rpmsg: sharing the region of device %u failed: %d\n", devno, rc);
		return rc;
	}
	rc = wait_connected(d, deadline);
	if (rc == -FW_ETIMEDOUT)
		fw_printf("xenamp-fw: rpmsg: xenamp-backend did not accept the region of device %u in %u ms\n",
			  devno, timeout_ms);
	if (rc == 0) {
		d->connected = true;
		fw_printf("xenamp-fw: rpmsg: device %u connected to domain %u (%u pages, %u buffers of %u bytes each way, port %u)\n",
			  devno, d->be_domid, d->npages, d->buf_count, d->buf_size, d->port);
	}
	return rc;
}

uint32_t fw_rpmsg_payload_max(const struct fw_rpmsg_dev *d)
{
	return d->buf_size - XA_RPMSG_HDR_SIZE;
}

/* Backend state after a watch fired; anything but Connected ends the link. */
static int check_link(struct fw_rpmsg_dev *d)
{
	if (fw_xs_take_events() > 0 && read_be_state(d) != ST_CONNECTED) {
		if (d->connected)
			fw_printf("xenamp-fw: rpmsg: device %u: the backend left Connected (state %d)\n",
				  d->devno, d->be_state);
		d->connected = false;
	}
	return d->connected ? 0 : -FW_EIO;
}

static void kick(struct fw_rpmsg_dev *d)
{
	(void)fw_evtchn_notify(d->port);
}

/* Reclaim returned TX buffers. A ring fault kills the link. */
static int tx_reclaim(struct fw_rpmsg_dev *d)
{
	void *tok;
	uint32_t len;
	int rc;

	while ((rc = xa_vqdrv_get_used(&d->txq, &tok, &len)) == XA_OK)
		d->tx_free[d->tx_nfree++] = (uint16_t)token_index(tok);
	if (rc != XA_EMPTY) {
		fw_printf("xenamp-fw: rpmsg: TX ring fault: %s\n", xa_strerror(rc));
		d->connected = false;
		return -FW_EIO;
	}
	return 0;
}

static int tx_get(struct fw_rpmsg_dev *d, uint64_t deadline, unsigned *idx)
{
	for (;;) {
		int rc = tx_reclaim(d);

		if (rc == 0)
			rc = check_link(d);
		if (rc < 0)
			return rc;
		if (d->tx_nfree > 0) {
			xa_vqdrv_disable_notify(&d->txq);
			*idx = d->tx_free[--d->tx_nfree];
			return 0;
		}
		/* ask for the interrupt, then look once more before sleeping */
		if (xa_vqdrv_enable_notify(&d->txq))
			continue;
		if (fw_xs_wait(deadline, d->port) == 0) {
			fw_printf("xenamp-fw: rpmsg: device %u: no TX buffer came back in time\n",
				  d->devno);
			return -FW_ETIMEDOUT;
		}
	}
}

int fw_rpmsg_send(struct fw_rpmsg_dev *d, uint32_t src, uint32_t dst,
		  const void *data, uint32_t len, uint32_t timeout_ms)
{
	struct xa_rpmsg_hdr h = { .src = src, .dst = dst, .len = (uint16_t)len };
	unsigned i;
	uint8_t *buf;
	int rc;

	if (len > fw_rpmsg_payload_max(d) || len > 0xffffu)
		return -FW_E2BIG;
	rc = tx_get(d, deadline_ms(timeout_ms), &i);
	if (rc < 0)
		return rc;
	buf = d->base + d->tx_off + (size_t)i * d->stride;
	xa_rpmsg_hdr_encode(buf, &h);   /* reserved 0: unsequenced */
	memcpy(buf + XA_RPMSG_HDR_SIZE, data, len);
	/* cannot fail: as many descriptors as buffers, and i was free */
	(void)xa_vqdrv_add(&d->txq, d->tx_off + (uint64_t)i * d->stride,
			   XA_RPMSG_HDR_SIZE + len, false, token(i));
	if (xa_vqdrv_publish(&d->txq))
		kick(d);
	d->tx_msgs++;
	return 0;
}

int fw_rpmsg_announce(struct fw_rpmsg_dev *d, const char *name, uint32_t addr)
{
	uint8_t ns[XA_RPMSG_NS_SIZE];

	xa_rpmsg_ns_encode(ns, name, addr, XA_RPMSG_NS_CREATE);
	return fw_rpmsg_send(d, addr, XA_RPMSG_NS_ADDR, ns, sizeof(ns), 5000);
}

/* Deliver every returned RX buffer, then post them again. */
static int rx_deliver(struct fw_rpmsg_dev *d, fw_rpmsg_cb cb, void *arg)
{
	void *tok;
	uint32_t len;
	int rc, n = 0;

	while ((rc = xa_vqdrv_get_used(&d->rxq, &tok, &len)) == XA_OK) {
		unsigned i = token_index(tok);
		uint8_t *buf = d->base + d->rx_off + (size_t)i * d->stride;
		struct xa_rpmsg_hdr h;

		/* the name service of the peer is not needed: we only serve */
		if (xa_rpmsg_hdr_decode(buf, len, &h) == XA_OK && h.dst != XA_RPMSG_NS_ADDR) {
			d->rx_msgs++;
			cb(d, h.src, h.dst, buf + XA_RPMSG_HDR_SIZE, h.len, arg);
			n++;
		}
		(void)xa_vqdrv_add(&d->rxq, d->rx_off + (uint64_t)i * d->stride,
				   d->buf_size, true, tok);
		if (!d->connected)
			break;
	}
	if (rc != XA_OK && rc != XA_EMPTY) {
		fw_printf("xenamp-fw: rpmsg: RX ring fault: %s\n", xa_strerror(rc));
		d->connected = false;
		return -FW_EIO;
	}
	if (xa_vqdrv_publish(&d->rxq))
		kick(d);
	return n;
}

int fw_rpmsg_poll(struct fw_rpmsg_dev *d, uint32_t timeout_ms, fw_rpmsg_cb cb, void *arg)
{
	uint64_t deadline = deadline_ms(timeout_ms);

	for (;;) {
		int n = rx_deliver(d, cb, arg);

		if (n < 0 || check_link(d) < 0 || tx_reclaim(d) < 0)
			return -FW_EIO;
		if (n > 0)
			return n;
		if (xa_vqdrv_enable_notify(&d->rxq))
			continue;
		if (fw_xs_wait(deadline, d->port) == 0) {
			/* idle: look at the backend's state without a watch
			 * event too, in case one was missed */
			if (read_be_state(d) != ST_CONNECTED) {
				fw_printf("xenamp-fw: rpmsg: device %u: the backend left Connected (state %d)\n",
					  d->devno, d->be_state);
				d->connected = false;
				return -FW_EIO;
			}
			return 0;
		}
	}
}
