/* xenamp-vchan-bench: the relay and a plain libxenvchan channel between
 * two domains, measured the same way, after both ends are connected
 * (tests/xen step 5, scenario-perf.sh). Not a test of speed: under
 * emulation it prints figures; it fails only when a measurement did not
 * run or did not move the expected bytes.
 *
 *   xenamp-vchan-bench server vchan PEER_DOMID XS_PATH
 *   xenamp-vchan-bench server relay DEVNO
 *   xenamp-vchan-bench client vchan PEER_DOMID XS_PATH SPEC...
 *   xenamp-vchan-bench client relay DEVNO SPEC...
 *
 * SPEC is rtt:SIZE:COUNT (COUNT timed round trips of SIZE bytes after a
 * warm-up of COUNT/10 + 1, at most 100: median and p99) or
 * stream:SIZE:COUNT (COUNT messages one way, timed from the first send
 * to the server's acknowledgement of the last: messages/s and KiB/s).
 * relay: libxenamp on device DEVNO of $XENAMP_PARTITION over
 * $XENAMP_TRANSPORT, fixed endpoint 1024 on both sides (no name service);
 * vchan: the server offers a channel of 64 KiB each way at XS_PATH for
 * PEER_DOMID, the client connects to it.
 *
 * Protocol, the same over both: the client sends a 16-byte command
 * {"XBC1", mode, size, count}; for rtt the server sends every one of the
 * count messages back; for stream it checks each message's size and the
 * sequence number in its first 8 bytes and, after the last, answers with
 * a 32-byte acknowledgement {"XBA1", 0, messages, bytes, bad}; quit ends
 * the server. Over vchan (a byte stream) both sides know each message's
 * size from the command.
 *
 * The client prints one line per SPEC and, last, one line of
 * key=value figures for scripts:
 *   rtt32_med_us=.. rtt32_p99_us=.. rtt32_n=.. rtt32_s=.. stream496_msgs=..
 *   stream496_bytes=.. stream496_s=.. stream496_kibps=.. connect_s=..
 * Exit status: 0 every measurement ran with every byte accounted for;
 * 1 a measurement failed; 2 usage. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxenvchan.h>
#include <xenamp/xenamp.h>

#define RING_BYTES 65536u
#define MSG_MAX 65520u           /* the largest RPMsg payload (buf-size 65536) */
#define EPT 1024u
#define CMD_LEN 16u
#define ACK_LEN 32u
#define WAIT_MS 60000            /* a reply or an acknowledgement, at most */
#define MAX_SPECS 8

enum mode { M_IDLE = 0, M_RTT = 1, M_STREAM = 2, M_QUIT = 3 };

/* One transport: send a whole message; receive one of exactly n bytes. */
struct link {
	int (*send)(const void *p, size_t n);
	int (*recv)(void *p, size_t n);
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* ------------------------------------------------------------------ */
/* vchan                                                               */

static struct libxenvchan *V;

static int v_send(const void *p, size_t n)
{
	return libxenvchan_send(V, p, n) == (int)n ? 0 : -1;
}

static int v_recv(void *p, size_t n)
{
	return libxenvchan_recv(V, p, n) == (int)n ? 0 : -1;
}

static const struct link vchan_link = { v_send, v_recv };

/* ------------------------------------------------------------------ */
/* relay (libxenamp)                                                   */

static struct {
	struct xenamp_dev *dev;
	struct rpmsg_endpoint ept;
	uint8_t *slot;         /* client: the one message awaited */
	size_t slot_len;
	bool full, overrun;
} X;

static int r_send(const void *p, size_t n)
{
	return rpmsg_send(&X.ept, p, (int)n) == (int)n ? 0 : -1;
}

/* Client side: the callback keeps the one message the client waits for
 * (a reply or the acknowledgement: never more than one in flight). */
static int r_client_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		       uint32_t src, void *priv)
{
	(void)ept; (void)src; (void)priv;
	if (X.full || len > MSG_MAX) {
		X.overrun = true;
		return RPMSG_SUCCESS;
	}
	memcpy(X.slot, data, len);
	X.slot_len = len;
	X.full = true;
	return RPMSG_SUCCESS;
}

static int r_recv(void *p, size_t n)
{
	double limit = now_s() + WAIT_MS / 1000.0;

	while (!X.full) {
		if (xenamp_dispatch(X.dev, 1000) < 0 || now_s() > limit)
			return -1;
	}
	X.full = false;
	if (X.overrun || X.slot_len != n)
		return -1;
	memcpy(p, X.slot, n);
	return 0;
}

static const struct link relay_link = { r_send, r_recv };

static int relay_open(const char *devno_s, rpmsg_ept_cb cb)
{
	struct xenamp_opts o;
	char *end;
	unsigned long devno = strtoul(devno_s, &end, 10);

	if (*end != '\0' || end == devno_s || devno > 255) {
		fprintf(stderr, "xenamp-vchan-bench: device number '%s': expected 0..255\n", devno_s);
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.connect_timeout_ms = WAIT_MS;
	if (xenamp_open(NULL, (unsigned)devno, &o, &X.dev) != 0) {
		fprintf(stderr, "xenamp-vchan-bench: %s\n", xenamp_strerror_last());
		return -1;
	}
	if (rpmsg_create_ept(&X.ept, xenamp_rpmsg_dev(X.dev), "", EPT, EPT, cb, NULL) != 0) {
		fprintf(stderr, "xenamp-vchan-bench: cannot create endpoint %u\n", EPT);
		xenamp_close(X.dev);
		return -1;
	}
	return 0;
}

static void relay_close(void)
{
	rpmsg_destroy_ept(&X.ept);
	xenamp_close(X.dev);
}

/* ------------------------------------------------------------------ */
/* Server: one state machine fed with every message, either transport  */

static struct {
	const struct link *l;
	enum mode mode;
	uint32_t size, left;
	uint64_t next, msgs, bytes, bad;
	uint64_t cmds, total_msgs;
	bool failed;
} SV;

static void serve_cmd(const uint8_t *p, size_t n)
{
	if (n != CMD_LEN || memcmp(p, "XBC1", 4) != 0 || get32(p + 4) > M_QUIT ||
	    get32(p + 8) > MSG_MAX || get32(p + 8) < 8) {
		fprintf(stderr, "xenamp-vchan-bench: server: not a command (%zu bytes)\n", n);
		SV.failed = true;
		SV.mode = M_QUIT;
		return;
	}
	SV.cmds++;
	SV.mode = (enum mode)get32(p + 4);
	SV.size = get32(p + 8);
	SV.left = get32(p + 12);
	SV.next = SV.msgs = SV.bytes = SV.bad = 0;
	if (SV.mode != M_QUIT && SV.left == 0)
		SV.mode = M_IDLE;
}

static void serve_ack(void)
{
	uint8_t a[ACK_LEN];

	memcpy(a, "XBA1", 4);
	put32(a + 4, 0);
	put64(a + 8, SV.msgs);
	put64(a + 16, SV.bytes);
	put64(a + 24, SV.bad);
	if (SV.l->send(a, sizeof(a)) != 0)
		SV.failed = true;
}

static void serve_msg(const uint8_t *p, size_t n)
{
	if (SV.mode == M_IDLE) {
		serve_cmd(p, n);
		return;
	}
	SV.total_msgs++;
	if (SV.mode == M_RTT) {
		if (SV.l->send(p, n) != 0)
			SV.failed = true;
	} else {
		if (n != SV.size || get64(p) != SV.next)
			SV.bad++;
		SV.next++;
		SV.msgs++;
		SV.bytes += n;
	}
	if (--SV.left == 0) {
		if (SV.mode == M_STREAM)
			serve_ack();
		SV.mode = M_IDLE;
	}
}

static int r_server_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		       uint32_t src, void *priv)
{
	(void)ept; (void)src; (void)priv;
	if (SV.mode != M_QUIT)
		serve_msg(data, len);
	return RPMSG_SUCCESS;
}

static int server_end(void)
{
	printf("server: %llu commands, %llu messages%s\n", (unsigned long long)SV.cmds,
	       (unsigned long long)SV.total_msgs, SV.failed ? ", FAILED" : "");
	return SV.failed ? 1 : 0;
}

static int server_relay(const char *devno)
{
	SV.l = &relay_link;
	if (relay_open(devno, r_server_cb) < 0)
		return 1;
	while (SV.mode != M_QUIT && !SV.failed)
		if (xenamp_dispatch(X.dev, 1000) < 0) {
			fprintf(stderr, "xenamp-vchan-bench: server: %s\n", xenamp_strerror_last());
			SV.failed = true;
		}
	relay_close();
	return server_end();
}

static int server_vchan(int peer, const char *path)
{
	static uint8_t buf[MSG_MAX];

	V = libxenvchan_server_init(NULL, peer, path, RING_BYTES, RING_BYTES);
	if (V == NULL) {
		fprintf(stderr, "xenamp-vchan-bench: server_init(%d, %s): %s\n",
			peer, path, strerror(errno));
		return 1;
	}
	V->blocking = 1;
	SV.l = &vchan_link;
	while (SV.mode != M_QUIT && !SV.failed) {
		size_t want = SV.mode == M_IDLE ? CMD_LEN : SV.size;

		if (v_recv(buf, want) != 0) {
			fprintf(stderr, "xenamp-vchan-bench: server: the channel closed\n");
			SV.failed = true;
			break;
		}
		serve_msg(buf, want);
	}
	libxenvchan_close(V);
	return server_end();
}

/* ------------------------------------------------------------------ */
/* Client                                                              */

struct spec {
	enum mode mode;
	uint32_t size, count;
};

static const struct link *CL;
static uint8_t *TXB, *RXB;

static int send_cmd(enum mode m, uint32_t size, uint32_t count)
{
	uint8_t c[CMD_LEN];

	memcpy(c, "XBC1", 4);
	put32(c + 4, m);
	put32(c + 8, size);
	put32(c + 12, count);
	return CL->send(c, sizeof(c));
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Round trips; false when one failed (said why). */
static bool run_rtt(const struct spec *s, char *kv, size_t kvlen)
{
	uint32_t warm = s->count / 10 + 1 > 100 ? 100 : s->count / 10 + 1;
	uint32_t total = warm + s->count;
	double *lat = calloc(s->count, sizeof(*lat)), t0 = now_s();
	size_t i99 = ((size_t)s->count * 99 + 99) / 100 - 1;

	if (lat == NULL || send_cmd(M_RTT, s->size, total) != 0) {
		fprintf(stderr, "xenamp-vchan-bench: rtt %u: cannot send the command\n", s->size);
		free(lat);
		return false;
	}
	for (uint32_t i = 0; i < total; i++) {
		double t = now_s();

		memset(TXB, (int)(i & 0xff), s->size);
		put64(TXB, i);
		if (CL->send(TXB, s->size) != 0 || CL->recv(RXB, s->size) != 0 ||
		    memcmp(RXB, TXB, s->size) != 0) {
			fprintf(stderr, "xenamp-vchan-bench: rtt %u: round trip %u failed or came back different\n",
				s->size, i);
			free(lat);
			return false;
		}
		if (i >= warm)
			lat[i - warm] = (now_s() - t) * 1e6;
		if (i + 1 == warm)
			t0 = now_s();
	}
	t0 = now_s() - t0;
	qsort(lat, s->count, sizeof(*lat), cmp_d);
	printf("rtt %u B: %u round trips (after %u warm-up) in %.3f s: median %.1f us, p99 %.1f us\n",
	       s->size, s->count, warm, t0, lat[s->count / 2], lat[i99 < s->count ? i99 : s->count - 1]);
	snprintf(kv + strlen(kv), kvlen - strlen(kv),
		 " rtt%u_med_us=%.1f rtt%u_p99_us=%.1f rtt%u_n=%u rtt%u_s=%.3f",
		 s->size, lat[s->count / 2], s->size, lat[i99 < s->count ? i99 : s->count - 1],
		 s->size, s->count, s->size, t0);
	free(lat);
	return true;
}

/* One-way stream; false when it failed or the server did not count
 * every byte (said why). */
static bool run_stream(const struct spec *s, char *kv, size_t kvlen)
{
	uint64_t want = (uint64_t)s->count * s->size;
	double t0, t;

	if (send_cmd(M_STREAM, s->size, s->count) != 0) {
		fprintf(stderr, "xenamp-vchan-bench: stream %u: cannot send the command\n", s->size);
		return false;
	}
	memset(TXB, 0x5a, s->size);
	t0 = now_s();
	for (uint32_t i = 0; i < s->count; i++) {
		put64(TXB, i);
		if (CL->send(TXB, s->size) != 0) {
			fprintf(stderr, "xenamp-vchan-bench: stream %u: message %u not sent\n", s->size, i);
			return false;
		}
	}
	if (CL->recv(RXB, ACK_LEN) != 0 || memcmp(RXB, "XBA1", 4) != 0) {
		fprintf(stderr, "xenamp-vchan-bench: stream %u: no acknowledgement\n", s->size);
		return false;
	}
	t = now_s() - t0;
	printf("stream %u B: %llu messages, %llu bytes in %.3f s: %.0f msg/s, %.0f KiB/s (server: %llu out of order or wrong size)\n",
	       s->size, (unsigned long long)get64(RXB + 8), (unsigned long long)get64(RXB + 16), t,
	       t > 0 ? s->count / t : 0, t > 0 ? want / 1024.0 / t : 0,
	       (unsigned long long)get64(RXB + 24));
	snprintf(kv + strlen(kv), kvlen - strlen(kv),
		 " stream%u_msgs=%llu stream%u_bytes=%llu stream%u_s=%.3f stream%u_kibps=%.0f",
		 s->size, (unsigned long long)get64(RXB + 8), s->size,
		 (unsigned long long)get64(RXB + 16), s->size, t, s->size,
		 t > 0 ? want / 1024.0 / t : 0);
	if (get64(RXB + 8) != s->count || get64(RXB + 16) != want || get64(RXB + 24) != 0) {
		fprintf(stderr, "xenamp-vchan-bench: stream %u: the server counted %llu messages, %llu bytes, %llu bad; expected %u, %llu, 0\n",
			s->size, (unsigned long long)get64(RXB + 8), (unsigned long long)get64(RXB + 16),
			(unsigned long long)get64(RXB + 24), s->count, (unsigned long long)want);
		return false;
	}
	return true;
}

static bool parse_spec(const char *a, struct spec *s)
{
	char m[8];
	unsigned size, count;
	char extra;

	if (sscanf(a, "%7[a-z]:%u:%u%c", m, &size, &count, &extra) != 3 ||
	    size < 8 || size > MSG_MAX || count == 0 || count > 10000000)
		return false;
	if (strcmp(m, "rtt") == 0)
		s->mode = M_RTT;
	else if (strcmp(m, "stream") == 0)
		s->mode = M_STREAM;
	else
		return false;
	s->size = size;
	s->count = count;
	return true;
}

static int client_run(const struct spec *sp, int n, double t_start)
{
	static char kv[1024];
	bool ok = true;

	/* From the start of the program to a connected device (relay) or
	 * channel (vchan): start-up, never part of a measurement. */
	snprintf(kv, sizeof(kv), "connect_s=%.3f", now_s() - t_start);
	for (int i = 0; i < n && ok; i++)
		ok = sp[i].mode == M_RTT ? run_rtt(&sp[i], kv, sizeof(kv))
					 : run_stream(&sp[i], kv, sizeof(kv));
	if (send_cmd(M_QUIT, 8, 0) != 0)
		ok = false;
	printf("%s%s\n", ok ? "" : "FAILED ", kv);
	return ok ? 0 : 1;
}

static int client_vchan(int peer, const char *path, const struct spec *sp, int n)
{
	double t = now_s();
	int rc;

	for (int i = 0; i < 300 && V == NULL; i++) {
		V = libxenvchan_client_init(NULL, peer, path);
		if (V == NULL)
			usleep(100000);
	}
	if (V == NULL) {
		fprintf(stderr, "xenamp-vchan-bench: client_init(%d, %s): %s\n",
			peer, path, strerror(errno));
		return 1;
	}
	V->blocking = 1;
	CL = &vchan_link;
	rc = client_run(sp, n, t);
	libxenvchan_close(V);
	return rc;
}

static int client_relay(const char *devno, const struct spec *sp, int n)
{
	double t = now_s();
	int rc;

	X.slot = malloc(MSG_MAX);
	if (X.slot == NULL || relay_open(devno, r_client_cb) < 0)
		return 1;
	CL = &relay_link;
	rc = client_run(sp, n, t);
	relay_close();
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: xenamp-vchan-bench server vchan PEER_DOMID XS_PATH\n"
		"       xenamp-vchan-bench server relay DEVNO\n"
		"       xenamp-vchan-bench client vchan PEER_DOMID XS_PATH SPEC...\n"
		"       xenamp-vchan-bench client relay DEVNO SPEC...\n"
		"SPEC: rtt:SIZE:COUNT or stream:SIZE:COUNT (SIZE 8..%u)\n", MSG_MAX);
	return 2;
}

int main(int argc, char **argv)
{
	struct spec sp[MAX_SPECS];
	bool vchan = argc > 2 && strcmp(argv[2], "vchan") == 0;
	int first = vchan ? 5 : 4, n = 0;

	if (argc < 4 || (!vchan && strcmp(argv[2], "relay") != 0))
		return usage();
	if (strcmp(argv[1], "server") == 0) {
		if (argc != first)
			return usage();
		return vchan ? server_vchan(atoi(argv[3]), argv[4]) : server_relay(argv[3]);
	}
	if (strcmp(argv[1], "client") != 0 || argc <= first || argc - first > MAX_SPECS)
		return usage();
	for (int i = first; i < argc; i++)
		if (!parse_spec(argv[i], &sp[n++])) {
			fprintf(stderr, "xenamp-vchan-bench: bad SPEC '%s'\n", argv[i]);
			return usage();
		}
	TXB = malloc(MSG_MAX);
	RXB = malloc(MSG_MAX);
	if (TXB == NULL || RXB == NULL)
		return 1;
	return vchan ? client_vchan(atoi(argv[3]), argv[4], sp, n)
		     : client_relay(argv[3], sp, n);
}
