/* xenamp-rpmsgd: options, start-up and the one event loop (rpmsgd.h). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "tools/rpmsgd/rpmsgd.h"

void rd_log(const char *fmt, ...)
{
	va_list ap;

	fputs(RD_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void rd_dbg(const struct rd_daemon *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->verbose == 0)
		return;
	fputs(RD_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int64_t rd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " RD_PROG " [options]\n"
		"Serve Linux's rpmsg character devices (/dev/rpmsg_ctrlN, /dev/rpmsgM) and\n"
		"rpmsg TTYs (/dev/ttyRPMSGn) over one xenamp RPMsg device, through CUSE.\n"
		"\n"
		"  -p, --partition NAME  partition name (default: $XENAMP_PARTITION)\n"
		"  -d, --device N        RPMsg device number (default 0)\n"
		"  -t, --transport T     local or xen (default: $XENAMP_TRANSPORT, else auto)\n"
		"  -S, --socket PATH     backend socket in local mode (default: $XENAMP_SOCKET,\n"
		"                        else /tmp/xenamp-backend.sock)\n"
		"  -c, --ctrl-index N    serve /dev/rpmsg_ctrlN (default: the device number)\n"
		"  -q, --queue N         receive queue of each endpoint device, in messages\n"
		"                        (default %u; more are dropped and counted)\n"
		"  -r, --run-dir DIR     where rpmsg_ctrlN.services lists the peer's services\n"
		"                        (default /run/xenamp)\n"
		"  -T, --tty-dir DIR     where the ttyRPMSGn links go (default /dev)\n"
		"  -n, --no-tty          no TTY bridge for the peer's rpmsg-tty services\n"
		"  -v, --verbose         log name-service events and opens\n"
		"  -h, --help            this help\n"
		"\n"
		"Exit status: 0 stopped by SIGTERM or SIGINT; 1 the link was lost or the\n"
		"loop failed; 2 usage error; 3 cannot open the xenamp device; 4 this kernel\n"
		"offers no CUSE (/dev/cuse); 5 cannot create /dev/rpmsg_ctrlN.\n",
		RD_DEFAULT_QUEUE);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
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

struct rd_args {
	const char *partition;
	unsigned long devno, ctrl_index, queue;
	bool ctrl_set;
	struct xenamp_opts opts;
};

static int parse_args(int argc, char **argv, struct rd_daemon *rd, struct rd_args *a)
{
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "transport", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 'S' },
		{ "ctrl-index", required_argument, NULL, 'c' },
		{ "queue", required_argument, NULL, 'q' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "tty-dir", required_argument, NULL, 'T' },
		{ "no-tty", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "p:d:t:S:c:q:r:T:nvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': a->partition = optarg; break;
		case 't': a->opts.transport = optarg; break;
		case 'S': a->opts.socket_path = optarg; break;
		case 'r': rd->run_dir = optarg; break;
		case 'T': rd->tty_dir = optarg; break;
		case 'n': rd->tty_enabled = false; break;
		case 'v': rd->verbose++; break;
		case 'h': usage(stdout); return 1;
		case 'd':
		case 'c':
		case 'q': {
			unsigned long max = c == 'q' ? 1000000 : 255, *out =
				c == 'd' ? &a->devno : c == 'c' ? &a->ctrl_index : &a->queue;

			if (parse_uint(optarg, max, out) < 0 || (c == 'q' && *out == 0)) {
				rd_log("invalid %s '%s'", c == 'd' ? "device number" :
				       c == 'c' ? "control device index" : "queue length (1..1000000)",
				       optarg);
				return -1;
			}
			a->ctrl_set = a->ctrl_set || c == 'c';
			break;
		}
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	rd->ctrl_index = (unsigned)(a->ctrl_set ? a->ctrl_index : a->devno);
	rd->queue_max = (unsigned)a->queue;
	return 0;
}

/* The descriptors of one loop turn and what each belongs to. */
enum rd_kind { K_SIG, K_XA, K_CTRL, K_EP, K_TTY };
struct rd_pollset {
	struct pollfd *pfd;
	enum rd_kind *kind;
	void **who;
	size_t n, cap;
};

static int pollset_add(struct rd_pollset *P, int fd, enum rd_kind k, void *owner)
{
	if (P->n == P->cap) {
		size_t cap = P->cap ? P->cap * 2 : 16;
		struct pollfd *pfd = realloc(P->pfd, cap * sizeof(*pfd));
		enum rd_kind *kind = pfd ? realloc(P->kind, cap * sizeof(*kind)) : NULL;
		void **who = kind ? realloc(P->who, cap * sizeof(*who)) : NULL;

		if (pfd)
			P->pfd = pfd;
		if (kind)
			P->kind = kind;
		if (who == NULL)
			return -1;
		P->who = who;
		P->cap = cap;
	}
	P->pfd[P->n] = (struct pollfd){ .fd = fd, .events = POLLIN };
	P->kind[P->n] = k;
	P->who[P->n] = owner;
	P->n++;
	return 0;
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* Build this turn's set; returns the poll timeout. */
static int pollset_build(struct rd_daemon *rd, struct rd_pollset *P, int sfd)
{
	int timeout = min_timeout(rd_epts_service(rd), rd_ttys_service(rd));
	int bad = 0;

	P->n = 0;
	bad |= pollset_add(P, sfd, K_SIG, NULL);
	bad |= pollset_add(P, xenamp_fd(rd->dev), K_XA, NULL);
	bad |= pollset_add(P, rd->ctrl.fd, K_CTRL, NULL);
	for (struct rd_eptdev *ep = rd->epts; ep != NULL; ep = ep->next)
		if (ep->cdev.se != NULL && !ep->reap)
			bad |= pollset_add(P, ep->cdev.fd, K_EP, ep);
	/* A pty's input waits in the pty while a message of it waits for a
	 * TX buffer. */
	for (struct rd_tty *t = rd->ttys; t != NULL; t = t->next)
		if (t->out_len == 0)
			bad |= pollset_add(P, t->master, K_TTY, t);
	return bad ? -2 : timeout;
}

/* The xenamp device has work: run its callbacks. They may create and
 * remove ttys and endpoints, so this comes last in a turn. */
static int turn_dispatch(struct rd_daemon *rd)
{
	int r = xenamp_dispatch(rd->dev, 0);

	if (r >= 0)
		return RD_EX_OK;
	if (r == RPMSG_ERR_DEV_STATE)
		rd_log("link lost: %s", xenamp_strerror_last());
	else
		rd_log("dispatch failed: error %d", r);
	return RD_EX_RUNTIME;
}

/* One turn's ready descriptors; -1 to go on, else the exit status. */
static int turn_handle(struct rd_daemon *rd, struct rd_pollset *P, int sfd)
{
	bool xa_ready = false;

	for (size_t i = 0; i < P->n; i++) {
		struct rd_eptdev *ep = P->who[i];

		if (P->pfd[i].revents == 0)
			continue;
		switch (P->kind[i]) {
		case K_SIG: {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				rd_log("signal %u: stopping", si.ssi_signo);
			return RD_EX_OK;
		}
		case K_XA:
			xa_ready = true;
			break;
		case K_CTRL:
			if (rd_cdev_process(&rd->ctrl) < 0) {
				rd_log("/dev/rpmsg_ctrl%u: the kernel ended the CUSE connection",
				       rd->ctrl_index);
				return RD_EX_RUNTIME;
			}
			break;
		case K_EP:
			if (!ep->reap && rd_cdev_process(&ep->cdev) < 0) {
				rd_eptdev_kill(ep);
				ep->reap = true;
			}
			break;
		case K_TTY:
			rd_tty_readable(P->who[i]);
			break;
		}
	}
	return xa_ready ? (turn_dispatch(rd) == RD_EX_OK ? -1 : RD_EX_RUNTIME) : -1;
}

static int run_loop(struct rd_daemon *rd, int sfd)
{
	struct rd_pollset P;
	int status = -1;

	memset(&P, 0, sizeof(P));
	while (status < 0) {
		int timeout = pollset_build(rd, &P, sfd);
		int r;

		if (timeout == -2) {
			rd_log("out of memory");
			status = RD_EX_RUNTIME;
			break;
		}
		r = poll(P.pfd, P.n, timeout);
		if (r < 0 && errno != EINTR) {
			rd_log("poll: %s", strerror(errno));
			status = RD_EX_RUNTIME;
		} else if (r > 0) {
			status = turn_handle(rd, &P, sfd);
		}
	}
	free(P.pfd);
	free(P.kind);
	free(P.who);
	return status;
}

static int signals_fd(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int main(int argc, char **argv)
{
	struct rd_daemon rd;
	struct rd_args a;
	char why[320];
	int r, sfd, status;

	memset(&rd, 0, sizeof(rd));
	memset(&a, 0, sizeof(a));
	rd.run_dir = "/run/xenamp";
	rd.tty_dir = "/dev";
	rd.tty_enabled = true;
	a.queue = RD_DEFAULT_QUEUE;
	r = parse_args(argc, argv, &rd, &a);
	if (r != 0)
		return r > 0 ? RD_EX_OK : RD_EX_USAGE;
	/* First, before touching the backend: without CUSE nothing can be
	 * served (one line, its own exit status). */
	if (rd_cuse_available(why, sizeof(why)) < 0) {
		rd_log("%s", why);
		return RD_EX_NOCUSE;
	}
	sfd = signals_fd();
	if (sfd < 0) {
		rd_log("cannot set up the signal descriptor: %s", strerror(errno));
		return RD_EX_RUNTIME;
	}
	rd_ns_init(&rd, &a.opts);
	r = xenamp_open(a.partition, (unsigned)a.devno, &a.opts, &rd.dev);
	if (r < 0) {
		rd_log("%s", xenamp_strerror_last());
		return RD_EX_OPEN;
	}
	rd.rdev = xenamp_rpmsg_dev(rd.dev);
	rd_ns_attach(&rd);
	r = rd_ctrl_create(&rd);
	if (r < 0) {
		rd_log("cannot create /dev/rpmsg_ctrl%u: %s", rd.ctrl_index,
		       r == -EEXIST ? "it exists already (another xenamp-rpmsgd, or the kernel's rpmsg); choose another --ctrl-index"
				    : strerror(-r));
		xenamp_close(rd.dev);
		return RD_EX_CTRL;
	}
	rd_log("serving /dev/rpmsg_ctrl%u over RPMsg device %lu (receive queue %u messages, tty bridge %s)",
	       rd.ctrl_index, a.devno, rd.queue_max, rd.tty_enabled ? rd.tty_dir : "off");
	status = run_loop(&rd, sfd);
	rd_ttys_shutdown(&rd);
	rd_epts_shutdown(&rd);
	rd_cdev_destroy(&rd.ctrl);
	rd_ns_shutdown(&rd);
	xenamp_close(rd.dev);
	close(sfd);
	return status;
}
