/* xenamp-rpc-proxy: options, the RPMsg device and the dispatch loop.
 * The requests themselves are serve.c's; see rpc_proxy.h. */
#define _GNU_SOURCE
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <xenamp/xenamp.h>

#include "tools/rpc-proxy/rpc_proxy.h"

#define DEFAULT_SERVICE "rpmsg-openamp-demo-channel"

static volatile sig_atomic_t stop;

struct proxy {
	struct rp_state st;
	struct rpmsg_endpoint ept;
	unsigned char *ans;            /* one answer: the TX payload size */
	size_t room;
	bool withdrawn;                /* the partition withdrew the service */
	unsigned send_errors;
};

struct args {
	const char *partition;
	unsigned long devno;
	const char *root;
	const char *service;
	bool quiet;
	struct xenamp_opts opts;
};

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int proxy_cb(struct rpmsg_endpoint *ept, void *data, size_t len,
		    uint32_t src, void *priv)
{
	struct proxy *p = priv;
	size_t n = rp_handle(&p->st, src, data, len, p->ans, p->room);
	int r;

	if (n == 0)
		return RPMSG_SUCCESS;
	r = rpmsg_sendto(ept, p->ans, (int)n, src);
	if (r < 0 && p->send_errors++ == 0)
		fprintf(stderr, "xenamp-rpc-proxy: cannot answer address %u: error %d (the partition may wait for ever)\n",
			(unsigned)src, r);
	return RPMSG_SUCCESS;
}

static void proxy_unbind(struct rpmsg_endpoint *ept)
{
	struct proxy *p = ept->priv;

	p->withdrawn = true;
	if (!p->st.quiet)
		fprintf(stderr, "xenamp-rpc-proxy: the partition withdrew '%s'\n", ept->name);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xenamp-rpc-proxy [options]\n"
		"Serve OpenAMP's proxy service (rpmsg_retarget.h): the partition's\n"
		"_open/_read/_write/_close on files under DIR, its console (fds 0, 1, 2)\n"
		"on this program's stdin, stdout and stderr.\n"
		"\n"
		"  -p, --partition NAME  partition name (default: $XENAMP_PARTITION)\n"
		"  -d, --device N        RPMsg device number (default 0)\n"
		"  -t, --transport T     local or xen (default: $XENAMP_TRANSPORT, else local)\n"
		"  -S, --socket PATH     backend socket in local mode (default: $XENAMP_SOCKET)\n"
		"  -r, --root DIR        the partition's files are DIR's (default: .)\n"
		"  -n, --service NAME    endpoint name (default: " DEFAULT_SERVICE ")\n"
		"  -q, --quiet           print nothing but refusals and errors\n"
		"  -h, --help            this help\n"
		"\n"
		"Exit status: 0 the partition ended the session (TERM) or withdrew the\n"
		"service, or a signal; 1 the link to the backend was lost; 2 usage\n"
		"error; 3 cannot open the device or create the endpoint; 4 the root\n"
		"directory cannot be used.\n");
}

#define ARGS_NEXT (-1)

static const struct option longopts[] = {
	{ "partition", required_argument, NULL, 'p' },
	{ "device", required_argument, NULL, 'd' },
	{ "transport", required_argument, NULL, 't' },
	{ "socket", required_argument, NULL, 'S' },
	{ "root", required_argument, NULL, 'r' },
	{ "service", required_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int bad_arg(const char *what, const char *arg)
{
	fprintf(stderr, "xenamp-rpc-proxy: invalid %s '%s'\n", what, arg);
	return 2;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	char *end;
	int c;

	memset(a, 0, sizeof(*a));
	a->root = ".";
	a->service = DEFAULT_SERVICE;
	while ((c = getopt_long(argc, argv, "p:d:t:S:r:n:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': a->partition = optarg; break;
		case 't': a->opts.transport = optarg; break;
		case 'S': a->opts.socket_path = optarg; break;
		case 'r': a->root = optarg; break;
		case 'q': a->quiet = true; break;
		case 'd':
			errno = 0;
			a->devno = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || a->devno > 255)
				return bad_arg("device number", optarg);
			break;
		case 'n':
			if (optarg[0] == '\0' || strlen(optarg) >= RPMSG_NAME_SIZE)
				return bad_arg("service name (1 to 31 bytes)", optarg);
			a->service = optarg;
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

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);       /* a closed stdout is an EPIPE answer */
}

/* Open the device and create the endpoint; 0 or 3 with nothing open. */
static int open_endpoint(const struct args *a, struct proxy *p,
			 struct xenamp_dev **devp)
{
	int r = xenamp_open(a->partition, (unsigned)a->devno, &a->opts, devp);

	if (r < 0) {
		fprintf(stderr, "xenamp-rpc-proxy: %s\n", xenamp_strerror_last());
		return 3;
	}
	p->ept.priv = p;
	r = rpmsg_create_ept(&p->ept, xenamp_rpmsg_dev(*devp), a->service,
			     RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, proxy_cb, proxy_unbind);
	if (r == 0) {
		r = rpmsg_get_tx_buffer_size(&p->ept);
		p->room = r > 0 ? (size_t)r : 0;
		p->ans = p->room > 16 ? malloc(p->room) : NULL;
		if (p->ans == NULL) {
			rpmsg_destroy_ept(&p->ept);
			r = RPMSG_ERR_NO_MEM;
		}
	}
	if (r < 0) {
		fprintf(stderr, "xenamp-rpc-proxy: cannot create endpoint '%s': error %d\n",
			a->service, r);
		xenamp_close(*devp);
		return 3;
	}
	if (!a->quiet)
		fprintf(stderr, "xenamp-rpc-proxy: serving '%s' at address %u, files under '%s'\n",
			a->service, p->ept.addr, a->root);
	return 0;
}

/* Dispatch until the session ends, a signal, or the link is lost. */
static int serve(struct xenamp_dev *dev, struct proxy *p)
{
	while (!stop && !p->st.ended && !p->withdrawn) {
		int r = xenamp_dispatch(dev, 1000);

		if (r < 0 && r != RPMSG_ERR_PERM) {
			fprintf(stderr, "xenamp-rpc-proxy: the link to the backend is lost (error %d)\n",
				r);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct proxy p;
	struct xenamp_dev *dev;
	struct args a;
	int rc = parse_args(argc, argv, &a);

	if (rc != ARGS_NEXT)
		return rc;
	if (rp_init(&p.st, a.root) != 0)
		return 4;
	p.st.quiet = a.quiet;
	catch_signals();
	rc = open_endpoint(&a, &p, &dev);
	if (rc != 0) {
		rp_fini(&p.st);
		return rc;
	}
	rc = serve(dev, &p);
	fflush(stdout);
	rpmsg_destroy_ept(&p.ept);
	xenamp_close(dev);
	rp_fini(&p.st);
	free(p.ans);
	return rc;
}
