/* xenamp-tty-demo: a firmware console on an rpmsg TTY, over libxenamp.
 *
 * The firmware side of xenamp-rpmsgd's TTY bridge (as of Linux's
 * rpmsg_tty): creates endpoint "rpmsg-tty", which the name service
 * announces; the Linux side makes it a terminal (/dev/ttyRPMSGn). Once the
 * peer has bound to it, prints N console lines, one every interval; every
 * line typed on the terminal (ended by CR or LF) is answered with
 * "tty-demo: got '<line>'". Runs until SIGTERM or SIGINT. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenamp/xenamp.h>

#define SERVICE "rpmsg-tty"
#define LINE_MAX_IN 200

static volatile sig_atomic_t stop;

struct demo {
	struct rpmsg_endpoint ept;
	char line[LINE_MAX_IN + 1];
	size_t line_len;
	unsigned long replies;
	int verbose;
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Console output: one message per line, CR LF ended as a terminal wants. */
static void console(struct demo *d, const char *text)
{
	char buf[LINE_MAX_IN * 4 + 64];
	int n = snprintf(buf, sizeof(buf), "%s\r\n", text);
	int r;

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	r = rpmsg_send(&d->ept, buf, n);
	if (r < 0)
		fprintf(stderr, "xenamp-tty-demo: console output failed: error %d\n", r);
}

/* A typed line, shown back with anything unprintable as \xHH. */
static void answer_line(struct demo *d)
{
	char shown[LINE_MAX_IN * 4 + 1], out[sizeof(shown) + 32];
	size_t n = 0;

	for (size_t i = 0; i < d->line_len; i++) {
		unsigned char c = (unsigned char)d->line[i];

		if (c >= ' ' && c < 0x7f && c != '\\')
			shown[n++] = (char)c;
		else
			n += (size_t)snprintf(shown + n, sizeof(shown) - n, "\\x%02x", c);
	}
	shown[n] = '\0';
	snprintf(out, sizeof(out), "tty-demo: got '%s'", shown);
	console(d, out);
	d->replies++;
	d->line_len = 0;
}

static int rx_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		 uint32_t src, void *priv)
{
	struct demo *d = priv;
	const char *p = data;

	(void)ept, (void)src;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\r' || p[i] == '\n') {
			if (d->line_len > 0)
				answer_line(d);
		} else if (d->line_len < LINE_MAX_IN) {
			d->line[d->line_len++] = p[i];
		}
	}
	return RPMSG_SUCCESS;
}

static void unbind_cb(struct rpmsg_endpoint *ept)
{
	struct demo *d = ept->priv;

	if (d->verbose)
		fprintf(stderr, "xenamp-tty-demo: the terminal side went away; waiting for it\n");
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xenamp-tty-demo [options]\n"
		"Firmware console on an rpmsg TTY: announce \"" SERVICE "\", print console\n"
		"lines there once the peer (xenamp-rpmsgd: /dev/ttyRPMSGn) is bound, and\n"
		"answer every line typed on it, until SIGTERM or SIGINT.\n"
		"\n"
		"  -p, --partition NAME  partition name (default: $XENAMP_PARTITION)\n"
		"  -d, --device N        RPMsg device number (default 0)\n"
		"  -t, --transport T     local or xen (default: $XENAMP_TRANSPORT, else auto)\n"
		"  -S, --socket PATH     backend socket in local mode\n"
		"  -n, --lines N         console lines to print (default 5; 0: none)\n"
		"  -i, --interval MS     between console lines (default 500)\n"
		"  -v, --verbose         say when the peer binds and leaves\n"
		"  -h, --help            this help\n"
		"\n"
		"Console lines read \"xenamp-tty-demo: console line I of N\".\n"
		"Exit status: 0 stopped by a signal; 1 the link was lost; 2 usage error;\n"
		"3 cannot open the device or create the endpoint.\n");
}

static int parse_ul(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return (errno || *end || end == s || s[0] == '-' || *out > max) ? -1 : 0;
}

/* Print the next console line when it is due; returns the wait until
 * the one after (ms), or 500 while not bound or done. */
static int console_tick(struct demo *d, unsigned long *printed,
			unsigned long lines, unsigned long interval, int64_t *due)
{
	char text[96];
	int64_t now = now_ms();

	if (!is_rpmsg_ept_ready(&d->ept) || *printed >= lines)
		return 500;
	if (now < *due)
		return (int)(*due - now);
	snprintf(text, sizeof(text), "xenamp-tty-demo: console line %lu of %lu",
		 *printed + 1, lines);
	console(d, text);
	(*printed)++;
	*due = now + (int64_t)interval;
	return (int)interval;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "transport", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 'S' },
		{ "lines", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct demo d;
	struct xenamp_opts opts;
	struct xenamp_dev *dev;
	struct sigaction sa;
	const char *partition = NULL;
	unsigned long devno = 0, lines = 5, interval = 500, printed = 0;
	int64_t due = 0;
	int c, r, status = 0, was_ready = 0;

	memset(&opts, 0, sizeof(opts));
	while ((c = getopt_long(argc, argv, "p:d:t:S:n:i:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': partition = optarg; break;
		case 't': opts.transport = optarg; break;
		case 'S': opts.socket_path = optarg; break;
		case 'v': d.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		case 'd':
		case 'n':
		case 'i':
			if (parse_ul(optarg, c == 'd' ? 255 : 1000000000UL,
				     c == 'd' ? &devno : c == 'n' ? &lines : &interval) < 0) {
				fprintf(stderr, "xenamp-tty-demo: invalid value '%s' for -%c\n", optarg, c);
				return 2;
			}
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (xenamp_open(partition, (unsigned)devno, &opts, &dev) < 0) {
		fprintf(stderr, "xenamp-tty-demo: %s\n", xenamp_strerror_last());
		return 3;
	}
	d.ept.priv = &d;
	r = rpmsg_create_ept(&d.ept, xenamp_rpmsg_dev(dev), SERVICE, RPMSG_ADDR_ANY,
			     RPMSG_ADDR_ANY, rx_cb, unbind_cb);
	if (r < 0) {
		fprintf(stderr, "xenamp-tty-demo: cannot create endpoint '%s': error %d\n",
			SERVICE, r);
		xenamp_close(dev);
		return 3;
	}
	fprintf(stderr, "xenamp-tty-demo: '%s' announced at address %u\n", SERVICE, d.ept.addr);
	while (!stop) {
		int wait = console_tick(&d, &printed, lines, interval, &due);

		if (is_rpmsg_ept_ready(&d.ept) != (unsigned)was_ready) {
			was_ready = !was_ready;
			if (d.verbose && was_ready)
				fprintf(stderr, "xenamp-tty-demo: terminal side bound at %u\n",
					d.ept.dest_addr);
		}
		r = xenamp_dispatch(dev, wait);
		if (r < 0) {
			fprintf(stderr, "xenamp-tty-demo: link lost: %s\n", xenamp_strerror_last());
			status = 1;
			break;
		}
	}
	rpmsg_destroy_ept(&d.ept);
	xenamp_close(dev);
	printf("printed %lu console lines, answered %lu typed lines\n", printed, d.replies);
	return status;
}
