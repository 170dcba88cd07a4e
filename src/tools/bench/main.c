/* xenamp-bench: options, the order of the steps and the exit status.
 * bench.h describes the method and lists the files; docs/performance.md
 * has the results and the targets. */
#include <config.h>

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

struct bench B;

void say(const char *fmt, ...)
{
	va_list ap;

	if (!B.verbose)
		return;
	va_start(ap, fmt);
	fputs("xenamp-bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xenamp-bench [OPTION]...\n"
"Measure xenamp in local mode through a real xenamp-backend process, beside\n"
"a raw baseline (two processes, a memfd ring and an eventfd pair) measured\n"
"in the same run, and print every figure with its ratio xenamp / raw.\n"
"\n"
"  -q, --quick          tiny counts, for a smoke test (%lu messages, idle 1 s)\n"
"  -n, --messages N     one-way messages per 496-byte measurement, shared by\n"
"                       the links (default %lu); round trips and 65520-byte\n"
"                       messages: N / 20\n"
"  -l, --links LIST     link counts for the throughput runs (default 1,4,16,64;\n"
"                       at most %u)\n"
"  -s, --seconds S      idle measurement length (default 5)\n"
"  -j, --json           print JSON instead of the table\n"
"  -b, --backend PATH   the xenamp-backend to run (default: $XENAMP_BACKEND,\n"
"                       else the one installed or built next to this program)\n"
"  -o, --only LIST      run only some measurements: latency, oneway (496 B),\n"
"                       big (65520 B), idle; comma-separated\n"
"  -k, --keep           keep the private directory (configuration, backend log)\n"
"  -P, --poll-us N      the partitions busy-poll up to N us before sleeping\n"
"                       (xenamp_opts.poll_us; default 0: never)\n"
"  -S, --scale          instead: the backend's own cost per link, one process\n"
"                       on each side opening --links devices each (default\n"
"                       1,16,64,256), N messages round-robin over them; then\n"
"                       --idle-links connected idle links for --seconds\n"
"  -I, --idle-links N   links of the --scale idle measurement (default %u,\n"
"                       --quick %u; at most %u)\n"
"  -v, --verbose        progress on stderr\n"
"  -h, --help           this help\n"
"\n"
"Exit status: 0 every measurement completed with every message intact;\n"
"1 a measurement failed or lost messages; 2 usage error. The targets of\n"
"docs/performance.md are reported, never turned into a failure.\n",
		QUICK_MESSAGES, DEFAULT_MESSAGES, MAX_LINKS, DEFAULT_IDLE_LINKS,
		QUICK_IDLE_LINKS, MAX_IDLE_LINKS);
}

static int parse_links(const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL;

	if (copy == NULL)
		return -1;
	B.nlinks = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v = strtoul(tok, &end, 10);

		if (*end || end == tok || v == 0 || v > MAX_LINKS ||
		    B.nlinks == MAX_LINK_COUNTS) {
			free(copy);
			return -1;
		}
		B.links[B.nlinks++] = (unsigned)v;
	}
	free(copy);
	return B.nlinks ? 0 : -1;
}

static int parse_only(const char *s)
{
	static const char *const names[] = { "latency", "oneway", "big", "idle" };
	char *copy = strdup(s), *tok, *save = NULL;

	if (copy == NULL)
		return -1;
	B.only = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned i;

		for (i = 0; i < 4; i++)
			if (strcmp(tok, names[i]) == 0)
				break;
		if (i == 4) {
			free(copy);
			return -1;
		}
		B.only |= 1u << i;
	}
	free(copy);
	return B.only ? 0 : -1;
}

static int parse_messages(const char *arg)
{
	char *end;

	errno = 0;
	B.messages = strtoul(arg, &end, 10);
	if (errno || *end || end == arg || arg[0] == '-' ||
	    B.messages < 10 || B.messages > 1000000000ul) {
		fprintf(stderr, "xenamp-bench: --messages: expected 10..1000000000, not '%s'\n", arg);
		return -1;
	}
	return 0;
}

static int parse_seconds(const char *arg)
{
	char *end;

	B.idle_s = strtod(arg, &end);
	if (*end || end == arg || !(B.idle_s >= 0.1 && B.idle_s <= 3600)) {
		fprintf(stderr, "xenamp-bench: --seconds: expected 0.1..3600, not '%s'\n", arg);
		return -1;
	}
	return 0;
}

/* Which options were given, for --quick's defaults. */
struct given {
	bool messages, seconds, idle_links;
};

/* One option; -1 to go on, else the exit status. */
static int option(int ch, const char *arg, struct given *g)
{
	switch (ch) {
	case 'q': B.quick = true; return -1;
	case 'j': B.json = true; return -1;
	case 'b': B.backend_opt = arg; return -1;
	case 'k': B.keep = true; return -1;
	case 'v': B.verbose = true; return -1;
	case 'n':
		g->messages = true;
		return parse_messages(arg) < 0 ? EX_USAGE : -1;
	case 's':
		g->seconds = true;
		return parse_seconds(arg) < 0 ? EX_USAGE : -1;
	case 'S': B.scale = true; return -1;
	case 'I': {
		char *end;
		unsigned long v = strtoul(arg, &end, 10);

		if (*end != '\0' || end == arg || arg[0] == '-' || v == 0 || v > MAX_IDLE_LINKS) {
			fprintf(stderr, "xenamp-bench: --idle-links: expected 1..%u, not '%s'\n",
				MAX_IDLE_LINKS, arg);
			return EX_USAGE;
		}
		g->idle_links = true;
		B.idle_links = (unsigned)v;
		return -1;
	}
	case 'l':
		B.links_given = true;
		if (parse_links(arg) == 0)
			return -1;
		fprintf(stderr, "xenamp-bench: --links: expected a comma-separated list of 1..%u (at most %u entries), not '%s'\n",
			MAX_LINKS, MAX_LINK_COUNTS, arg);
		return EX_USAGE;
	case 'o':
		if (parse_only(arg) == 0)
			return -1;
		fprintf(stderr, "xenamp-bench: --only: expected a comma-separated list of latency, oneway, big, idle; not '%s'\n",
			arg);
		return EX_USAGE;
	case 'P': {
		char *end;
		long v = strtol(arg, &end, 10);

		if (*end != '\0' || v < 0 || v > 1000) {
			fprintf(stderr, "xenamp-bench: --poll-us: expected 0..1000, not '%s'\n", arg);
			return EX_USAGE;
		}
		B.poll_us = (int)v;
		return -1;
	}
	case 'h':
		usage(stdout);
		return EX_OK;
	default:
		usage(stderr);
		return EX_USAGE;
	}
}

/* Options into B; -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "messages", required_argument, NULL, 'n' },
		{ "links", required_argument, NULL, 'l' },
		{ "seconds", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "backend", required_argument, NULL, 'b' },
		{ "only", required_argument, NULL, 'o' },
		{ "keep", no_argument, NULL, 'k' },
		{ "poll-us", required_argument, NULL, 'P' },
		{ "scale", no_argument, NULL, 'S' },
		{ "idle-links", required_argument, NULL, 'I' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct given g = { false, false, false };
	int ch, rc;

	B.links[0] = 1; B.links[1] = 4; B.links[2] = 16; B.links[3] = 64;
	B.nlinks = 4;
	B.messages = DEFAULT_MESSAGES;
	B.idle_s = 5;
	while ((ch = getopt_long(argc, argv, "qn:l:s:jb:o:kvP:SI:h", lo, NULL)) != -1)
		if ((rc = option(ch, optarg, &g)) >= 0)
			return rc;
	if (optind != argc) {
		fprintf(stderr, "xenamp-bench: unexpected argument '%s'; see --help\n", argv[optind]);
		return EX_USAGE;
	}
	if (B.quick && !g.messages)
		B.messages = QUICK_MESSAGES;
	if (B.quick && !g.seconds)
		B.idle_s = 1;
	if (B.scale && !B.links_given) {
		static const unsigned sl[] = { 1, 16, 64, 256 }, ql[] = { 1, 4, 16 };

		B.nlinks = B.quick ? 3 : 4;
		for (unsigned i = 0; i < B.nlinks; i++)
			B.links[i] = B.quick ? ql[i] : sl[i];
	}
	if (!g.idle_links)
		B.idle_links = B.quick ? QUICK_IDLE_LINKS : DEFAULT_IDLE_LINKS;
	return -1;
}

/* The private directory ($TMPDIR, short enough for a socket path) and
 * the backend in it; -1 when either failed (said why). */
static int setup(void)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 60)
		tmp = "/tmp";
	snprintf(B.dir, sizeof(B.dir), "%s/xenamp-bench.XXXXXX", tmp);
	if (mkdtemp(B.dir) == NULL) {
		fprintf(stderr, "xenamp-bench: cannot create a directory in %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	snprintf(B.sock, sizeof(B.sock), "%s/backend.sock", B.dir);
	snprintf(B.conf, sizeof(B.conf), "%s/xenamp.conf", B.dir);
	snprintf(B.log, sizeof(B.log), "%s/backend.log", B.dir);
	if (start_backend() < 0) {
		B.keep = true;
		stop_backend();
		return -1;
	}
	say("backend %s (pid %ld) on %s", B.backend, (long)B.backend_pid, B.sock);
	return 0;
}

int main(int argc, char **argv)
{
	struct results res;
	bool backend_clean;
	int rc = parse_args(argc, argv);

	if (rc >= 0)
		return rc;
	B.clk_tck = sysconf(_SC_CLK_TCK);
	if (B.clk_tck <= 0)
		B.clk_tck = 100;
	for (unsigned i = 0; i < B.nlinks; i++)
		if (B.links[i] > B.max_links)
			B.max_links = B.links[i];
	if (!find_backend())
		return EX_USAGE;
	/* Before any fork: the children inherit the answer. */
	if (!sc_probe())
		say("system calls will not be counted: %s", sc_source());
	signal(SIGPIPE, SIG_IGN);
	if (B.scale) {
		if (setup() < 0)
			return EX_FAIL;
		rc = scale_main();
		if (!stop_backend()) {
			fprintf(stderr, "xenamp-bench: xenamp-backend did not stop cleanly on SIGTERM (log %s)\n",
				B.log);
			rc = EX_FAIL;
		}
		if (rc != EX_OK)
			B.keep = true;
		remove_dir();
		return rc;
	}
	if (setup() < 0 || plan_run(&res) < 0)
		return EX_FAIL;
	backend_clean = stop_backend();
	res.all_ok = report_failures(&res);
	if (!backend_clean) {
		fprintf(stderr, "xenamp-bench: xenamp-backend did not stop cleanly on SIGTERM (log %s)\n",
			B.log);
		res.all_ok = false;
	}
	if (!res.all_ok)
		B.keep = true;
	compute_targets(&res);
	if (B.json)
		print_json(&res);
	else
		print_text(&res);
	fflush(stdout);
	free(res.tp);
	remove_dir();
	return res.all_ok ? EX_OK : EX_FAIL;
}
