/* The xenstore client: one request at a time over the xenstore ring page
 * (xs_wire.h for the ring and the messages).
 *
 * Replies and watch events share the response ring. A message is
 * assembled across calls in `rx` (a timeout in the middle of one keeps
 * what arrived), so the stream never loses its framing. A reply whose
 * req_id is not the one awaited belongs to a request that timed out and
 * is dropped; a watch event bumps `events` for fw_xs_wait/take_events.
 * A request that cannot be sent whole in time would leave half a message
 * in the ring, which no later request can repair: that is fatal. */
#include "fw_priv.h"
#include "xs_wire.h"

static struct xen_xs_interface *ring;
static uint32_t port;
static uint32_t next_req_id = 1;
static unsigned events;

static struct {
	struct xen_xs_hdr h;
	uint32_t got;                          /* bytes of header + payload so far */
	char payload[XEN_XS_PAYLOAD_MAX + 1];  /* NUL-terminated copy */
} rx;

static uint8_t txbuf[sizeof(struct xen_xs_hdr) + XEN_XS_PAYLOAD_MAX];

void fw_xs_init(void *page, uint32_t p)
{
	ring = page;
	port = p;
}

static uint64_t deadline_in(uint32_t ms)
{
	return fw_now_ns() + (uint64_t)ms * 1000000u;
}

/* Read what is there of the current message. 1: complete (in rx), 0: not
 * yet, <0: corrupt ring or header. */
static int rx_pump(void)
{
	const uint32_t hs = sizeof(rx.h);
	long n;

	if (rx.got < hs) {
		n = xs_ring_read(ring, (uint8_t *)&rx.h + rx.got, hs - rx.got);
		if (n < 0)
			return (int)n;
		rx.got += (uint32_t)n;
		if (n > 0)
			(void)fw_evtchn_notify(port);   /* room for xenstored */
		if (rx.got < hs)
			return 0;
		if (rx.h.len > XEN_XS_PAYLOAD_MAX)
			return -FW_EPROTO;
	}
	if (rx.got < hs + rx.h.len) {
		n = xs_ring_read(ring, rx.payload + (rx.got - hs), hs + rx.h.len - rx.got);
		if (n < 0)
			return (int)n;
		rx.got += (uint32_t)n;
		if (n > 0)
			(void)fw_evtchn_notify(port);   /* room for xenstored */
	}
	if (rx.got < hs + rx.h.len)
		return 0;
	rx.payload[rx.h.len] = '\0';
	return 1;
}

static int xs_send(const uint8_t *msg, size_t len, uint64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		long n = xs_ring_write(ring, msg + done, len - done);

		if (n < 0)
			fw_fatal("xenstore: the request ring is corrupt");
		if (n > 0) {
			done += (size_t)n;
			(void)fw_evtchn_notify(port);
			continue;
		}
		(void)fw_evtchn_take(port);
		if (fw_evtchn_wait(&port, 1, deadline) == 0)
			fw_fatal("xenstore: xenstored took no request bytes for %u ms (%zu of %zu sent)",
				 FW_XS_TIMEOUT_MS, done, len);
	}
	return 0;
}

/* Wait for the complete message that answers req_id; watch events and
 * stale replies on the way are consumed. 1: in rx (the caller consumes
 * it with rx.got = 0), 0: timeout, <0: ring or protocol fault. */
static int xs_wait_reply(uint32_t req_id, uint64_t deadline)
{
	for (;;) {
		int rc = rx_pump();

		if (rc < 0)
			return rc;
		if (rc == 1) {
			if (rx.h.type == XEN_XS_WATCH_EVENT) {
				events++;
				rx.got = 0;
				continue;
			}
			if (rx.h.req_id == req_id)
				return 1;
			rx.got = 0;   /* the late answer of a request that timed out */
			continue;
		}
		(void)fw_evtchn_take(port);
		if (rx_pump() != 0)
			continue;   /* arrived between the two looks */
		if (fw_evtchn_wait(&port, 1, deadline) == 0)
			return 0;
	}
}

/* One request/reply. On success the reply payload is rx.payload
 * (rx.h.len bytes, NUL-terminated) until the next call. */
static int xs_request(uint32_t type, uint32_t tx, const struct xs_part *parts,
		      unsigned nparts)
{
	uint64_t deadline = deadline_in(FW_XS_TIMEOUT_MS);
	uint32_t id = next_req_id++;
	long len = xs_msg_encode(txbuf, sizeof(txbuf), type, id, tx, parts, nparts);
	int rc;

	if (len < 0)
		return (int)len;
	if (ring == NULL)
		return -FW_EIO;
	xs_send(txbuf, (size_t)len, deadline);
	rc = xs_wait_reply(id, deadline);
	if (rc == 0) {
		fw_printf("xenamp-fw: xenstore: no reply to request type %u within %u ms\n",
			  type, FW_XS_TIMEOUT_MS);
		return -FW_ETIMEDOUT;
	}
	if (rc < 0) {
		fw_fatal("xenstore: corrupt response ring or message (%d)", rc);
	}
	rx.got = 0;   /* consumed; the payload stays readable until the next pump */
	return xs_reply_check(&rx.h, rx.payload, type);
}

static struct xs_part str_part(const char *s)
{
	return (struct xs_part){ s, strlen(s) + 1 };
}

int fw_xs_read(uint32_t tx, const char *path, char *buf, size_t size, size_t *len)
{
	struct xs_part p = str_part(path);
	int rc = xs_request(XEN_XS_READ, tx, &p, 1);

	if (rc < 0)
		return rc;
	if (rx.h.len >= size)
		return -FW_ERANGE;
	memcpy(buf, rx.payload, rx.h.len);
	buf[rx.h.len] = '\0';
	if (len)
		*len = rx.h.len;
	return 0;
}

int fw_xs_read_uint(uint32_t tx, const char *path, unsigned long *v)
{
	char buf[24];
	int rc = fw_xs_read(tx, path, buf, sizeof(buf), NULL);

	return rc < 0 ? rc : fw_parse_ulong(buf, v);
}

int fw_xs_write(uint32_t tx, const char *path, const char *value)
{
	struct xs_part p[2] = { str_part(path), { value, strlen(value) } };

	return xs_request(XEN_XS_WRITE, tx, p, 2);
}

int fw_xs_printf(uint32_t tx, const char *path, const char *fmt, ...)
{
	char v[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fw_vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if ((size_t)n >= sizeof(v))
		return -FW_E2BIG;
	return fw_xs_write(tx, path, v);
}

int fw_xs_rm(uint32_t tx, const char *path)
{
	struct xs_part p = str_part(path);

	return xs_request(XEN_XS_RM, tx, &p, 1);
}

int fw_xs_directory(uint32_t tx, const char *path, char *buf, size_t size, size_t *len)
{
	struct xs_part p = str_part(path);
	int rc = xs_request(XEN_XS_DIRECTORY, tx, &p, 1);

	if (rc < 0)
		return rc;
	if (rx.h.len > size)
		return -FW_ERANGE;
	memcpy(buf, rx.payload, rx.h.len);
	*len = rx.h.len;
	return 0;
}

int fw_xs_watch(const char *path, const char *token)
{
	struct xs_part p[2] = { str_part(path), str_part(token) };

	return xs_request(XEN_XS_WATCH, 0, p, 2);
}

int fw_xs_unwatch(const char *path, const char *token)
{
	struct xs_part p[2] = { str_part(path), str_part(token) };

	return xs_request(XEN_XS_UNWATCH, 0, p, 2);
}

unsigned fw_xs_take_events(void)
{
	unsigned n = events;

	events = 0;
	return n;
}

int fw_xs_wait(uint64_t deadline_ns, uint32_t extra_port)
{
	uint32_t ports[2] = { port, extra_port };

	for (;;) {
		int rc;

		/* Consume complete watch events; a reply nobody awaits is stale. */
		while ((rc = rx_pump()) == 1) {
			if (rx.h.type == XEN_XS_WATCH_EVENT)
				events++;
			rx.got = 0;
		}
		if (rc < 0)
			fw_fatal("xenstore: corrupt response ring or message (%d)", rc);
		if (events > 0)
			return 1;
		if (extra_port != 0 && fw_evtchn_take(extra_port))
			return 1;
		(void)fw_evtchn_take(port);
		if (rx_pump() != 0)
			continue;
		if (fw_evtchn_wait(ports, 2, deadline_ns) == 0)
			return 0;
	}
}

int fw_xs_transaction_start(uint32_t *tx)
{
	struct xs_part p = { "", 1 };
	unsigned long v;
	int rc = xs_request(XEN_XS_TRANSACTION_START, 0, &p, 1);

	if (rc < 0)
		return rc;
	if (fw_parse_ulong(rx.payload, &v) < 0 || v == 0 || v > 0xffffffffUL)
		return -FW_EPROTO;
	*tx = (uint32_t)v;
	return 0;
}

int fw_xs_transaction_end(uint32_t tx, bool commit)
{
	struct xs_part p = { commit ? "T" : "F", 2 };

	return xs_request(XEN_XS_TRANSACTION_END, tx, &p, 1);
}
