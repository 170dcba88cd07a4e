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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "nocopy", no_argument, NULL, 'z' },
		{ "wait", required_argument, NULL, 'w' },
		{ "transport", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct client c;
	struct xenamp_opts opts;
	const char *partition = NULL;
	unsigned long devno = 0, v, wait_s = 10, sent = 0, rate = 0;
	int nocopy = 0, opt, r, status = EX_OK;
	pthread_t th;
	uint8_t *buf = NULL;
	int64_t deadline;

	memset(&opts, 0, sizeof(opts));
	c.count = 100;
	while ((opt = getopt_long(argc, argv, "p:d:n:r:s:zw:t:S:qvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			partition = optarg;
			break;
		case 'd':
			if (parse_ulong(optarg, 255, &devno) < 0) {
				fprintf(stderr, "xenamp-echo-client: invalid device number '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'n':
			if (parse_ulong(optarg, 1000000000UL, &c.count) < 0) {
				fprintf(stderr, "xenamp-echo-client: invalid count '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		case 's':
			if (parse_ulong(optarg, 65535, &v) < 0 || v == 0) {
				fprintf(stderr, "xenamp-echo-client: invalid size '%s' (1..payload max)\n",
					optarg);
				return EX_USAGE;
			}
			c.fixed_size = (int)v;
			break;
		case 'r':
			if (parse_ulong(optarg, 10000000UL, &rate) < 0 || rate == 0) {
				fprintf(stderr, "xenamp-echo-client: invalid rate '%s' (messages per second, 1..10000000)\n",
					optarg);
				return EX_USAGE;
			}
			break;
		case 'z':
			nocopy = 1;
			break;
		case 'w':
			if (parse_ulong(optarg, 86400, &wait_s) < 0 || wait_s == 0) {
				fprintf(stderr, "xenamp-echo-client: invalid wait '%s'\n", optarg);
				return EX_USAGE;
			}
			break;
		case 't':
			opts.transport = optarg;
			break;
		case 'S':
			opts.socket_path = optarg;
			break;
		case 'q':
			c.quiet = 1;
			break;
		case 'v':
			c.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);

	r = xenamp_open(partition, (unsigned)devno, &opts, &c.dev);
	if (r < 0) {
		fprintf(stderr, "xenamp-echo-client: %s\n", xenamp_strerror_last());
		return EX_OPEN;
	}
	c.ept.priv = &c;
	r = rpmsg_create_ept(&c.ept, xenamp_rpmsg_dev(c.dev), SERVICE,
			     RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, rx_cb, unbind_cb);
	if (r < 0) {
		fprintf(stderr, "xenamp-echo-client: cannot create endpoint '%s': error %d\n",
			SERVICE, r);
		xenamp_close(c.dev);
		return EX_OPEN;
	}
	c.max = rpmsg_get_tx_buffer_size(&c.ept);
	if (c.fixed_size > c.max) {
		fprintf(stderr, "xenamp-echo-client: size %d is larger than the payload max %d of this link\n",
			c.fixed_size, c.max);
		status = EX_USAGE;
		goto out;
	}

	/* Wait for the name service to bind us (callbacks run here). */
	deadline = now_ms() + (int64_t)wait_s * 1000;
	while (!is_rpmsg_ept_ready(&c.ept)) {
		int left = (int)(deadline - now_ms());

		if (left <= 0) {
			fprintf(stderr, "xenamp-echo-client: no '%s' service announced within %lu s (is xenamp-echo-server running on the other end of the link?)\n",
				SERVICE, wait_s);
			status = EX_NOSERVICE;
			goto out;
		}
		r = xenamp_dispatch(c.dev, left);
		if (r < 0) {
			fprintf(stderr, "xenamp-echo-client: waiting for the service: %s\n",
				xenamp_strerror_last());
			status = EX_LINK;
			goto out;
		}
	}
	if (!c.quiet)
		fprintf(stderr, "xenamp-echo-client: bound to '%s' at address %u (local %u), payload max %d\n",
			SERVICE, c.ept.dest_addr, c.ept.addr, c.max);

	buf = malloc((size_t)c.max);
	if (buf == NULL) {
		fprintf(stderr, "xenamp-echo-client: out of memory\n");
		status = EX_LINK;
		goto out;
	}
	if (pthread_create(&th, NULL, dispatch_thread, &c) != 0) {
		fprintf(stderr, "xenamp-echo-client: cannot start the receiver thread\n");
		status = EX_LINK;
		goto out;
	}
	/* With --rate, each message leaves at least 1/rate after the one
	 * before, counted from when that one left: a stall (a backend
	 * restarting) is not made up for by a burst. */
	int64_t next_ns = 0, period_ns = rate != 0 ? 1000000000LL / (int64_t)rate : 0;

	for (sent = 0; sent < c.count; sent++) {
		int len = msg_size(&c, sent);

		if (rate != 0) {
			int64_t t = now_ns();

			while (t < next_ns) {
				int64_t left = next_ns - t;
				struct timespec ts = { left / 1000000000LL, (long)(left % 1000000000LL) };

				(void)nanosleep(&ts, NULL);
				t = now_ns();
			}
			next_ns = t + period_ns;
		}

		if (__atomic_load_n(&c.unbound, __ATOMIC_ACQUIRE)) {
			status = EX_UNBOUND;
			break;
		}
		if (nocopy) {
			uint32_t cap = 0;
			uint8_t *p = rpmsg_get_tx_payload_buffer(&c.ept, &cap, 1);

			if (p == NULL) {
				fprintf(stderr, "xenamp-echo-client: no TX buffer for message %lu\n", sent);
				status = EX_LINK;
				break;
			}
			fill(p, sent, len);
			r = rpmsg_send_nocopy(&c.ept, p, len);
			if (r < 0)
				rpmsg_release_tx_buffer(&c.ept, p);
		} else {
			fill(buf, sent, len);
			r = rpmsg_send(&c.ept, buf, len);
		}
		if (r != len && __atomic_load_n(&c.unbound, __ATOMIC_ACQUIRE)) {
			/* No peer to take it: the send timed out or failed. */
			status = EX_UNBOUND;
			break;
		}
		if (r != len) {
			fprintf(stderr, "xenamp-echo-client: sending message %lu (%d bytes) failed: error %d%s%s\n",
				sent, len, r, r == RPMSG_ERR_DEV_STATE ? ": " : "",
				r == RPMSG_ERR_DEV_STATE ? "the link is gone" : "");
			status = EX_LINK;
			break;
		}
	}

	/* Wait for the replies: give up after wait_s without progress. */
	pthread_mutex_lock(&c.lock);
	{
		unsigned long last = c.received;
		int64_t until = now_ms() + (int64_t)wait_s * 1000;

		while (c.received < sent && !c.link_error && !c.unbound) {
			struct timespec ts;

			if (c.received != last) {
				last = c.received;
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
			pthread_cond_timedwait(&c.cond, &c.lock, &ts);
		}
	}
	c.stop = 1;
	if (c.link_error && status == EX_OK) {
		fprintf(stderr, "xenamp-echo-client: link lost while receiving: error %d\n",
			c.link_error);
		status = EX_LINK;
	}
	pthread_mutex_unlock(&c.lock);
	pthread_join(th, NULL);

	/* Losing the service after every reply came back is no failure. */
	if (c.unbound && status == EX_OK && c.received < c.count)
		status = EX_UNBOUND;
	printf("sent %lu, received %lu, mismatches %lu, bytes %llu%s\n",
	       sent, c.received, c.mismatches, c.bytes,
	       status == EX_UNBOUND ? ", service went away (unbind)" : "");
	if (status == EX_OK && (c.received != c.count || c.mismatches != 0))
		status = EX_MISMATCH;
out:
	free(buf);
	rpmsg_destroy_ept(&c.ept);
	xenamp_close(c.dev);
	return status;
}
