/* fake-partition: a partition process that speaks the local protocol
 * (src/common/local_proto.h) by hand and lays out its region as libxenamp
 * does (src/frontend/region.c), without using libxenamp. It can follow the
 * rules -- send, receive, echo, announce services -- or break any of them
 * on purpose, so the relay and the backend's defences can be tested from
 * outside.
 *
 *   fake-partition -p NAME [OPTION]... [STEP]...
 *
 * Steps run in order; see usage() for the list. Results are printed on
 * stdout as lines the integration tests match:
 *   params buf_size=B buf_count=N max_pages=M
 *   connected
 *   rx src=S dst=D len=L data=TEXT
 *   rx-ns create|destroy name=NAME addr=A
 *   recv count=N seq_errors=E
 *   error code=C msg=TEXT          (the backend sent ERROR)
 *   closed reason=TEXT
 *   done
 * Exit status: 0 all steps succeeded, 1 a step failed or timed out, 2 usage
 * error, 3 the backend refused the connection (ERROR before Connected). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xenamp/rsc_table.h>

#include "core/byteorder.h"
#include "core/rpmsg_wire.h"
#include "core/vring.h"
#include "common/local_proto.h"

#define PAGE 4096u
#define EXIT_STEP 1
#define EXIT_USAGE 2
#define EXIT_REFUSED 3

/* ------------------------------------------------------------------ */
/* Options                                                             */

static struct {
	const char *socket;
	const char *name;
	const char *name_hex;
	unsigned devno;
	unsigned version;
	int region_fds;
	long long declare_size;
	unsigned extra_pages;
	bool no_seal;
	bool hugetlb;
	const char *rsc_fault;
	int rx_post;
	int timeout_ms;
	bool quiet;
	bool no_region;
} opt = {
	.version = XA_LOCAL_PROTO_VERSION,
	.region_fds = 1,
	.declare_size = -1,
	.rx_post = -1,
	.timeout_ms = 10000,
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: fake-partition -p NAME [OPTION]... [STEP]...\n"
"A partition that speaks xenamp's local protocol by hand; for tests.\n"
"\n"
"Connection:\n"
"  -S, --socket PATH      backend socket (default $XENAMP_SOCKET, else %s)\n"
"  -p, --partition NAME   partition name sent in HELLO\n"
"  -d, --devno N          device number (default 0)\n"
"  -t, --timeout MS       time limit of each waiting step (default 10000)\n"
"  -q, --quiet            do not print each received message\n"
"Breaking the handshake:\n"
"      --proto-version N  HELLO version field (default %u)\n"
"      --name-hex HEX     HELLO name as raw bytes (up to 64, no NUL added)\n"
"      --no-region        stop after PARAMS, never send REGION\n"
"      --region-fds N     fds sent with REGION: 0..6 (default 1; extras are\n"
"                         the notification socket)\n"
"      --declare-size B   region size announced in REGION (default: the real one)\n"
"      --extra-pages N    make the region N pages larger than needed\n"
"      --no-seal          memfd without MFD_ALLOW_SEALING\n"
"      --hugetlb          memfd with MFD_HUGETLB (size rounded up to 2 MiB)\n"
"      --rsc FAULT        break the resource table: ver, no-vdev, vdev-id,\n"
"                         nvrings, num, da-out, da-misaligned, overlap,\n"
"                         entries, offset, config-len, nvrings-big, align, da-wrap\n"
"      --rx-post N        RX buffers kept posted (default: all)\n"
"\n"
"Steps:\n"
"  ns-create:NAME:ADDR        announce a service (message to 53)\n"
"  ns-destroy:NAME:ADDR       withdraw it\n"
"  ns-flood:PREFIX:COUNT:ADDR announce COUNT services PREFIX0.. from ADDR up\n"
"  send:SRC:DST:TEXT          one message\n"
"  seq:N                      stamp N into the header's reserved field of the\n"
"                             following sends (libxenamp's sequence number; 0: none)\n"
"  flood:SRC:DST:COUNT[:LEN]  COUNT numbered messages of LEN payload bytes\n"
"  recv:N                     wait for N messages (any kind)\n"
"  expect-ns:create|destroy:NAME  wait for that name-service message\n"
"  echo:N                     send N received messages back (src/dst swapped)\n"
"  pingpong:SRC:DST:COUNT     send one, wait for one, COUNT times (round trips)\n"
"  sleep:MS                   wait, handling traffic\n"
"  hold:MS                    wait without taking received buffers\n"
"  post-rx:N                  keep N more RX buffers posted\n"
"  fault:KIND                 hostile TX/RX ring content, then kick: desc-id,\n"
"                             desc-range, desc-loop, desc-flags, desc-zero,\n"
"                             chain, avail-idx, msg-short, msg-len, msg-big,\n"
"                             ns-size, ns-name, ns-flags, rx-flags, rx-small\n"
"  scribble:MS                a second thread rewrites avail idx, avail entries,\n"
"                             descriptors and buffer headers of both rings at\n"
"                             random for MS ms, kicking; ends connected or closed\n"
"  clear-nonblock             clear O_NONBLOCK on the notification fds, stop\n"
"                             reading calls\n"
"  flip-call:MS               fill the call fd, never read it, and toggle its\n"
"                             O_NONBLOCK from a second thread for MS ms\n"
"  drain                      wait until every sent buffer came back\n"
"  wait-closed                wait until the backend drops us\n"
"  close                      send STATE Closing, close the socket\n"
"  crash                      exit at once, no goodbye\n"
"\n"
"Exit status: 0 steps done, 1 a step failed, 2 usage error, 3 refused.\n",
		XA_LOCAL_DEFAULT_SOCKET_DOC, XA_LOCAL_PROTO_VERSION);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "fake-partition: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* State                                                               */

struct rxmsg {
	struct rxmsg *next;
	uint32_t src, dst;
	uint16_t len;
	uint8_t data[];
};

static struct {
	int sock, memfd;
	int kick, call;         /* both the notification socket from PARAMS */
	uint8_t *region;
	size_t size;
	uint32_t buf_size, buf_count, max_pages, stride;
	uint64_t v0, v1, rxo, txo;
	struct xa_vq_driver rx, tx;
	struct xa_vq_driver_slot *rx_slots, *tx_slots;
	uint32_t *tx_free;      /* stack of free TX buffer indices */
	unsigned ntx_free;
	unsigned rx_target;     /* RX buffers to keep posted */
	unsigned rx_posted;
	uint32_t *rx_idle;      /* RX buffer indices not posted */
	unsigned nrx_idle;
	bool hold;
	bool no_call;           /* step flip-call: never read the call fd */
	bool closed;
	bool connected;
	struct rxmsg *qhead, *qtail;
	unsigned qlen;
	uint32_t next_seq[65536 / 64];
} s;

/* ------------------------------------------------------------------ */
/* Socket                                                              */

static void on_socket_msg(void)
{
	uint8_t buf[XA_LOCAL_MSG_MAX];
	ssize_t n = recv(s.sock, buf, sizeof(buf), MSG_DONTWAIT);
	uint32_t type;

	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		say("closed reason=socket error: %s", strerror(errno));
		s.closed = true;
		return;
	}
	if (n == 0) {
		say("closed reason=the backend closed the connection");
		s.closed = true;
		return;
	}
	if ((size_t)n < 4)
		return;
	memcpy(&type, buf, 4);
	if (type == XA_LOCAL_ERROR && (size_t)n == sizeof(struct xa_local_error)) {
		struct xa_local_error e;

		memcpy(&e, buf, sizeof(e));
		e.msg[sizeof(e.msg) - 1] = '\0';
		say("error code=%d msg=%s", e.code, e.msg);
		return;
	}
	if (type == XA_LOCAL_STATE && (size_t)n == sizeof(struct xa_local_state)) {
		struct xa_local_state st;

		memcpy(&st, buf, sizeof(st));
		if (st.state == 4) {
			s.connected = true;
			say("connected");
		} else {
			say("state %u", st.state);
			if (st.state >= 5) {
				say("closed reason=the backend moved to state %u", st.state);
				s.closed = true;
			}
		}
		return;
	}
	say("unexpected message type %u (%zd bytes)", type, n);
}

static void kick(void)
{
	static const unsigned char one = 1;

	/* EAGAIN: kicks pending anyway; EPIPE/ECONNRESET: the backend let go
	 * of us, which the control socket reports. */
	if (send(s.kick, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN && errno != EWOULDBLOCK && errno != EPIPE &&
	    errno != ECONNRESET)
		die(EXIT_STEP, "kick: %s", strerror(errno));
}

/* ------------------------------------------------------------------ */
/* Rings                                                               */

static void rx_post_more(void)
{
	bool any = false;

	while (!s.hold && s.rx_posted < s.rx_target && s.nrx_idle > 0) {
		uint32_t i = s.rx_idle[--s.nrx_idle];

		if (xa_vqdrv_add(&s.rx, s.rxo + (uint64_t)i * s.stride, s.buf_size,
				 true, (void *)(uintptr_t)(i + 1)) != XA_OK) {
			s.nrx_idle++;
			break;
		}
		s.rx_posted++;
		any = true;
	}
	if (any && xa_vqdrv_publish(&s.rx))
		kick();
}

static void queue_msg(const uint8_t *p, uint32_t len)
{
	struct xa_rpmsg_hdr h;

	if (xa_rpmsg_hdr_decode(p, len, &h) != XA_OK) {
		say("rx-bad len=%u", len);
		return;
	}

	struct rxmsg *m = malloc(sizeof(*m) + h.len);

	if (m == NULL)
		die(EXIT_STEP, "out of memory");
	m->next = NULL;
	m->src = h.src;
	m->dst = h.dst;
	m->len = h.len;
	memcpy(m->data, p + XA_RPMSG_HDR_SIZE, h.len);
	if (s.qtail)
		s.qtail->next = m;
	else
		s.qhead = m;
	s.qtail = m;
	s.qlen++;
}

/* Take returned buffers: received messages into the queue, sent ones back
 * to the free list. */
static void service_rings(void)
{
	void *tok;
	uint32_t len;
	int rc;

	while (!s.hold && (rc = xa_vqdrv_get_used(&s.rx, &tok, &len)) == XA_OK) {
		uint32_t i = (uint32_t)(uintptr_t)tok - 1;

		queue_msg(s.region + s.rxo + (uint64_t)i * s.stride, len);
		s.rx_idle[s.nrx_idle++] = i;
		s.rx_posted--;
	}
	while ((rc = xa_vqdrv_get_used(&s.tx, &tok, &len)) == XA_OK)
		s.tx_free[s.ntx_free++] = (uint32_t)(uintptr_t)tok - 1;
	rx_post_more();
}

/* Wait up to ms for anything; handle it. */
static void pump(int ms)
{
	struct pollfd p[2] = {
		{ .fd = s.sock, .events = POLLIN },
		{ .fd = s.call, .events = POLLIN },
	};
	int n = s.call >= 0 && !s.no_call ? 2 : 1;

	if (s.closed)
		p[0].fd = -1;
	if (poll(p, (nfds_t)n, ms) > 0) {
		if (p[0].revents)
			on_socket_msg();
		if (n > 1 && (p[1].revents & POLLIN)) {
			unsigned char v[256];

			ssize_t k = recv(s.call, v, sizeof(v), MSG_DONTWAIT);

			/* EOF or reset: the backend let go of us; the
			 * control socket says why. Stop polling it. */
			if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
				s.no_call = true;
		}
	}
	if (s.region)
		service_rings();
}

static void send_raw(const void *msg, uint32_t desc_len, uint32_t copy_len)
{
	long deadline = now_ms() + opt.timeout_ms;

	while (s.ntx_free == 0) {
		if (s.closed)
			die(EXIT_STEP, "the backend closed the connection while we waited for a TX buffer");
		if (now_ms() > deadline)
			die(EXIT_STEP, "no TX buffer came back within %d ms", opt.timeout_ms);
		pump(50);
	}

	uint32_t i = s.tx_free[--s.ntx_free];
	uint64_t off = s.txo + (uint64_t)i * s.stride;

	memcpy(s.region + off, msg, copy_len);
	if (xa_vqdrv_add(&s.tx, off, desc_len, false, (void *)(uintptr_t)(i + 1)) != XA_OK)
		die(EXIT_STEP, "TX ring full");
	if (xa_vqdrv_publish(&s.tx))
		kick();
}

static uint32_t hdr_seq;   /* step seq:N */

static void send_msg(uint32_t src, uint32_t dst, const void *payload,
		     uint16_t len)
{
	uint8_t buf[XA_RPMSG_HDR_SIZE + 65536];
	struct xa_rpmsg_hdr h = { .src = src, .dst = dst, .len = len,
				  .reserved = hdr_seq };

	if (XA_RPMSG_HDR_SIZE + (uint32_t)len > s.buf_size)
		die(EXIT_USAGE, "payload of %u bytes does not fit buf_size %u", len,
		    s.buf_size);
	xa_rpmsg_hdr_encode(buf, &h);
	memcpy(buf + XA_RPMSG_HDR_SIZE, payload, len);
	send_raw(buf, XA_RPMSG_HDR_SIZE + len, XA_RPMSG_HDR_SIZE + len);
}

static void send_ns(const char *name, uint32_t addr, uint32_t flags)
{
	uint8_t ns[XA_RPMSG_NS_SIZE];

	xa_rpmsg_ns_encode(ns, name, addr, flags);
	send_msg(addr, XA_RPMSG_NS_ADDR, ns, sizeof(ns));
}

/* ------------------------------------------------------------------ */
/* Region                                                              */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void write_rsc(void)
{
	uint8_t *t = s.region;
	const uint32_t vdev = 20;
	uint32_t nvr = 2;

	xa_put_le32(t + 0, 1);      /* ver */
	xa_put_le32(t + 4, 1);      /* num */
	xa_put_le32(t + 16, vdev);  /* offset[0] */
	uint8_t *v = t + vdev;

	xa_put_le32(v + 0, RSC_VDEV);
	xa_put_le32(v + 4, XA_VIRTIO_ID_RPMSG);
	xa_put_le32(v + 8, 2);
	xa_put_le32(v + 12, 1u << XA_VIRTIO_RPMSG_F_NS);
	xa_put_le32(v + 16, 1u << XA_VIRTIO_RPMSG_F_NS);
	xa_put_le32(v + 20, 0);
	v[24] = 0;
	v[25] = (uint8_t)nvr;

	uint64_t da[2] = { s.v0, s.v1 };

	for (int i = 0; i < 2; i++) {
		uint8_t *vr = v + 28 + 20 * i;

		xa_put_le32(vr + 0, (uint32_t)da[i]);
		xa_put_le32(vr + 4, PAGE);
		xa_put_le32(vr + 8, s.buf_count);
		xa_put_le32(vr + 12, (uint32_t)i);
	}

	const char *f = opt.rsc_fault;

	if (f == NULL)
		return;
	if (strcmp(f, "ver") == 0)
		xa_put_le32(t + 0, 2);
	else if (strcmp(f, "no-vdev") == 0)
		xa_put_le32(v + 0, 77);      /* neither vdev nor vendor */
	else if (strcmp(f, "vdev-id") == 0)
		xa_put_le32(v + 4, 3);
	else if (strcmp(f, "nvrings") == 0)
		v[25] = 1;
	else if (strcmp(f, "num") == 0) {
		xa_put_le32(v + 28 + 8, s.buf_count * 2);
		xa_put_le32(v + 48 + 8, s.buf_count * 2);
	} else if (strcmp(f, "da-out") == 0)
		xa_put_le32(v + 28, (uint32_t)s.size - 16);
	else if (strcmp(f, "da-misaligned") == 0)
		xa_put_le32(v + 28, (uint32_t)s.v0 + 2);
	else if (strcmp(f, "overlap") == 0)
		xa_put_le32(v + 48, (uint32_t)s.v0 + 16);
	else if (strcmp(f, "entries") == 0)
		xa_put_le32(t + 4, 100000);             /* num: far too many */
	else if (strcmp(f, "offset") == 0)
		xa_put_le32(t + 16, 0x10000);           /* entry past the table */
	else if (strcmp(f, "config-len") == 0)
		xa_put_le32(v + 20, 0xfffffff0u);       /* config past the table */
	else if (strcmp(f, "nvrings-big") == 0)
		v[25] = 255;
	else if (strcmp(f, "align") == 0)
		xa_put_le32(v + 28 + 4, 3);             /* not a power of two */
	else if (strcmp(f, "da-wrap") == 0)
		xa_put_le32(v + 48, 0xfffff000u);       /* wraps past 4 GiB */
	else
		die(EXIT_USAGE, "unknown --rsc fault '%s'", f);
}

static void setup_region(void)
{
	uint64_t vsize, bufs;

	s.stride = (uint32_t)align_up(s.buf_size, 16);
	vsize = align_up(xa_vring_size(s.buf_count, PAGE), PAGE);
	bufs = align_up((uint64_t)s.buf_count * s.stride, PAGE);
	s.v0 = PAGE;
	s.v1 = s.v0 + vsize;
	s.rxo = s.v1 + vsize;
	s.txo = s.rxo + bufs;
	s.size = (size_t)(s.txo + bufs) + (size_t)opt.extra_pages * PAGE;

	if (opt.hugetlb)   /* whole 2 MiB huge pages */
		s.size = (size_t)align_up(s.size, 2u << 20);
	s.memfd = memfd_create("fake-partition",
			       MFD_CLOEXEC | (opt.no_seal ? 0 : MFD_ALLOW_SEALING) |
			       (opt.hugetlb ? MFD_HUGETLB : 0));
	if (s.memfd < 0)
		die(EXIT_STEP, "memfd_create: %s", strerror(errno));
	if (ftruncate(s.memfd, (off_t)s.size) < 0)
		die(EXIT_STEP, "ftruncate: %s", strerror(errno));
	s.region = mmap(NULL, s.size, PROT_READ | PROT_WRITE, MAP_SHARED, s.memfd, 0);
	if (s.region == MAP_FAILED && opt.hugetlb) {
		/* No free huge pages: lay the rings out in private memory;
		 * the backend sees zeros, which is enough to test whether it
		 * looks at the file system first. */
		say("hugetlb-unmapped");
		s.region = calloc(1, s.size);
	}
	if (s.region == MAP_FAILED || s.region == NULL)
		die(EXIT_STEP, "mmap: %s", strerror(errno));

	s.rx_slots = calloc(s.buf_count, sizeof(*s.rx_slots));
	s.tx_slots = calloc(s.buf_count, sizeof(*s.tx_slots));
	s.tx_free = calloc(s.buf_count, sizeof(*s.tx_free));
	s.rx_idle = calloc(s.buf_count, sizeof(*s.rx_idle));
	if (!s.rx_slots || !s.tx_slots || !s.tx_free || !s.rx_idle)
		die(EXIT_STEP, "out of memory");
	if (xa_vqdrv_init(&s.rx, s.region + s.v0, s.buf_count, PAGE, s.rx_slots) ||
	    xa_vqdrv_init(&s.tx, s.region + s.v1, s.buf_count, PAGE, s.tx_slots))
		die(EXIT_STEP, "vring init failed");
	for (uint32_t i = 0; i < s.buf_count; i++) {
		s.tx_free[s.ntx_free++] = s.buf_count - 1 - i;
		s.rx_idle[s.nrx_idle++] = s.buf_count - 1 - i;
	}
	/* Sent buffers come back through the used ring; no need to be
	 * interrupted for them, but allowed. */
	s.rx_target = opt.rx_post < 0 ? s.buf_count
		: (unsigned)opt.rx_post > s.buf_count ? s.buf_count : (unsigned)opt.rx_post;
	write_rsc();
	rx_post_more();
}

static void send_region(void)
{
	struct xa_local_region r = {
		.type = XA_LOCAL_REGION,
		.size = opt.declare_size >= 0 ? (uint64_t)opt.declare_size : s.size,
	};
	int fds[6], nfds = opt.region_fds;
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds < 0 || nfds > 6)
		die(EXIT_USAGE, "--region-fds must be 0..6");
	fds[0] = s.memfd;
	for (int i = 1; i < 6; i++)
		fds[i] = s.call;
	if (nfds > 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(s.sock, &mh, MSG_NOSIGNAL) < 0)
		die(EXIT_STEP, "sending REGION: %s", strerror(errno));
}

/* ------------------------------------------------------------------ */
/* Handshake                                                           */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void connect_backend(void)
{
	const char *path = opt.socket ? opt.socket : getenv(XA_LOCAL_SOCKET_ENV);
	char defpath[XA_LOCAL_PATH_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xa_local_hello h;

	if (path == NULL || !*path)
		path = xa_local_default_socket(defpath, sizeof(defpath));
	if (strlen(path) >= sizeof(sa.sun_path))
		die(EXIT_USAGE, "socket path too long");
	strcpy(sa.sun_path, path);
	s.sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s.sock < 0 || connect(s.sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die(EXIT_REFUSED, "cannot reach the backend at %s: %s", path,
		    strerror(errno));

	memset(&h, 0, sizeof(h));
	h.type = XA_LOCAL_HELLO;
	h.version = opt.version;
	h.devno = opt.devno;
	if (opt.name_hex) {
		size_t n = strlen(opt.name_hex);

		if (n % 2 || n / 2 > sizeof(h.name))
			die(EXIT_USAGE, "--name-hex needs an even number of hex digits, at most 128");
		for (size_t i = 0; i < n / 2; i++) {
			int a = hexval(opt.name_hex[2 * i]), b = hexval(opt.name_hex[2 * i + 1]);

			if (a < 0 || b < 0)
				die(EXIT_USAGE, "--name-hex: bad hex digit");
			h.name[i] = (char)(a * 16 + b);
		}
	} else {
		snprintf(h.name, sizeof(h.name), "%s", opt.name);
	}
	if (send(s.sock, &h, sizeof(h), MSG_NOSIGNAL) < 0)
		die(EXIT_REFUSED, "sending HELLO: %s", strerror(errno));

	/* PARAMS, or ERROR */
	uint8_t buf[XA_LOCAL_MSG_MAX];
	struct pollfd p = { .fd = s.sock, .events = POLLIN };

	if (poll(&p, 1, opt.timeout_ms) <= 0)
		die(EXIT_STEP, "no answer to HELLO within %d ms", opt.timeout_ms);

	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n = recvmsg(s.sock, &mh, MSG_CMSG_CLOEXEC);
	uint32_t type;
	int nfds = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm != NULL;
	     cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (nfds++ == 0)
				s.kick = s.call = fd;
			else
				close(fd);
		}
	}
	if (n <= 0) {
		say("closed reason=the backend closed the connection after HELLO");
		exit(EXIT_REFUSED);
	}
	memcpy(&type, buf, 4);
	if (type == XA_LOCAL_ERROR && (size_t)n == sizeof(struct xa_local_error)) {
		struct xa_local_error e;

		memcpy(&e, buf, sizeof(e));
		e.msg[sizeof(e.msg) - 1] = '\0';
		say("error code=%d msg=%s", e.code, e.msg);
		exit(EXIT_REFUSED);
	}
	if (type != XA_LOCAL_PARAMS || (size_t)n != sizeof(struct xa_local_params))
		die(EXIT_STEP, "expected PARAMS, got type %u (%zd bytes)", type, n);
	if (nfds != 1)
		die(EXIT_STEP, "PARAMS came with %d fds, not the notification socket", nfds);

	struct xa_local_params pr;

	memcpy(&pr, buf, sizeof(pr));
	s.buf_size = pr.buf_size;
	s.buf_count = pr.buf_count;
	s.max_pages = pr.max_pages;
	say("params buf_size=%u buf_count=%u max_pages=%u", pr.buf_size,
	    pr.buf_count, pr.max_pages);
	if (opt.no_region)
		return;

	setup_region();
	send_region();

	long deadline = now_ms() + opt.timeout_ms;

	while (!s.connected && !s.closed && now_ms() < deadline)
		pump(50);
	if (!s.connected) {
		if (s.closed)
			exit(EXIT_REFUSED);
		die(EXIT_STEP, "not Connected within %d ms", opt.timeout_ms);
	}
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */

static unsigned long num_arg(const char *step, const char *v)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 0);
	if (errno || end == v || (*end && *end != ':'))
		die(EXIT_USAGE, "step '%s': '%s' is not a number", step, v);
	return x;
}

/* Split "a:b:c" into at most n fields (the last takes the rest). */
static int split(char *s_, char **f, int n)
{
	int k = 0;

	f[k++] = s_;
	while (k < n) {
		char *c = strchr(f[k - 1], ':');

		if (c == NULL)
			break;
		*c = '\0';
		f[k++] = c + 1;
	}
	return k;
}

static void print_msg(const struct rxmsg *m)
{
	if (m->dst == XA_RPMSG_NS_ADDR) {
		struct xa_rpmsg_ns ns;

		if (xa_rpmsg_ns_decode(m->data, m->len, &ns) == XA_OK) {
			say("rx-ns %s name=%s addr=%u",
			    ns.flags == XA_RPMSG_NS_CREATE ? "create" : "destroy",
			    ns.name, ns.addr);
			return;
		}
	}
	if (opt.quiet)
		return;

	char text[80];
	unsigned k = 0;

	for (unsigned i = 0; i < m->len && k + 5 < sizeof(text); i++) {
		uint8_t c = m->data[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			text[k++] = (char)c;
		else
			k += (unsigned)snprintf(text + k, sizeof(text) - k, "\\x%02x", c);
	}
	text[k] = '\0';
	say("rx src=%u dst=%u len=%u data=%s", m->src, m->dst, m->len, text);
}

static struct rxmsg *wait_msg(const char *step)
{
	long deadline = now_ms() + opt.timeout_ms;

	while (s.qhead == NULL) {
		if (s.closed)
			die(EXIT_STEP, "step %s: the backend closed the connection", step);
		if (now_ms() > deadline)
			die(EXIT_STEP, "step %s: nothing received within %d ms", step,
			    opt.timeout_ms);
		pump(100);
	}

	struct rxmsg *m = s.qhead;

	s.qhead = m->next;
	if (s.qhead == NULL)
		s.qtail = NULL;
	s.qlen--;
	return m;
}

/* Payload of flood messages: "seq N" then filler. Checks the order per
 * source address. */
static bool check_seq(const struct rxmsg *m)
{
	unsigned long v;
	char tmp[24];

	if (m->len < 5 || memcmp(m->data, "seq ", 4) != 0)
		return true;
	size_t n = m->len < sizeof(tmp) - 1 ? m->len : sizeof(tmp) - 1;

	memcpy(tmp, m->data, n);
	tmp[n] = '\0';
	v = strtoul(tmp + 4, NULL, 10);

	uint32_t *exp = &s.next_seq[m->src % (sizeof(s.next_seq) / sizeof(s.next_seq[0]))];
	bool ok = v == *exp;

	*exp = (uint32_t)v + 1;
	return ok;
}

static void fault(const char *kind)
{
	struct xa_vq_driver *d = &s.tx;
	uint8_t *avail = d->ring + d->lay.avail_off;
	uint8_t msg[XA_RPMSG_HDR_SIZE + XA_RPMSG_NS_SIZE + 64];
	struct xa_rpmsg_hdr h = { .src = 1024, .dst = 1024, .len = 4 };
	uint32_t i;

	memset(msg, 0, sizeof(msg));
	if (strcmp(kind, "desc-id") == 0 || strcmp(kind, "avail-idx") == 0) {
		uint16_t idx = d->avail_idx;

		if (kind[0] == 'd') {
			/* a head id past the ring: num + 44 */
			xa_put_le16(avail + 4 + 2 * (idx & (d->num - 1)),
				    (uint16_t)(d->num + 44));
			idx++;
		} else {
			idx = (uint16_t)(idx + d->num + 1);
		}
		__atomic_store_n((uint16_t *)(void *)(avail + 2), idx, __ATOMIC_RELEASE);
		d->avail_idx = d->published_idx = idx;
		kick();
		return;
	}
	if (strcmp(kind, "desc-range") == 0) {
		xa_vqdrv_add(d, s.size - 8, 64, false, (void *)1);
	} else if (strcmp(kind, "desc-zero") == 0) {
		xa_vqdrv_add(d, s.txo, 0, false, (void *)1);
	} else if (strcmp(kind, "desc-flags") == 0) {
		xa_vqdrv_add(d, s.txo, 32, true, (void *)1);
	} else if (strcmp(kind, "desc-loop") == 0 || strcmp(kind, "chain") == 0) {
		uint16_t id = d->free_head;
		uint8_t *desc = d->ring + d->lay.desc_off + (size_t)id * 16;

		xa_rpmsg_hdr_encode(msg, &h);
		memcpy(s.region + s.txo, msg, 20);
		xa_vqdrv_add(d, s.txo, 20, false, (void *)1);
		xa_put_le16(desc + 12, XA_VRING_DESC_F_NEXT);
		if (kind[0] == 'd') {
			xa_put_le16(desc + 14, id);   /* points at itself */
		} else {
			uint16_t id2 = d->free_head;

			xa_vqdrv_add(d, s.txo + s.stride, 20, false, (void *)1);
			/* that add also published an avail entry: take it back */
			d->avail_idx--;
			xa_put_le16(desc + 14, id2);
		}
	} else if (strcmp(kind, "msg-short") == 0) {
		xa_vqdrv_add(d, s.txo, 8, false, (void *)1);
	} else if (strcmp(kind, "msg-len") == 0) {
		h.len = 400;
		xa_rpmsg_hdr_encode(msg, &h);
		memcpy(s.region + s.txo, msg, 26);
		xa_vqdrv_add(d, s.txo, 26, false, (void *)1);
	} else if (strcmp(kind, "msg-big") == 0) {
		/* a descriptor spanning two buffers, and a header that uses it */
		h.len = (uint16_t)(s.buf_size + 8 - XA_RPMSG_HDR_SIZE);
		xa_rpmsg_hdr_encode(msg, &h);
		memcpy(s.region + s.txo, msg, XA_RPMSG_HDR_SIZE);
		xa_vqdrv_add(d, s.txo, 2 * s.stride, false, (void *)1);
	} else if (strncmp(kind, "ns-", 3) == 0) {
		uint32_t len = XA_RPMSG_NS_SIZE;

		h.dst = XA_RPMSG_NS_ADDR;
		xa_rpmsg_ns_encode(msg + XA_RPMSG_HDR_SIZE, "bad-service", 1024, 0);
		if (strcmp(kind, "ns-size") == 0)
			len = 39;
		else if (strcmp(kind, "ns-name") == 0)
			msg[XA_RPMSG_HDR_SIZE + 2] = 0x07;
		else if (strcmp(kind, "ns-flags") == 0)
			xa_put_le32(msg + XA_RPMSG_HDR_SIZE + 36, 7);
		else
			die(EXIT_USAGE, "unknown fault '%s'", kind);
		h.len = (uint16_t)len;
		xa_rpmsg_hdr_encode(msg, &h);
		memcpy(s.region + s.txo, msg, XA_RPMSG_HDR_SIZE + len);
		xa_vqdrv_add(d, s.txo, XA_RPMSG_HDR_SIZE + len, false, (void *)1);
	} else if (strcmp(kind, "rx-flags") == 0 || strcmp(kind, "rx-small") == 0) {
		/* Spoil every RX descriptor; the backend finds out on its next
		 * delivery to us. */
		for (i = 0; i < s.rx.num; i++) {
			uint8_t *desc = s.rx.ring + s.rx.lay.desc_off + (size_t)i * 16;

			if (kind[3] == 'f')
				xa_put_le16(desc + 12, 0);
			else
				xa_put_le32(desc + 8, 8);
		}
		return;
	} else {
		die(EXIT_USAGE, "unknown fault '%s'", kind);
	}
	/* Publish the hostile entry whatever the notification flags say. */
	xa_vqdrv_publish(d);
	kick();
}

/* Step scribble:MS: a second thread keeps rewriting what the backend reads
 * (avail idx, avail ring entries, descriptor addr/len/flags/next, message
 * headers) of both rings for MS ms, kicking now and then, while this thread
 * only watches the socket. Values are mostly plausible (in or near range)
 * so that the backend gets past its first check as often as not. */
static volatile int scribble_stop;

static uint32_t xrand(uint32_t *st)
{
	uint32_t x = *st;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *st = x;
}

static void *scribble_thread(void *arg)
{
	uint32_t st = (uint32_t)(uintptr_t)arg | 1;
	struct xa_vq_driver *q[2] = { &s.rx, &s.tx };
	unsigned long writes = 0;

	while (!scribble_stop) {
		struct xa_vq_driver *d = q[xrand(&st) & 1];
		uint8_t *avail = d->ring + d->lay.avail_off;
		uint32_t num = d->num, r = xrand(&st), i = xrand(&st) % num;
		uint8_t *desc = d->ring + d->lay.desc_off + (size_t)i * 16;
		uint64_t base = d == &s.rx ? s.rxo : s.txo;

		switch (r % 8) {
		case 0: {	/* avail idx: a little ahead, now and then far */
			uint16_t idx = __atomic_load_n((uint16_t *)(void *)(avail + 2),
						       __ATOMIC_RELAXED);

			idx = (uint16_t)(idx + ((r >> 8) % 64 == 0 ? (r >> 12)
							: (r >> 12) % 2));
			__atomic_store_n((uint16_t *)(void *)(avail + 2), idx,
					 __ATOMIC_RELEASE);
			break;
		}
		case 1:		/* avail ring entry: mostly in range */
			xa_put_le16(avail + 4 + 2 * i, (uint16_t)((r >> 8) % 64 == 0
					? r >> 16 : (r >> 16) % num));
			break;
		case 2:		/* addr: a buffer, a ring, or anywhere */
			xa_put_le64(desc, (r >> 8) % 8 == 0 ? ((uint64_t)xrand(&st) << 32 | xrand(&st))
				    : (r >> 8) % 8 == 1 ? s.size - (r >> 16) % 64
				    : base + (uint64_t)((r >> 16) % num) * s.stride);
			break;
		case 3:		/* len */
			xa_put_le32(desc + 8, (r >> 8) % 16 == 0 ? xrand(&st)
				    : (r >> 8) % 16 == 1 ? (r >> 16) % (2 * s.buf_size + 1)
				    : 16 + (r >> 16) % (s.buf_size - 15));
			break;
		case 4:		/* flags */
			xa_put_le16(desc + 12, (uint16_t)((r >> 8) % 16 == 0 ? r >> 16
					: (r >> 8) % 16 == 1 ? (r >> 16) % 4
					: d == &s.rx ? XA_VRING_DESC_F_WRITE : 0));
			break;
		case 5:		/* next */
			xa_put_le16(desc + 14, (uint16_t)((r >> 8) % 16 == 0 ? r >> 16
					: (r >> 16) % num));
			break;
		case 6: {	/* a message header in a buffer: len, dst */
			uint8_t *b = s.region + base + (uint64_t)i * s.stride;

			xa_put_le16(b + 12, (uint16_t)((r >> 8) % 4 == 0 ? r >> 16
					: (r >> 16) % s.buf_size));
			xa_put_le32(b + 4, (r >> 8) % 4 == 0 ? XA_RPMSG_NS_ADDR : 1024);
			break;
		}
		default:
			kick();
			break;
		}
		if (++writes % 64 == 0)
			usleep(50);
	}
	return (void *)(uintptr_t)writes;
}

/* Step flip-call:MS: the race of a partition against the backend's
 * notifications. The call fd is filled (an eventfd counter at its
 * maximum) and never read, and a second thread toggles O_NONBLOCK on it
 * as fast as it can for MS ms, so that a backend which checks the flag and
 * then writes finds it cleared in between and blocks; meanwhile this
 * thread keeps taking messages and reposting buffers, which makes the
 * backend notify again and again. */
static volatile int flip_stop;

static void *flip_thread(void *arg)
{
	int fd = (int)(intptr_t)arg, fl = fcntl(fd, F_GETFL);
	unsigned long flips = 0;

	while (!flip_stop) {
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		flips++;
	}
	(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return (void *)(uintptr_t)flips;
}

/* An eventfd (protocol 1) is filled here: its counter at the maximum, the
 * next write blocks unless O_NONBLOCK. A socket (protocol 2) fills itself:
 * the backend's calls are never read. */
static void fill_call(void)
{
	uint64_t v = 0xfffffffffffffffeull;
	char link[64], path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", s.call);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 || (link[n] = '\0', strcmp(link, "anon_inode:[eventfd]") != 0))
		return;
	(void)fcntl(s.call, F_SETFL, fcntl(s.call, F_GETFL) | O_NONBLOCK);
	while (read(s.call, &v, sizeof(v)) > 0)
		;
	v = 0xfffffffffffffffeull;
	if (write(s.call, &v, sizeof(v)) < 0)
		die(EXIT_STEP, "flip-call: filling the call eventfd: %s",
		    strerror(errno));
}

static void flip_call(long ms)
{
	pthread_t th;
	void *flips = NULL;
	long deadline = now_ms() + ms;

	fill_call();
	s.no_call = true;
	flip_stop = 0;
	if (pthread_create(&th, NULL, flip_thread, (void *)(intptr_t)s.call) != 0)
		die(EXIT_STEP, "pthread_create failed");
	while (now_ms() < deadline && !s.closed)
		pump(20);
	flip_stop = 1;
	pthread_join(th, &flips);
	s.no_call = false;
	say("flipped flips=%lu%s", (unsigned long)(uintptr_t)flips,
	    s.closed ? "" : " still-connected");
}

static void scribble(long ms)
{
	pthread_t th;
	void *writes = NULL;
	long deadline = now_ms() + ms;

	/* Start from plausible rings: every descriptor a whole buffer with
	 * the right flags, every TX buffer a valid header. */
	for (uint32_t i = 0; i < s.buf_count; i++) {
		uint8_t *rd = s.rx.ring + s.rx.lay.desc_off + (size_t)i * 16;
		uint8_t *td = s.tx.ring + s.tx.lay.desc_off + (size_t)i * 16;
		struct xa_rpmsg_hdr h = { .src = 1024, .dst = 1024, .len = 8 };

		xa_put_le64(rd, s.rxo + (uint64_t)i * s.stride);
		xa_put_le32(rd + 8, s.buf_size);
		xa_put_le16(rd + 12, XA_VRING_DESC_F_WRITE);
		xa_put_le64(td, s.txo + (uint64_t)i * s.stride);
		xa_put_le32(td + 8, XA_RPMSG_HDR_SIZE + 8);
		xa_put_le16(td + 12, 0);
		xa_rpmsg_hdr_encode(s.region + s.txo + (uint64_t)i * s.stride, &h);
	}
	scribble_stop = 0;
	if (pthread_create(&th, NULL, scribble_thread,
			   (void *)(uintptr_t)(getpid() ^ (uint32_t)now_ms())) != 0)
		die(EXIT_STEP, "pthread_create failed");
	/* Only the socket: the rings are garbage now, so their used entries
	 * are not ours to trust either. */
	while (now_ms() < deadline && !s.closed) {
		struct pollfd p = { .fd = s.sock, .events = POLLIN };

		if (poll(&p, 1, (int)(deadline - now_ms())) > 0)
			on_socket_msg();
	}
	scribble_stop = 1;
	pthread_join(th, &writes);
	say("scribbled writes=%lu %s", (unsigned long)(uintptr_t)writes,
	    s.closed ? "closed" : "still-connected");
}

static void run_step(const char *step_in)
{
	char step[1024], *f[5];
	int n;

	snprintf(step, sizeof(step), "%s", step_in);
	n = split(step, f, 5);

	if (strcmp(f[0], "close") == 0) {
		struct xa_local_state st = { .type = XA_LOCAL_STATE, .state = 5 };

		send(s.sock, &st, sizeof(st), MSG_NOSIGNAL);
		close(s.sock);
		s.sock = -1;
		s.closed = true;
		return;
	}
	if (strcmp(f[0], "crash") == 0) {
		fflush(stdout);
		_exit(0);
	}
	if (strcmp(f[0], "wait-closed") == 0) {
		long deadline = now_ms() + opt.timeout_ms;

		while (!s.closed) {
			if (now_ms() > deadline)
				die(EXIT_STEP, "step wait-closed: still connected after %d ms",
				    opt.timeout_ms);
			pump(100);
		}
		return;
	}
	if (s.closed)
		die(EXIT_STEP, "step %s: the connection is closed", step_in);
	if (strcmp(f[0], "sleep") == 0 && n == 2) {
		long deadline = now_ms() + (long)num_arg(step_in, f[1]);

		while (now_ms() < deadline && !s.closed)
			pump((int)(deadline - now_ms()));
		return;
	}
	if (strcmp(f[0], "clear-nonblock") == 0) {
		/* Every fd the backend might share with us, blocking. */
		(void)fcntl(s.call, F_SETFL, fcntl(s.call, F_GETFL) & ~O_NONBLOCK);
		(void)fcntl(s.kick, F_SETFL, fcntl(s.kick, F_GETFL) & ~O_NONBLOCK);
		s.no_call = true;
		say("cleared-nonblock");
		return;
	}
	if (strcmp(f[0], "flip-call") == 0 && n == 2) {
		flip_call((long)num_arg(step_in, f[1]));
		return;
	}
	if (strcmp(f[0], "scribble") == 0 && n == 2) {
		scribble((long)num_arg(step_in, f[1]));
		return;
	}
	if (strcmp(f[0], "drain") == 0) {
		long deadline = now_ms() + opt.timeout_ms;

		while (s.ntx_free < s.buf_count) {
			if (s.closed || now_ms() > deadline)
				die(EXIT_STEP, "step drain: %u sent buffers still out",
				    s.buf_count - s.ntx_free);
			pump(50);
		}
		return;
	}
	if (strcmp(f[0], "hold") == 0 && n == 2) {
		s.hold = true;
		usleep((useconds_t)num_arg(step_in, f[1]) * 1000);
		s.hold = false;
		service_rings();
		return;
	}
	if (strcmp(f[0], "post-rx") == 0 && n == 2) {
		s.rx_target += (unsigned)num_arg(step_in, f[1]);
		if (s.rx_target > s.buf_count)
			s.rx_target = s.buf_count;
		rx_post_more();
		return;
	}
	if ((strcmp(f[0], "ns-create") == 0 || strcmp(f[0], "ns-destroy") == 0) && n == 3) {
		send_ns(f[1], (uint32_t)num_arg(step_in, f[2]),
			f[0][3] == 'c' ? XA_RPMSG_NS_CREATE : XA_RPMSG_NS_DESTROY);
		return;
	}
	if (strcmp(f[0], "ns-flood") == 0 && n == 4) {
		unsigned long cnt = num_arg(step_in, f[2]);
		uint32_t base = (uint32_t)num_arg(step_in, f[3]);
		char name[32];

		for (unsigned long k = 0; k < cnt; k++) {
			snprintf(name, sizeof(name), "%s%lu", f[1], k);
			send_ns(name, base + (uint32_t)k, XA_RPMSG_NS_CREATE);
		}
		return;
	}
	if (strcmp(f[0], "seq") == 0 && n == 2) {
		hdr_seq = (uint32_t)num_arg(step_in, f[1]);
		return;
	}
	if (strcmp(f[0], "send") == 0 && n == 4) {
		size_t l = strlen(f[3]);

		if (l > 0xffff)
			die(EXIT_USAGE, "step send: text too long");
		send_msg((uint32_t)num_arg(step_in, f[1]), (uint32_t)num_arg(step_in, f[2]),
			 f[3], (uint16_t)l);
		return;
	}
	if (strcmp(f[0], "flood") == 0 && (n == 4 || n == 5)) {
		uint32_t src = (uint32_t)num_arg(step_in, f[1]);
		uint32_t dst = (uint32_t)num_arg(step_in, f[2]);
		unsigned long cnt = num_arg(step_in, f[3]);
		unsigned long len = n == 5 ? num_arg(step_in, f[4]) : 16;
		uint8_t pl[65536];

		if (len < 12 || len + XA_RPMSG_HDR_SIZE > s.buf_size)
			die(EXIT_USAGE, "step flood: LEN must be 12..%u", s.buf_size - XA_RPMSG_HDR_SIZE);
		memset(pl, '.', len);
		for (unsigned long k = 0; k < cnt; k++) {
			int w = snprintf((char *)pl, 12, "seq %lu", k);

			pl[w] = ' ';
			send_msg(src, dst, pl, (uint16_t)len);
			pump(0);
		}
		return;
	}
	if (strcmp(f[0], "recv") == 0 && n == 2) {
		unsigned long cnt = num_arg(step_in, f[1]), errs = 0;

		for (unsigned long k = 0; k < cnt; k++) {
			struct rxmsg *m = wait_msg(step_in);

			print_msg(m);
			if (!check_seq(m))
				errs++;
			free(m);
		}
		say("recv count=%lu seq_errors=%lu", cnt, errs);
		if (errs)
			die(EXIT_STEP, "step %s: %lu messages out of order", step_in, errs);
		return;
	}
	if (strcmp(f[0], "expect-ns") == 0 && n == 3) {
		uint32_t want = strcmp(f[1], "create") == 0 ? XA_RPMSG_NS_CREATE
			: strcmp(f[1], "destroy") == 0 ? XA_RPMSG_NS_DESTROY : 99;

		if (want == 99)
			die(EXIT_USAGE, "step %s: expected create or destroy", step_in);
		for (;;) {
			struct rxmsg *m = wait_msg(step_in);
			struct xa_rpmsg_ns ns;
			bool hit = m->dst == XA_RPMSG_NS_ADDR &&
				xa_rpmsg_ns_decode(m->data, m->len, &ns) == XA_OK &&
				ns.flags == want && strcmp(ns.name, f[2]) == 0;

			print_msg(m);
			free(m);
			if (hit)
				return;
		}
	}
	if (strcmp(f[0], "echo") == 0 && n == 2) {
		unsigned long cnt = num_arg(step_in, f[1]);

		for (unsigned long k = 0; k < cnt; k++) {
			struct rxmsg *m = wait_msg(step_in);

			if (m->dst == XA_RPMSG_NS_ADDR) {
				print_msg(m);
				k--;
			} else {
				send_msg(m->dst, m->src, m->data, m->len);
			}
			free(m);
		}
		say("echoed count=%lu", cnt);
		return;
	}
	if (strcmp(f[0], "pingpong") == 0 && n == 4) {
		uint32_t src = (uint32_t)num_arg(step_in, f[1]);
		uint32_t dst = (uint32_t)num_arg(step_in, f[2]);
		unsigned long cnt = num_arg(step_in, f[3]);
		long t0 = now_ms(), worst = 0;
		char pl[32];

		for (unsigned long k = 0; k < cnt; k++) {
			long t1 = now_ms();
			int w = snprintf(pl, sizeof(pl), "ping %lu", k);

			send_msg(src, dst, pl, (uint16_t)w);
			struct rxmsg *m = wait_msg(step_in);

			free(m);
			if (now_ms() - t1 > worst)
				worst = now_ms() - t1;
		}
		say("pingpong count=%lu total_ms=%ld worst_ms=%ld", cnt, now_ms() - t0, worst);
		return;
	}
	if (strcmp(f[0], "fault") == 0 && n == 2) {
		fault(f[1]);
		return;
	}
	die(EXIT_USAGE, "unknown or malformed step '%s' (see --help)", step_in);
}

int main(int argc, char **argv)
{
	enum { O_PROTO = 256, O_NAMEHEX, O_NOREGION, O_FDS, O_DECL, O_EXTRA,
	       O_NOSEAL, O_RSC, O_RXPOST, O_HUGETLB };
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 'S' },
		{ "partition", required_argument, NULL, 'p' },
		{ "devno", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "proto-version", required_argument, NULL, O_PROTO },
		{ "name-hex", required_argument, NULL, O_NAMEHEX },
		{ "no-region", no_argument, NULL, O_NOREGION },
		{ "region-fds", required_argument, NULL, O_FDS },
		{ "declare-size", required_argument, NULL, O_DECL },
		{ "extra-pages", required_argument, NULL, O_EXTRA },
		{ "no-seal", no_argument, NULL, O_NOSEAL },
		{ "hugetlb", no_argument, NULL, O_HUGETLB },
		{ "rsc", required_argument, NULL, O_RSC },
		{ "rx-post", required_argument, NULL, O_RXPOST },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "S:p:d:t:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'S': opt.socket = optarg; break;
		case 'p': opt.name = optarg; break;
		case 'd': opt.devno = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': opt.timeout_ms = atoi(optarg); break;
		case 'q': opt.quiet = true; break;
		case 'h': usage(stdout); return 0;
		case O_PROTO: opt.version = (unsigned)strtoul(optarg, NULL, 0); break;
		case O_NAMEHEX: opt.name_hex = optarg; break;
		case O_NOREGION: opt.no_region = true; break;
		case O_FDS: opt.region_fds = atoi(optarg); break;
		case O_DECL: opt.declare_size = strtoll(optarg, NULL, 0); break;
		case O_EXTRA: opt.extra_pages = (unsigned)strtoul(optarg, NULL, 0); break;
		case O_NOSEAL: opt.no_seal = true; break;
		case O_HUGETLB: opt.hugetlb = true; break;
		case O_RSC: opt.rsc_fault = optarg; break;
		case O_RXPOST: opt.rx_post = atoi(optarg); break;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (opt.name == NULL && opt.name_hex == NULL) {
		fprintf(stderr, "fake-partition: -p NAME is required (see --help)\n");
		return EXIT_USAGE;
	}
	s.sock = s.memfd = s.kick = s.call = -1;
	connect_backend();
	if (opt.no_region) {
		/* Keep the connection until the steps are done (e.g. sleep). */
		for (int i = optind; i < argc; i++) {
			if (strncmp(argv[i], "sleep:", 6) == 0)
				pump(atoi(argv[i] + 6));
			else if (strcmp(argv[i], "wait-closed") == 0)
				run_step(argv[i]);
		}
		say("done");
		return 0;
	}
	for (int i = optind; i < argc; i++)
		run_step(argv[i]);
	/* Let the backend take what we queued last before we go. */
	pump(0);
	say("done");
	return 0;
}
