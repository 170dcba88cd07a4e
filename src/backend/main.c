/* xenamp-backend: the RPMsg virtio device for every end of every link, and
 * the relay between them. Options, daemonising, signals and the event
 * loop live here; the relay is relay.c, the OS seam src/platform. */
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
#include "backend/log.h"
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

int main(int argc, char **argv)
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
	const char *config_path = DEFAULT_CONFIG;
	const char *socket_opt = NULL;
	bool foreground = false;
	int verbose = 0, ch;
	char err[512];

	while ((ch = getopt_long(argc, argv, "c:fs:vhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 's':
			socket_opt = optarg;
			break;
		case 'v':
			verbose++;
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

	struct xa_config cfg;

	if (xa_config_load(config_path, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenamp-backend: %s\n", err);
		return EXIT_USAGE;
	}
	xa_log_set_level((cfg.log_level >= 0 ? cfg.log_level : XA_LOG_INFO) + verbose);

	const char *sock = socket_opt;
	char sockbuf[XA_CFG_SOCKET_MAX], defsock[XA_LOCAL_PATH_MAX];

	if (sock == NULL && cfg.socket_path[0])
		sock = cfg.socket_path;
	if (sock == NULL)
		sock = getenv(XA_LOCAL_SOCKET_ENV);
	if (sock == NULL || sock[0] == '\0')
		sock = xa_local_default_socket(defsock, sizeof(defsock));
	if (absolute_path(sock, sockbuf, sizeof(sockbuf)) < 0) {
		fprintf(stderr,
			"xenamp-backend: socket path %s is too long once made absolute (at most %u characters); choose a shorter --socket\n",
			sock, XA_CFG_SOCKET_MAX - 1);
		xa_config_free(&cfg);
		return EXIT_USAGE;
	}

	/* Signals arrive through a signalfd, in the loop, like everything
	 * else: no handler runs in the middle of the relay. */
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		fprintf(stderr, "xenamp-backend: sigprocmask: %s\n", strerror(errno));
		xa_config_free(&cfg);
		return EXIT_RUNTIME;
	}

	struct xa_relay relay;
	struct xa_be_transport *t = NULL;
	char *config_abs = NULL;
	int status = EXIT_RUNTIME, sfd = -1;

	if (xa_relay_init(&relay, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenamp-backend: %s\n", err);
		xa_config_free(&cfg);
		return EXIT_RUNTIME;
	}
	/* Shown by xenampctl status; absolute so it means something there. */
	config_abs = realpath(config_path, NULL);
	relay.config_path = config_abs ? config_abs : config_path;
	relay.socket_path = sockbuf;

	struct xa_be_opts bo = {
		.socket_path = sockbuf,
		.socket_mode = 0660,
		.log = xa_log_transport,
	};

	/* Limits against local clients (docs/security.md); 0: default. */
	bo.max_clients = cfg.limits.v[XA_LIM_MAX_CLIENTS];
	bo.max_clients_per_uid = cfg.limits.v[XA_LIM_PER_UID];
	bo.reserved_clients = cfg.limits.v[XA_LIM_RESERVED];
	bo.hello_timeout_ms = cfg.limits.v[XA_LIM_HELLO_MS];
	bo.ctl_queue_max = (size_t)cfg.limits.v[XA_LIM_CTL_KIB] << 10;
	bo.ctl_queue_total = (size_t)cfg.limits.v[XA_LIM_CTL_TOTAL_KIB] << 10;

	err[0] = '\0';
	if (xa_be_transport_new("local", &bo, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenamp-backend: %s\n", err);
		goto out;
	}
	if (xa_relay_add_transport(&relay, t, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenamp-backend: %s\n", err);
		t->ops->destroy(t);
		goto out;
	}

#ifdef HAVE_XEN
	/* In dom0 the backend also serves Xen domains (DESIGN §4);
	 * $XENAMP_BACKEND_XEN=1 forces it, =0 turns it off. */
	{
		const char *want = getenv("XENAMP_BACKEND_XEN");
		bool forced = want != NULL && want[0] != '\0' && strcmp(want, "0") != 0;
		bool use = (want != NULL && want[0] != '\0') ? forced : xa_xen_be_detect();
		struct xa_be_transport *xt = NULL;

		if (use && xa_be_xen_new(&bo, &xt, err, sizeof(err)) < 0) {
			fprintf(stderr, "xenamp-backend: %s%s\n", err,
				forced ? "" : "; serving local partitions only");
			if (forced)
				goto out;
		} else if (use && xa_relay_add_transport(&relay, xt, err, sizeof(err)) < 0) {
			fprintf(stderr, "xenamp-backend: %s\n", err);
			xt->ops->destroy(xt);
			goto out;
		}
	}
#endif

	/* Daemonise only now: every configuration and socket error above
	 * reached the terminal with its exit status. */
	if (!foreground) {
		if (daemon(0, 0) < 0) {
			fprintf(stderr, "xenamp-backend: cannot become a daemon: %s\n",
				strerror(errno));
			goto out;
		}
		xa_log_use_syslog();
	}
	relay.pid = (long)getpid();

	/* libvirt-uri: links from domain metadata, lifecycle events (its
	 * event thread must be started after daemon() forked). */
#ifdef HAVE_LIBVIRT
	struct xa_lv *lv = NULL;
#endif

	if (cfg.libvirt_uri[0] != '\0') {
#ifdef HAVE_LIBVIRT
		if (xa_lv_open(&lv, &relay, cfg.libvirt_uri, err, sizeof(err)) < 0) {
			xa_log(XA_LOG_ERROR, "%s", err);
			goto out;
		}
#else
		xa_log(XA_LOG_ERROR, "libvirt-uri is set but xenamp-backend was built without libvirt; remove it or rebuild with --with-libvirt");
		goto out;
#endif
	}

	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		xa_log(XA_LOG_ERROR, "signalfd: %s", strerror(errno));
		goto out;
	}
	xa_log(XA_LOG_INFO, "listening on %s; %zu link%s from %s", sockbuf,
	       cfg.nlinks, cfg.nlinks == 1 ? "" : "s", relay.config_path);

	bool quit = false;

	status = 0;
	while (!quit) {
		struct pollfd pfd[2 + XA_RELAY_MAX_TRANSPORTS];
		unsigned n = 0;

		pfd[n].fd = sfd;
		pfd[n++].events = POLLIN;
		for (unsigned i = 0; i < relay.ntr; i++) {
			pfd[n].fd = relay.tr[i]->ops->event_fd(relay.tr[i]);
			pfd[n++].events = POLLIN;
		}
#ifdef HAVE_LIBVIRT
		if (lv != NULL) {
			pfd[n].fd = xa_lv_fd(lv);
			pfd[n++].events = POLLIN;
		}
#endif
		/* Sleep only when no end has relay work left and the
		 * adaptive polling window is closed (relay.h). */
		int rc = poll(pfd, n, xa_relay_poll_timeout(&relay));
		const int polled = rc;   /* rc is reused below */

		if (rc < 0 && errno != EINTR) {
			xa_log(XA_LOG_ERROR, "poll: %s", strerror(errno));
			status = EXIT_RUNTIME;
			break;
		}
		if (rc > 0 && (pfd[0].revents & POLLIN)) {
			struct signalfd_siginfo si;

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
			if (quit)
				break;
		}
		for (unsigned i = 0; i < relay.ntr; i++) {
			/* Only a readable event fd has events (level-triggered:
			 * one left over from the last turn keeps it readable);
			 * skipping the others saves a system call per turn. */
			if (polled == 0 || (polled > 0 && !pfd[1 + i].revents))
				continue;
			rc = xa_relay_pump(&relay, relay.tr[i], EVENTS_PER_TURN);
			if (rc < 0) {
				xa_log(XA_LOG_ERROR, "%s transport failed: %s",
				       relay.tr[i]->ops->name, strerror(-rc));
				status = EXIT_RUNTIME;
				quit = true;
			}
		}
#ifdef HAVE_LIBVIRT
		if (lv != NULL && rc > 0 && (pfd[n - 1].revents & POLLIN))
			xa_lv_dispatch(lv);
#endif
		xa_relay_round(&relay);
	}
#ifdef HAVE_LIBVIRT
	xa_lv_close(lv);
	lv = NULL;
#endif

out:
	xa_relay_shutdown(&relay);
	for (unsigned i = 0; i < relay.ntr; i++)
		relay.tr[i]->ops->destroy(relay.tr[i]);
	xa_relay_free(&relay);
	xa_config_free(&cfg);
	free(config_abs);
	if (sfd >= 0)
		close(sfd);
	return status;
}
