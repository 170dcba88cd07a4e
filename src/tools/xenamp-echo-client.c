/* xenamp-echo-client: exercise an "rpmsg-echo" service over libxenamp.
 *
 * Creates an endpoint named "rpmsg-echo" with destination ANY, waits until
 * the name service binds it to the remote service, sends N messages of
 * sizes cycling 1..payload max (or a fixed size) filled with a pattern
 * derived from the sequence number, and checks every reply byte for byte.
 * Replies are received by a second thread running xenamp_dispatch() while
 * the main thread sends with blocking rpmsg_send(). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenamp/xenamp.h>

#define SERVICE "rpmsg-echo"

enum {
	EX_OK = 0,
	EX_MISMATCH = 1,   /* replies missing or different */
	EX_USAGE = 2,
	EX_OPEN = 3,       /* cannot open the device / create the endpoint */
	EX_NOSERVICE = 4,  /* no "rpmsg-echo" service announced in time */
	EX_LINK = 5,       /* a send failed or the link was lost */
	EX_UNBOUND = 6,    /* the service went away (its unbind callback ran) */
};

struct client {
	struct xenamp_dev *dev;
	struct rpmsg_endpoint ept;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned long count;    /* messages to send */
	int fixed_size;         /* 0: cycle */
	int max;                /* payload max */
	unsigned long received;
	unsigned long mismatches;
	unsigned long long bytes;
	int link_error;
	int stop;
	int unbound;            /* set by the unbind callback; read atomically */
	int quiet;
	int verbose;           /* print every reply */
	/* --ping: round trips of the messages, each sent when the one
	 * before came back */
	unsigned long rtt_n;
	int64_t rtt_min_ns, rtt_max_ns, rtt_sum_ns;
};

static int msg_size(const struct client *c, unsigned long seq)
{
	if (c->fixed_size > 0)
		return c->fixed_size;
	return (int)(seq % (unsigned long)c->max) + 1;
}

static uint8_t pattern(unsigned long seq, size_t i)
{
	uint32_t x = (uint32_t)seq * 2654435761u + (uint32_t)i * 40503u;

	return (uint8_t)(x ^ (x >> 13) ^ (x >> 24));
}

static void fill(uint8_t *buf, unsigned long seq, int len)
{
	for (int i = 0; i < len; i++)
		buf[i] = pattern(seq, (size_t)i);
}

static int rx_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		 uint32_t src, void *priv)
{
	struct client *c = priv;
	const uint8_t *p = data;
	unsigned long seq;
	int ok;

	(void)ept;
	(void)src;
	pthread_mutex_lock(&c->lock);
	seq = c->received;
	ok = seq < c->count && len == (size_t)msg_size(c, seq);
	for (size_t i = 0; ok && i < len; i++)
		if (p[i] != pattern(seq, i))
			ok = 0;
	if (!ok) {
		c->mismatches++;
		if (!c->quiet && c->mismatches <= 5)
			fprintf(stderr, "xenamp-echo-client: reply %lu differs (%zu bytes, expected %d)\n",
				seq, len, seq < c->count ? msg_size(c, seq) : -1);
	}
	else if (c->verbose)
		printf("reply %lu from address %u: %zu bytes, %02x %02x %02x ... intact\n",
		       seq, src, len, p[0], len > 1 ? p[1] : 0, len > 2 ? p[2] : 0);
	c->received++;
	c->bytes += len;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	return RPMSG_SUCCESS;
}

/* The name service withdrew the service (its partition closed, died or
 * was destroyed): stop sending and say so. */
static void unbind_cb(struct rpmsg_endpoint *ept)
{
	struct client *c = ept->priv;

	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->unbound, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	fprintf(stderr, "xenamp-echo-client: service '%s' went away (unbind callback)\n",
		SERVICE);
}

static void *dispatch_thread(void *arg)
{
	struct client *c = arg;

	for (;;) {
		int r;

		pthread_mutex_lock(&c->lock);
		if (c->stop) {
			pthread_mutex_unlock(&c->lock);
			break;
		}
		pthread_mutex_unlock(&c->lock);
		r = xenamp_dispatch(c->dev, 100);
		if (r < 0) {
			pthread_mutex_lock(&c->lock);
			c->link_error = r;
			pthread_cond_broadcast(&c->cond);
			pthread_mutex_unlock(&c->lock);
			break;
		}
	}
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xenamp-echo-client [options]\n"
		"Send messages to the RPMsg echo service \"" SERVICE "\" and check the replies.\n"
		"\n"
		"  -p, --partition NAME  partition name (default: $XENAMP_PARTITION)\n"
		"  -d, --device N        RPMsg device number (default 0)\n"
		"  -n, --count N         messages to send (default 100)\n"
		"  -s, --size BYTES      fixed message size (default: cycle 1..payload max)\n"
		"  -r, --rate N          send at most N messages per second, 1/N s apart\n"
		"                        (default: as fast as the link takes them)\n"
		"  -P, --ping            one message in flight: send each when the reply to\n"
		"                        the one before came back, and add the round trips\n"
		"                        to the summary (\", rtt min/avg/max A/B/C us\")\n"
		"  -z, --nocopy          send with the zero-copy API\n"
		"                        (rpmsg_get_tx_payload_buffer + rpmsg_send_nocopy)\n"
		"  -w, --wait SECONDS    how long to wait for the service and for the last\n"
		"                        replies (default 10)\n"
		"  -t, --transport T     local or xen (default: $XENAMP_TRANSPORT, else local)\n"
		"  -S, --socket PATH     backend socket in local mode (default: $XENAMP_SOCKET,\n"
		"                        else $XDG_RUNTIME_DIR/xenamp/backend.sock;\n"
		"                        root: /run/xenamp/backend.sock)\n"
		"  -q, --quiet           print only the summary line and errors\n"
		"  -v, --verbose         print every reply as it arrives\n"
		"  -h, --help            this help\n"
		"\n"
		"Prints \"sent N, received N, mismatches 0, bytes B\".\n"
		"Exit status: 0 every reply matched; 1 replies missing or different;\n"
		"2 usage error; 3 cannot open the device or create the endpoint; 4 no\n"
		"\"" SERVICE "\" service was announced in time; 5 a send failed or the\n"
		"link was lost; 6 the service went away (unbind) before all replies.\n");
}

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The command line, besides what goes into struct client. */
struct args {
	const char *partition;
	unsigned long devno;
	unsigned long wait_s;   /* for the service, and without reply progress */
	unsigned long rate;     /* messages per second; 0: no limit */
	int nocopy;
	int ping;               /* one message in flight, round trips timed */
	struct xenamp_opts opts;
};

/* parse_option(): go on with the next option. Any other value ends the
 * program with that exit status. */
#define ARGS_NEXT (-1)

static const struct option longopts[] = {
	{ "partition", required_argument, NULL, 'p' },
	{ "device", required_argument, NULL, 'd' },
	{ "count", required_argument, NULL, 'n' },
	{ "size", required_argument, NULL, 's' },
	{ "rate", required_argument, NULL, 'r' },
	{ "nocopy", no_argument, NULL, 'z' },
	{ "ping", no_argument, NULL, 'P' },
	{ "wait", required_argument, NULL, 'w' },
	{ "transport", required_argument, NULL, 't' },
	{ "socket", required_argument, NULL, 'S' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The options that take a number: -d, -n, -s, -r, -w. */
static int number_option(struct client *c, struct args *a, int opt,
			 const char *arg)
{
	unsigned long v;

	switch (opt) {
	case 'd':
		if (parse_ulong(arg, 255, &a->devno) < 0) {
			fprintf(stderr, "xenamp-echo-client: invalid device number '%s'\n", arg);
			return EX_USAGE;
		}
		break;
	case 'n':
		if (parse_ulong(arg, 1000000000UL, &c->count) < 0) {
			fprintf(stderr, "xenamp-echo-client: invalid count '%s'\n", arg);
			return EX_USAGE;
		}
		break;
	case 's':
		if (parse_ulong(arg, 65535, &v) < 0 || v == 0) {
			fprintf(stderr, "xenamp-echo-client: invalid size '%s' (1..payload max)\n",
				arg);
			return EX_USAGE;
		}
		c->fixed_size = (int)v;
		break;
	case 'r':
		if (parse_ulong(arg, 10000000UL, &a->rate) < 0 || a->rate == 0) {
			fprintf(stderr, "xenamp-echo-client: invalid rate '%s' (messages per second, 1..10000000)\n",
				arg);
			return EX_USAGE;
		}
		break;
	case 'w':
		if (parse_ulong(arg, 86400, &a->wait_s) < 0 || a->wait_s == 0) {
			fprintf(stderr, "xenamp-echo-client: invalid wait '%s'\n", arg);
			return EX_USAGE;
		}
		break;
	}
	return ARGS_NEXT;
}

/* One option from getopt_long(): ARGS_NEXT, or the exit status. */
static int parse_option(struct client *c, struct args *a, int opt)
{
	switch (opt) {
	case 'p':
		a->partition = optarg;
		return ARGS_NEXT;
	case 'd':
	case 'n':
	case 's':
	case 'r':
	case 'w':
		return number_option(c, a, opt, optarg);
	case 'z':
		a->nocopy = 1;
		return ARGS_NEXT;
	case 'P':
		a->ping = 1;
		return ARGS_NEXT;
	case 't':
		a->opts.transport = optarg;
		return ARGS_NEXT;
	case 'S':
		a->opts.socket_path = optarg;
		return ARGS_NEXT;
	case 'q':
		c->quiet = 1;
		return ARGS_NEXT;
	case 'v':
		c->verbose = 1;
		return ARGS_NEXT;
	case 'h':
		usage(stdout);
		return EX_OK;
	default:
		usage(stderr);
		return EX_USAGE;
	}
}

/* The whole command line: ARGS_NEXT, or the exit status. */
static int parse_args(int argc, char **argv, struct client *c, struct args *a)
{
	int opt, r;

	memset(a, 0, sizeof(*a));
	a->wait_s = 10;
	c->count = 100;
	while ((opt = getopt_long(argc, argv, "p:d:n:r:s:zPw:t:S:qvh", longopts, NULL)) != -1) {
		r = parse_option(c, a, opt);
		if (r != ARGS_NEXT)
			return r;
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	return ARGS_NEXT;
}

/* Open the device and create the "rpmsg-echo" endpoint (unbound: the
 * name service binds it). EX_OK, or EX_OPEN with nothing left open. */
static int open_endpoint(struct client *c, const struct args *a)
{
	int r;

	r = xenamp_open(a->partition, (unsigned)a->devno, &a->opts, &c->dev);
	if (r < 0) {
		fprintf(stderr, "xenamp-echo-client: %s\n", xenamp_strerror_last());
		return EX_OPEN;
	}
	c->ept.priv = c;
	r = rpmsg_create_ept(&c->ept, xenamp_rpmsg_dev(c->dev), SERVICE,
			     RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, rx_cb, unbind_cb);
	if (r < 0) {
		fprintf(stderr, "xenamp-echo-client: cannot create endpoint '%s': error %d\n",
			SERVICE, r);
		xenamp_close(c->dev);
		return EX_OPEN;
	}
	return EX_OK;
}

/* Wait for the name service to bind us (callbacks run here, in this
 * thread: the receiver thread is not started yet). */
static int wait_bound(struct client *c, unsigned long wait_s)
{
	int64_t deadline = now_ms() + (int64_t)wait_s * 1000;

	while (!is_rpmsg_ept_ready(&c->ept)) {
		int left = (int)(deadline - now_ms());

		if (left <= 0) {
			fprintf(stderr, "xenamp-echo-client: no '%s' service announced within %lu s (is xenamp-echo-server running on the other end of the link?)\n",
				SERVICE, wait_s);
			return EX_NOSERVICE;
		}
		if (xenamp_dispatch(c->dev, left) < 0) {
			fprintf(stderr, "xenamp-echo-client: waiting for the service: %s\n",
				xenamp_strerror_last());
			return EX_LINK;
		}
	}
	if (!c->quiet)
		fprintf(stderr, "xenamp-echo-client: bound to '%s' at address %u (local %u), payload max %d\n",
			SERVICE, c->ept.dest_addr, c->ept.addr, c->max);
	return EX_OK;
}

/* With --rate, each message leaves at least period_ns after the one
 * before, counted from when that one left: a stall (a backend
 * restarting) is not made up for by a burst. */
static void pace(int64_t *next_ns, int64_t period_ns)
{
	int64_t t = now_ns();

	while (t < *next_ns) {
		int64_t left = *next_ns - t;
		struct timespec ts = { left / 1000000000LL, (long)(left % 1000000000LL) };

		(void)nanosleep(&ts, NULL);
		t = now_ns();
	}
	*next_ns = t + period_ns;
}

/* Send message seq, copied from buf or (--nocopy) written straight into a
 * TX buffer. EX_OK, EX_UNBOUND when the service is gone, or EX_LINK. */
static int send_one(struct client *c, unsigned long seq, int nocopy,
		    uint8_t *buf)
{
	int len = msg_size(c, seq);
	int r;

	if (nocopy) {
		uint32_t cap = 0;
		uint8_t *p = rpmsg_get_tx_payload_buffer(&c->ept, &cap, 1);

		if (p == NULL) {
			fprintf(stderr, "xenamp-echo-client: no TX buffer for message %lu\n", seq);
			return EX_LINK;
		}
		fill(p, seq, len);
		r = rpmsg_send_nocopy(&c->ept, p, len);
		if (r < 0)
			rpmsg_release_tx_buffer(&c->ept, p);
	} else {
		fill(buf, seq, len);
		r = rpmsg_send(&c->ept, buf, len);
	}
	if (r == len)
		return EX_OK;
	if (__atomic_load_n(&c->unbound, __ATOMIC_ACQUIRE))
		return EX_UNBOUND;   /* no peer to take it: timed out or failed */
	fprintf(stderr, "xenamp-echo-client: sending message %lu (%d bytes) failed: error %d%s%s\n",
		seq, len, r, r == RPMSG_ERR_DEV_STATE ? ": " : "",
		r == RPMSG_ERR_DEV_STATE ? "the link is gone" : "");
	return EX_LINK;
}

/* --ping: wait until the reply to message seq came back (or the link or
 * the service is gone, or wait_s passed) and record its round trip from
 * t0. EX_OK, or the status that ends the run. */
static int await_reply(struct client *c, unsigned long seq, int64_t t0,
		       unsigned long wait_s)
{
	int64_t until = now_ms() + (int64_t)wait_s * 1000, rtt;
	int status = EX_OK;

	pthread_mutex_lock(&c->lock);
	while (c->received <= seq && !c->link_error && !c->unbound &&
	       now_ms() < until) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	}
	rtt = now_ns() - t0;
	if (c->received > seq) {
		if (c->rtt_n == 0 || rtt < c->rtt_min_ns)
			c->rtt_min_ns = rtt;
		if (rtt > c->rtt_max_ns)
			c->rtt_max_ns = rtt;
		c->rtt_sum_ns += rtt;
		c->rtt_n++;
	} else {
		status = c->unbound ? EX_UNBOUND : c->link_error ? EX_LINK : EX_MISMATCH;
	}
	pthread_mutex_unlock(&c->lock);
	return status;
}

/* Send c->count messages, stopping at the first failure or when the
 * service goes away; *sentp is the number sent. */
static int send_all(struct client *c, const struct args *a, uint8_t *buf,
		    unsigned long *sentp)
{
	int64_t next_ns = 0;
	int64_t period_ns = a->rate != 0 ? 1000000000LL / (int64_t)a->rate : 0;
	unsigned long sent;
	int status = EX_OK;

	for (sent = 0; sent < c->count; sent++) {
		if (a->rate != 0)
			pace(&next_ns, period_ns);
		if (__atomic_load_n(&c->unbound, __ATOMIC_ACQUIRE)) {
			status = EX_UNBOUND;
			break;
		}
		int64_t t0 = now_ns();

		status = send_one(c, sent, a->nocopy, buf);
		if (status != EX_OK)
			break;
		if (a->ping && (status = await_reply(c, sent, t0, a->wait_s)) != EX_OK) {
			sent++;   /* it left; its reply did not come back */
			break;
		}
	}
	*sentp = sent;
	return status;
}

/* Wait for the replies to the sent messages: give up after wait_s without
 * progress. Then stop the receiver thread (the caller joins it). */
static int wait_replies(struct client *c, unsigned long sent,
			unsigned long wait_s, int status)
{
	unsigned long last;
	int64_t until;

	pthread_mutex_lock(&c->lock);
	last = c->received;
	until = now_ms() + (int64_t)wait_s * 1000;
	while (c->received < sent && !c->link_error && !c->unbound) {
		struct timespec ts;

		if (c->received != last) {
			last = c->received;
			until = now_ms() + (int64_t)wait_s * 1000;
		}
		if (now_ms() >= until)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	}
	c->stop = 1;
	if (c->link_error && status == EX_OK) {
		fprintf(stderr, "xenamp-echo-client: link lost while receiving: error %d\n",
			c->link_error);
		status = EX_LINK;
	}
	pthread_mutex_unlock(&c->lock);
	return status;
}

/* The summary line (the integration scripts parse it) and the final
 * exit status. */
static int report(const struct client *c, unsigned long sent, int status)
{
	/* Losing the service after every reply came back is no failure. */
	if (c->unbound && status == EX_OK && c->received < c->count)
		status = EX_UNBOUND;
	printf("sent %lu, received %lu, mismatches %lu, bytes %llu",
	       sent, c->received, c->mismatches, c->bytes);
	if (c->rtt_n != 0)
		printf(", rtt min/avg/max %lld/%lld/%lld us",
		       (long long)(c->rtt_min_ns / 1000),
		       (long long)(c->rtt_sum_ns / (int64_t)c->rtt_n / 1000),
		       (long long)(c->rtt_max_ns / 1000));
	printf("%s\n", status == EX_UNBOUND ? ", service went away (unbind)" : "");
	if (status == EX_OK && (c->received != c->count || c->mismatches != 0))
		status = EX_MISMATCH;
	return status;
}

/* Bound: send with this thread while a second one dispatches the
 * replies, then wait for them and report. */
static int exchange(struct client *c, const struct args *a, uint8_t *buf)
{
	unsigned long sent = 0;
	pthread_t th;
	int status;

	if (pthread_create(&th, NULL, dispatch_thread, c) != 0) {
		fprintf(stderr, "xenamp-echo-client: cannot start the receiver thread\n");
		return EX_LINK;
	}
	status = send_all(c, a, buf, &sent);
	status = wait_replies(c, sent, a->wait_s, status);
	pthread_join(th, NULL);
	return report(c, sent, status);
}

/* With the endpoint created: check --size against the link, wait for the
 * service, then exchange the messages. */
static int run(struct client *c, const struct args *a)
{
	uint8_t *buf;
	int status;

	c->max = rpmsg_get_tx_buffer_size(&c->ept);
	if (c->fixed_size > c->max) {
		fprintf(stderr, "xenamp-echo-client: size %d is larger than the payload max %d of this link\n",
			c->fixed_size, c->max);
		return EX_USAGE;
	}
	status = wait_bound(c, a->wait_s);
	if (status != EX_OK)
		return status;
	buf = malloc((size_t)c->max);
	if (buf == NULL) {
		fprintf(stderr, "xenamp-echo-client: out of memory\n");
		return EX_LINK;
	}
	status = exchange(c, a, buf);
	free(buf);
	return status;
}

int main(int argc, char **argv)
{
	static struct client c;
	struct args a;
	int status;

	status = parse_args(argc, argv, &c, &a);
	if (status != ARGS_NEXT)
		return status;
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	status = open_endpoint(&c, &a);
	if (status != EX_OK)
		return status;
	status = run(&c, &a);
	rpmsg_destroy_ept(&c.ept);
	xenamp_close(c.dev);
	return status;
}
