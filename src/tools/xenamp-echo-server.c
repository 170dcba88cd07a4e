/* xenamp-echo-server: the classic OpenAMP echo service over libxenamp.
 *
 * Opens RPMsg device N (default 0) of its partition, creates endpoint
 * "rpmsg-echo" (announced by the name service) and sends every message
 * back to its sender, until SIGTERM or SIGINT. Prints the count on exit. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenamp/xenamp.h>

#define SERVICE "rpmsg-echo"

static volatile sig_atomic_t stop;

struct echo_state {
	uint64_t msgs;
	uint64_t bytes;
	uint64_t send_errors;
	int last_error;
	int quiet;
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int echo_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		   uint32_t src, void *priv)
{
	struct echo_state *st = priv;
	int r = rpmsg_sendto(ept, data, (int)len, src);

	if (r < 0) {
		st->send_errors++;
		st->last_error = r;
	} else {
		st->msgs++;
		st->bytes += len;
	}
	return RPMSG_SUCCESS;
}

static void unbind_cb(struct rpmsg_endpoint *ept)
{
	struct echo_state *st = ept->priv;

	if (!st->quiet)
		fprintf(stderr, "xenamp-echo-server: remote '%s' endpoint went away\n",
			ept->name);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xenamp-echo-server [options]\n"
		"Serve the RPMsg echo service \"" SERVICE "\": every message is sent back\n"
		"to its sender, until SIGTERM or SIGINT.\n"
		"\n"
		"  -p, --partition NAME  partition name (default: $XENAMP_PARTITION)\n"
		"  -d, --device N        RPMsg device number (default 0)\n"
		"  -t, --transport T     local or xen (default: $XENAMP_TRANSPORT, else local)\n"
		"  -S, --socket PATH     backend socket in local mode (default: $XENAMP_SOCKET,\n"
		"                        else $XDG_RUNTIME_DIR/xenamp/backend.sock;\n"
		"                        root: /run/xenamp/backend.sock)\n"
		"  -q, --quiet           print nothing but errors\n"
		"  -h, --help            this help\n"
		"\n"
		"Exit status: 0 stopped by a signal; 1 the link to the backend was lost\n"
		"or echoing failed; 2 usage error; 3 cannot open the device or create\n"
		"the endpoint.\n");
}

/* The command line, besides st->quiet. */
struct args {
	const char *partition;
	unsigned long devno;
	struct xenamp_opts opts;
};

/* parse_args(): go on. Any other value ends the program with that exit
 * status. */
#define ARGS_NEXT (-1)

static const struct option longopts[] = {
	{ "partition", required_argument, NULL, 'p' },
	{ "device", required_argument, NULL, 'd' },
	{ "transport", required_argument, NULL, 't' },
	{ "socket", required_argument, NULL, 'S' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* -d N: a device number in 0..255. */
static bool parse_devno(const char *arg, unsigned long *devno)
{
	char *end;

	errno = 0;
	*devno = strtoul(arg, &end, 10);
	return !(errno || *end || end == arg || *devno > 255);
}

static int parse_args(int argc, char **argv, struct args *a,
		      struct echo_state *st)
{
	int c;

	memset(a, 0, sizeof(*a));
	while ((c = getopt_long(argc, argv, "p:d:t:S:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			a->partition = optarg;
			break;
		case 'd':
			if (!parse_devno(optarg, &a->devno)) {
				fprintf(stderr, "xenamp-echo-server: invalid device number '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			a->opts.transport = optarg;
			break;
		case 'S':
			a->opts.socket_path = optarg;
			break;
		case 'q':
			st->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return ARGS_NEXT;
}

/* SIGTERM and SIGINT end the dispatch loop (through stop), so the
 * endpoint is destroyed and the count printed. */
static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* Open the device and create the announced "rpmsg-echo" endpoint.
 * 0, or 3 with nothing left open. */
static int open_endpoint(const struct args *a, struct echo_state *st,
			 struct xenamp_dev **devp, struct rpmsg_endpoint *ept)
{
	int r;

	r = xenamp_open(a->partition, (unsigned)a->devno, &a->opts, devp);
	if (r < 0) {
		fprintf(stderr, "xenamp-echo-server: %s\n", xenamp_strerror_last());
		return 3;
	}
	memset(ept, 0, sizeof(*ept));
	ept->priv = st;
	r = rpmsg_create_ept(ept, xenamp_rpmsg_dev(*devp), SERVICE, RPMSG_ADDR_ANY,
			     RPMSG_ADDR_ANY, echo_cb, unbind_cb);
	if (r < 0) {
		fprintf(stderr, "xenamp-echo-server: cannot create endpoint '%s': error %d\n",
			SERVICE, r);
		xenamp_close(*devp);
		return 3;
	}
	if (!st->quiet)
		fprintf(stderr, "xenamp-echo-server: serving '%s' at address %u\n",
			SERVICE, ept->addr);
	return 0;
}

/* Dispatch (echo_cb answers) until a signal or a link failure; 0 or 1. */
static int serve(struct xenamp_dev *dev)
{
	int r;

	while (!stop) {
		r = xenamp_dispatch(dev, 500);
		if (r == RPMSG_ERR_DEV_STATE) {
			fprintf(stderr, "xenamp-echo-server: link lost: %s\n",
				xenamp_strerror_last());
			return 1;
		}
		if (r < 0) {
			fprintf(stderr, "xenamp-echo-server: dispatch failed: error %d\n", r);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct xenamp_dev *dev;
	struct rpmsg_endpoint ept;
	struct echo_state st;
	struct args a;
	int status;

	memset(&st, 0, sizeof(st));
	status = parse_args(argc, argv, &a, &st);
	if (status != ARGS_NEXT)
		return status;
	catch_signals();
	status = open_endpoint(&a, &st, &dev, &ept);
	if (status != 0)
		return status;
	status = serve(dev);
	if (st.send_errors) {
		fprintf(stderr, "xenamp-echo-server: %llu replies could not be sent (last error %d)\n",
			(unsigned long long)st.send_errors, st.last_error);
		status = 1;
	}
	rpmsg_destroy_ept(&ept);
	xenamp_close(dev);
	printf("echoed %llu messages, %llu bytes\n",
	       (unsigned long long)st.msgs, (unsigned long long)st.bytes);
	return status;
}
