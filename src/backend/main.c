/* xenamp-backend: the RPMsg virtio device for every end of every link, and
 * the relay between them. Top layer: options, set-up, daemonising,
 * signals and the event loop, which hands each transport event to the
 * relay (relay.h) or, for a control request, to ctl.h. The transports are
 * src/backend/transport. */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "backend/conf.h"
#include "backend/ctl.h"
#include "backend/log.h"
#include "backend/loop.h"
#include "backend/relay.h"
#ifdef HAVE_LIBVIRT
#include "backend/libvirt.h"
#endif
#include "backend/transport/be_transport.h"
#include "common/local_proto.h"

#ifndef XA_SYSCONFDIR
#define XA_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG XA_SYSCONFDIR "/xenamp/xenamp.conf"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

/* Events handled per transport per loop turn: keeps a storm of new
 * connections from delaying the relay round. */
#define EVENTS_PER_TURN 256u

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xenamp-backend [OPTION]...\n"
"The xenamp backend: the RPMsg virtio device of every partition named in\n"
"the configuration, relaying messages between the two ends of each link.\n"
"\n"
"  -c, --config FILE   configuration file (default %s)\n"
"  -f, --foreground    stay in the foreground and log to stderr\n"
"                      (default: become a daemon and log to syslog)\n"
"  -s, --socket PATH   listening socket for partitions and xenampctl\n"
"                      (default: [backend] socket, else $%s, else %s)\n"
"  -v, --verbose       more log output; repeat for more (debug, trace)\n"
"  -h, --help          show this help and exit\n"
"  -V, --version       show the version and exit\n"
"\n"
"Signals: SIGTERM or SIGINT stop the backend; every connected partition is\n"
"told the backend closed.\n"
"\n"
"Environment: XENAMP_POLL_US is the longest time, in microseconds, the\n"
"backend keeps looking at busy rings after traffic before it sleeps\n"
"(adaptive, default 50; 0: never, it sleeps as soon as it is idle).\n"
"\n"
"Exit status:\n"
"  0  stopped by a signal (or --help, --version)\n"
"  1  runtime failure (the socket could not be set up, the event loop failed)\n"
"  2  usage or configuration error (the message names FILE:LINE)\n",
		DEFAULT_CONFIG, XA_LOCAL_SOCKET_ENV, XA_LOCAL_DEFAULT_SOCKET_DOC);
}

/* A relative socket path stops meaning the same file once the daemon
 * changes to /; make it absolute first. */
static int absolute_path(const char *in, char *out, size_t outlen)
{
	char cwd[PATH_MAX];

	if (in[0] == '/') {
		if (strlen(in) >= outlen)
			return -ENAMETOOLONG;
		memcpy(out, in, strlen(in) + 1);
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -errno;
	if ((size_t)snprintf(out, outlen, "%s/%s", cwd, in) >= outlen)
		return -ENAMETOOLONG;
	return 0;
}

struct options {
	const char *config_path;
	const char *socket_opt;      /* NULL: not given */
	bool foreground;
	int verbose;
};

/* Everything main() sets up, so that one teardown releases it. */
struct backend {
	struct xa_config cfg;
	bool cfg_loaded;
	struct xa_relay relay;
	bool relay_ok;
	char sock[XA_CFG_SOCKET_MAX];
	char *config_abs;
	sigset_t mask;
	int sfd;
	struct xa_be_claim *claims;  /* [partition] sections, for the transport */
#ifdef HAVE_LIBVIRT
	struct xa_lv *lv;
#endif
};

/* -1: go on; otherwise the exit status (--help, --version, bad usage). */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->config_path = DEFAULT_CONFIG;
	while ((ch = getopt_long(argc, argv, "c:fs:vhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 's':
			o->socket_opt = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xenamp-backend (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		default:
			fprintf(stderr, "xenamp-backend: see --help for the options\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "xenamp-backend: unexpected argument '%s'; see --help\n",
			argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

/* The configuration, the log level and the socket path: 0 or EXIT_USAGE. */
static int load_config(const struct options *o, struct backend *b)
{
	const char *sock = o->socket_opt;
	char err[512], defsock[XA_LOCAL_PATH_MAX];

	if (xa_config_load(o->config_path, &b->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenamp-backend: %s\n", err);
		return EXIT_USAGE;
	}
	b->cfg_loaded = true;
	xa_log_set_level((b->cfg.log_level >= 0 ? b->cfg.log_level : XA_LOG_INFO) +
			 o->verbose);
	if (sock == NULL && b->cfg.socket_path[0])
		sock = b->cfg.socket_path;
	if (sock == NULL)
		sock = getenv(XA_LOCAL_SOCKET_ENV);
	if (sock == NULL || sock[0] == '\0')
		sock = xa_local_default_socket(defsock, sizeof(defsock));
	if (absolute_path(sock, b->sock, sizeof(b->sock)) < 0) {
		fprintf(stderr,
			"xenamp-backend: socket path %s is too long once made absolute (at most %u characters); choose a shorter --socket\n",
			sock, XA_CFG_SOCKET_MAX - 1);
		return EXIT_USAGE;
	}
	return 0;
}

/* Signals arrive through a signalfd, in the loop, like everything else:
 * no handler runs in the middle of the relay. Blocked first, before any
 * thread exists. */
static int block_signals(struct backend *b)
{
	sigemptyset(&b->mask);
	sigaddset(&b->mask, SIGTERM);
	sigaddset(&b->mask, SIGINT);
	sigaddset(&b->mask, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &b->mask, NULL) < 0) {
		fprintf(stderr, "xenamp-backend: sigprocmask: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* The [partition NAME] sections as the local transport takes them
 * (pointers into b->cfg, which outlives the transports). 0 or -1. */
static int make_claims(struct backend *b)
{
	size_t n = b->cfg.npartitions;

	if (n == 0)
		return 0;
	b->claims = calloc(n, sizeof(*b->claims));
	if (b->claims == NULL) {
		fprintf(stderr, "xenamp-backend: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct xa_cfg_partition *p = &b->cfg.partitions[i];

		b->claims[i] = (struct xa_be_claim){
			.partition = p->name,
			.uids = p->uid, .nuids = p->nuid,
			.gids = p->gid, .ngids = p->ngid,
		};
	}
	return 0;
}

/* The local transport, and in dom0 the Xen one. 0 or -1 (reported). */
static int open_transports(struct backend *b)
{
	struct xa_be_opts bo = {
		.socket_path = b->sock,
		.socket_mode = 0660,
		.log = xa_log_transport,
	};
	struct xa_be_transport *t = NULL;
	char err[512] = "";

	/* Limits against local clients (docs/security.md); 0: default. */
	bo.max_clients = b->cfg.limits.v[XA_LIM_MAX_CLIENTS];
	bo.max_clients_per_uid = b->cfg.limits.v[XA_LIM_PER_UID];
	bo.reserved_clients = b->cfg.limits.v[XA_LIM_RESERVED];
	bo.hello_timeout_ms = b->cfg.limits.v[XA_LIM_HELLO_MS];
	bo.ctl_queue_max = (size_t)b->cfg.limits.v[XA_LIM_CTL_KIB] << 10;
	bo.ctl_queue_total = (size_t)b->cfg.limits.v[XA_LIM_CTL_TOTAL_KIB] << 10;
	bo.region_timeout_ms = b->cfg.limits.v[XA_LIM_REGION_MS];
	bo.xen_region_maps = b->cfg.limits.v[XA_LIM_XEN_MAPS];
	bo.xen_map_window_ms = b->cfg.limits.v[XA_LIM_XEN_WINDOW_MS];
	/* Who may be which partition, who may change links. */
	if (make_claims(b) < 0)
		return -1;
	bo.claims = b->claims;
	bo.nclaims = b->cfg.npartitions;
	bo.has_admin_gid = b->cfg.has_admin_gid;
	bo.admin_gid = b->cfg.admin_gid;

	if (xa_be_transport_new("local", &bo, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenamp-backend: %s\n", err);
		return -1;
	}
	if (xa_relay_add_transport(&b->relay, t, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenamp-backend: %s\n", err);
		t->ops->destroy(t);
		return -1;
	}
#ifdef HAVE_XEN
	/* In dom0 the backend also serves Xen domains
	 * (docs/design.md#xen-transport);
	 * $XENAMP_BACKEND_XEN=1 forces it, =0 turns it off. */
	const char *want = getenv("XENAMP_BACKEND_XEN");
	bool forced = want != NULL && want[0] != '\0' && strcmp(want, "0") != 0;
	bool use = (want != NULL && want[0] != '\0') ? forced : xa_xen_be_detect();
	struct xa_be_transport *xt = NULL;

	if (use && xa_be_xen_new(&bo, &xt, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenamp-backend: %s%s\n", err,
			forced ? "" : "; serving local partitions only");
		if (forced)
			return -1;
	} else if (use && xa_relay_add_transport(&b->relay, xt, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenamp-backend: %s\n", err);
		xt->ops->destroy(xt);
		return -1;
	}
#endif
	return 0;
}

/* Daemonise (only now: every configuration and socket error above reached
 * the terminal with its exit status), then what must start in the final
 * process: libvirt's event thread, the signalfd. 0 or -1 (reported). */
static int go_live(const struct options *o, struct backend *b)
{
	char err[512];

	if (!o->foreground) {
		if (daemon(0, 0) < 0) {
			fprintf(stderr, "xenamp-backend: cannot become a daemon: %s\n",
				strerror(errno));
			return -1;
		}
		xa_log_use_syslog();
	}
	b->relay.pid = (long)getpid();
	/* libvirt-uri: links from domain metadata, lifecycle events. */
	if (b->cfg.libvirt_uri[0] != '\0') {
#ifdef HAVE_LIBVIRT
		if (xa_lv_open(&b->lv, &b->relay.reg, b->cfg.libvirt_uri, err,
			       sizeof(err)) < 0) {
			xa_log(XA_LOG_ERROR, "%s", err);
			return -1;
		}
#else
		(void)err;
		xa_log(XA_LOG_ERROR, "libvirt-uri is set but xenamp-backend was built without libvirt; remove it or rebuild with --with-libvirt");
		return -1;
#endif
	}
	b->sfd = signalfd(-1, &b->mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (b->sfd < 0) {
		xa_log(XA_LOG_ERROR, "signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Answer a control request; the relay never sees one. */
static void answer_ctl(struct xa_relay *r, struct xa_be_transport *t,
		       const struct xa_be_event *ev)
{
	static const char oom[] = "{\"error\":\"out of memory\"}";
	const struct xa_ctl_peer peer = {
		.pid = ev->ctl_pid, .uid = ev->ctl_uid,
		.privileged = ev->ctl_privileged,
	};
	size_t len = 0;
	char *json = xa_relay_ctl(r, ev->req, ev->req_len, &peer, &len);

	if (json == NULL) {
		t->ops->ctl_reply(t, ev->ctl, oom, sizeof(oom) - 1);
	} else {
		t->ops->ctl_reply(t, ev->ctl, json, len);
		free(json);
	}
}

/* Handle at most max events of t. Returns the number handled, or a
 * negative errno when the transport failed. */
static int pump(struct xa_relay *r, struct xa_be_transport *t, unsigned max)
{
	struct xa_be_event ev;
	unsigned done = 0;

	while (done < max) {
		int rc = t->ops->next_event(t, &ev);

		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		done++;
		if (ev.type == XA_BE_EV_CTL_REQUEST)
			answer_ctl(r, t, &ev);
		else
			xa_relay_event(r, t, &ev);
	}
	return (int)done;
}

/* Read the signalfd: true when the backend must stop. */
static bool stop_signalled(int sfd)
{
	struct signalfd_siginfo si;
	bool quit = false;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			xa_log(XA_LOG_WARNING,
			       "SIGHUP: reloading is not supported; restart xenamp-backend to apply a new configuration");
		} else {
			xa_log(XA_LOG_INFO, "stopping on %s",
			       strsignal((int)si.ssi_signo));
			quit = true;
		}
	}
	return quit;
}

/* The sources of one loop turn (loop.h) over the backend's state. */
static int turn_pump(void *ctx, unsigned i)
{
	struct backend *b = ctx;

	return pump(&b->relay, b->relay.reg.tr[i], EVENTS_PER_TURN);
}

static void turn_failed(void *ctx, unsigned i, int rc)
{
	struct backend *b = ctx;

	xa_log(XA_LOG_ERROR, "%s transport failed: %s",
	       b->relay.reg.tr[i]->ops->name, strerror(-rc));
}

static void turn_reap(void *ctx)
{
	xa_reg_reap_owners(&((struct backend *)ctx)->relay.reg);
}

static void turn_lv(void *ctx)
{
#ifdef HAVE_LIBVIRT
	xa_lv_dispatch(((struct backend *)ctx)->lv);
#else
	(void)ctx;
#endif
}

static void turn_round(void *ctx)
{
	xa_relay_round(&((struct backend *)ctx)->relay);
}

static const struct xa_loop_ops turn_ops = {
	.pump = turn_pump,
	.failed = turn_failed,
	.reap_owners = turn_reap,
	.lv_dispatch = turn_lv,
	.relay_round = turn_round,
};

/* The event loop, until a signal or a failure: 0 or EXIT_RUNTIME. */
static int run_loop(struct backend *b)
{
	struct xa_relay *r = &b->relay;
	struct xa_registry *reg = &r->reg;

	for (;;) {
		struct pollfd pfd[3 + XA_REG_MAX_TRANSPORTS];
		unsigned n = 0;
		bool has_lv = false;

		/* The layout of loop.h: signals, transports, owners, libvirt. */
		pfd[n].fd = b->sfd;
		pfd[n++].events = POLLIN;
		for (unsigned i = 0; i < reg->ntr; i++) {
			pfd[n].fd = reg->tr[i]->ops->event_fd(reg->tr[i]);
			pfd[n++].events = POLLIN;
		}
		/* Registrants of dynamic links exiting (registry.h); -1,
		 * which poll skips, when none can be watched. */
		pfd[n].fd = xa_reg_owner_fd(reg);
		pfd[n++].events = POLLIN;
#ifdef HAVE_LIBVIRT
		if (b->lv != NULL) {
			pfd[n].fd = xa_lv_fd(b->lv);
			pfd[n++].events = POLLIN;
			has_lv = true;
		}
#endif
		/* Sleep only when no end has relay work left and the
		 * adaptive polling window is closed (relay.h). */
		int polled = poll(pfd, n, xa_relay_poll_timeout(r));

		if (polled < 0 && errno != EINTR) {
			xa_log(XA_LOG_ERROR, "poll: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		if (polled > 0 && (pfd[0].revents & POLLIN) && stop_signalled(b->sfd))
			return 0;
		if (xa_loop_turn(&turn_ops, b, polled, pfd, reg->ntr, has_lv))
			return EXIT_RUNTIME;
	}
}

static void teardown(struct backend *b)
{
#ifdef HAVE_LIBVIRT
	xa_lv_close(b->lv);
	b->lv = NULL;
#endif
	if (b->relay_ok) {
		xa_relay_shutdown(&b->relay);
		for (unsigned i = 0; i < b->relay.reg.ntr; i++)
			b->relay.reg.tr[i]->ops->destroy(b->relay.reg.tr[i]);
		xa_relay_free(&b->relay);
	}
	free(b->claims);
	if (b->cfg_loaded)
		xa_config_free(&b->cfg);
	free(b->config_abs);
	if (b->sfd >= 0)
		close(b->sfd);
}

/* Everything up to the event loop: 0, or the exit status. */
static int setup(const struct options *o, struct backend *b)
{
	char err[512];
	int rc = load_config(o, b);

	if (rc != 0)
		return rc;
	if (block_signals(b) < 0)
		return EXIT_RUNTIME;
	if (xa_relay_init(&b->relay, &b->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenamp-backend: %s\n", err);
		return EXIT_RUNTIME;
	}
	b->relay_ok = true;
	/* Shown by xenampctl status; absolute so it means something there. */
	b->config_abs = realpath(o->config_path, NULL);
	b->relay.config_path = b->config_abs ? b->config_abs : o->config_path;
	b->relay.socket_path = b->sock;
	if (open_transports(b) < 0 || go_live(o, b) < 0)
		return EXIT_RUNTIME;
	xa_log(XA_LOG_INFO, "listening on %s; %zu link%s from %s", b->sock,
	       b->cfg.nlinks, b->cfg.nlinks == 1 ? "" : "s",
	       b->relay.config_path);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct backend b = { .sfd = -1 };
	int status = parse_options(argc, argv, &o);

	if (status >= 0)
		return status;
	status = setup(&o, &b);
	if (status == 0)
		status = run_loop(&b);
	teardown(&b);
	return status;
}
