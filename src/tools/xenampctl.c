/* xenampctl: ask xenamp-backend about its links, ends and counters over its
 * control socket, and remove a dynamic link. Human-readable tables by
 * default, the backend's JSON with --json (see src/backend/ctl.c for the
 * fields). */
#include <config.h>

#include <getopt.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl_client.h"
#include "common/local_proto.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define TIMEOUT_MS 5000

static void usage(FILE *f)
{
	fprintf(f,
"Usage: xenampctl [--socket PATH] [--json] COMMAND\n"
"       xenampctl [--socket PATH] [--json] [--force] link-remove NAME\n"
"Show what xenamp-backend is doing.\n"
"\n"
"Commands:\n"
"  status      links, their ends, connection state, peers, last fault\n"
"              (peers to root, the backend's user and admin-group only)\n"
"  stats       messages and bytes in/out, back-pressure, faults, connects\n"
"  endpoints   the name-service entries each end has announced\n"
"  link-remove NAME\n"
"              remove the dynamic link NAME (added by link-add); refused\n"
"              for links of xenamp.conf and while an end is connected\n"
"              unless --force (root, the backend's user, admin-group)\n"
"\n"
"Options:\n"
"  -s, --socket PATH   the backend's socket (default: $%s, else %s)\n"
"  -j, --json          print the backend's JSON reply as is (for scripts)\n"
"  -f, --force         link-remove: also when an end is connected (it is\n"
"                      dropped: told its link no longer exists)\n"
"  -h, --help          show this help and exit\n"
"  -V, --version       show the version and exit\n"
"\n"
"Exit status:\n"
"  0  the backend answered\n"
"  1  the backend could not be reached or reported an error\n"
"  2  usage error\n",
		XA_LOCAL_SOCKET_ENV, XA_LOCAL_DEFAULT_SOCKET_DOC);
}

/* ------------------------------------------------------------------ */
/* A small table printer                                               */

#define MAXCOL 12

struct table {
	int ncol;
	size_t nrow, cap;
	char **cells;   /* nrow * ncol */
};

static void t_init(struct table *t, int ncol, const char *const *hdr)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
	t->cap = 16;
	t->cells = calloc(t->cap * (size_t)ncol, sizeof(char *));
	if (t->cells == NULL) {
		fprintf(stderr, "xenampctl: out of memory\n");
		exit(EXIT_FAIL);
	}
	for (int i = 0; i < ncol; i++)
		t->cells[i] = strdup(hdr[i]);
	t->nrow = 1;
}

static void t_row(struct table *t, const char *const *v)
{
	if (t->nrow == t->cap) {
		char **nc = realloc(t->cells, 2 * t->cap * (size_t)t->ncol * sizeof(char *));

		if (nc == NULL) {
			fprintf(stderr, "xenampctl: out of memory\n");
			exit(EXIT_FAIL);
		}
		t->cells = nc;
		t->cap *= 2;
	}
	for (int i = 0; i < t->ncol; i++)
		t->cells[t->nrow * (size_t)t->ncol + (size_t)i] =
			strdup(v[i] && v[i][0] ? v[i] : "-");
	t->nrow++;
}

static void t_print(struct table *t)
{
	size_t w[MAXCOL] = { 0 };

	for (size_t r = 0; r < t->nrow; r++)
		for (int c = 0; c < t->ncol; c++) {
			size_t l = strlen(t->cells[r * (size_t)t->ncol + (size_t)c]);

			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->nrow; r++) {
		for (int c = 0; c < t->ncol; c++) {
			const char *s = t->cells[r * (size_t)t->ncol + (size_t)c];

			if (c == t->ncol - 1)
				printf("%s\n", s);
			else
				printf("%-*s  ", (int)w[c], s);
		}
	}
	for (size_t i = 0; i < t->nrow * (size_t)t->ncol; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* ------------------------------------------------------------------ */
/* JSON helpers                                                        */

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (o && json_object_object_get_ex(o, k, &v))
		return v;
	return NULL;
}

static const char *gets_(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return v ? json_object_get_string(v) : "";
}

static const char *num(json_object *o, const char *k, char *buf, size_t len)
{
	json_object *v = get(o, k);

	if (v == NULL)
		return "";
	snprintf(buf, len, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	return buf;
}

static size_t alen(json_object *a)
{
	return a && json_object_is_type(a, json_type_array)
		? json_object_array_length(a) : 0;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

static void show_status(json_object *root)
{
	json_object *be = get(root, "backend"), *links = get(root, "links");
	char b1[32], b2[32], b3[32];
	struct table t;
	static const char *const hdr[] = {
		"LINK", "END", "PARTITION", "DEVNO", "STATE", "TRANSPORT", "PEER",
		"SERVICES", "LAST FAULT",
	};

	printf("xenamp-backend %s (pid %s), socket %s, config %s\n",
	       gets_(be, "version"), num(be, "pid", b1, sizeof(b1)),
	       gets_(be, "socket"), gets_(be, "config"));
	printf("max-pages %s, max-services %s\n",
	       num(be, "max_pages", b2, sizeof(b2)),
	       num(be, "max_services", b3, sizeof(b3)));
	if (get(root, "peers_shown") && !json_object_get_boolean(get(root, "peers_shown")))
		printf("(peers are shown to root, the backend's user and admin-group only)\n");
	printf("\n");
	t_init(&t, 9, hdr);
	for (size_t i = 0; i < alen(links); i++) {
		json_object *l = json_object_array_get_idx(links, i);
		json_object *ends = get(l, "ends");

		for (size_t j = 0; j < alen(ends); j++) {
			json_object *e = json_object_array_get_idx(ends, j);
			char dv[16], sv[16];
			const char *row[9] = {
				gets_(l, "name"), gets_(e, "role"),
				gets_(e, "partition"), num(e, "devno", dv, sizeof(dv)),
				gets_(e, "state"), gets_(e, "transport"),
				gets_(e, "peer"), num(e, "services", sv, sizeof(sv)),
				gets_(e, "last_fault"),
			};
			t_row(&t, row);
		}
	}
	t_print(&t);
}

static void show_stats(json_object *root)
{
	json_object *links = get(root, "links");
	struct table t;
	static const char *const hdr[] = {
		"LINK", "END", "STATE", "MSGS IN", "BYTES IN", "MSGS OUT",
		"BYTES OUT", "BACK-PRESSURE", "FAULTS", "CONNECTS",
	};

	t_init(&t, 10, hdr);
	for (size_t i = 0; i < alen(links); i++) {
		json_object *l = json_object_array_get_idx(links, i);
		json_object *ends = get(l, "ends");

		for (size_t j = 0; j < alen(ends); j++) {
			json_object *e = json_object_array_get_idx(ends, j);
			char end[96], c[7][32];

			snprintf(end, sizeof(end), "%s:%s", gets_(e, "partition"),
				 num(e, "devno", c[0], sizeof(c[0])));
			const char *row[10] = {
				gets_(l, "name"), end, gets_(e, "state"),
				num(e, "msgs_in", c[1], sizeof(c[1])),
				num(e, "bytes_in", c[2], sizeof(c[2])),
				num(e, "msgs_out", c[3], sizeof(c[3])),
				num(e, "bytes_out", c[4], sizeof(c[4])),
				num(e, "backpressure", c[5], sizeof(c[5])),
				num(e, "faults", c[6], sizeof(c[6])),
				"",
			};
			char cn[32];

			row[9] = num(e, "connects", cn, sizeof(cn));
			t_row(&t, row);
		}
	}
	t_print(&t);
	for (size_t i = 0; i < alen(links); i++) {
		json_object *l = json_object_array_get_idx(links, i);
		char a[32], b[32], c[32], d[32];

		printf("%slink %s: %s messages, %s bytes relayed; %s back-pressure events, %s faults\n",
		       i == 0 ? "\n" : "", gets_(l, "name"),
		       num(l, "messages", a, sizeof(a)), num(l, "bytes", b, sizeof(b)),
		       num(l, "backpressure", c, sizeof(c)),
		       num(l, "faults", d, sizeof(d)));
	}
}

static void show_endpoints(json_object *root)
{
	json_object *links = get(root, "links");
	struct table t;
	static const char *const hdr[] = {
		"LINK", "END", "STATE", "SERVICE", "ADDR",
	};

	t_init(&t, 5, hdr);
	for (size_t i = 0; i < alen(links); i++) {
		json_object *l = json_object_array_get_idx(links, i);
		json_object *ends = get(l, "ends");

		for (size_t j = 0; j < alen(ends); j++) {
			json_object *e = json_object_array_get_idx(ends, j);
			json_object *svcs = get(e, "services");
			char end[96], dv[16];

			snprintf(end, sizeof(end), "%s:%s", gets_(e, "partition"),
				 num(e, "devno", dv, sizeof(dv)));
			if (alen(svcs) == 0) {
				const char *row[5] = { gets_(l, "name"), end,
						       gets_(e, "state"), "(none)", "" };
				t_row(&t, row);
			}
			for (size_t k = 0; k < alen(svcs); k++) {
				json_object *s = json_object_array_get_idx(svcs, k);
				char ad[16];
				const char *row[5] = {
					gets_(l, "name"), end, gets_(e, "state"),
					gets_(s, "name"), num(s, "addr", ad, sizeof(ad)),
				};
				t_row(&t, row);
			}
		}
	}
	t_print(&t);
}

/* parse_args(): go on. Any other value ends xenampctl with that exit
 * status. */
#define ARGS_NEXT (-1)

static const struct option longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "json", no_argument, NULL, 'j' },
	{ "force", no_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

struct args {
	const char *sock;
	bool json;
	bool force;
	const char *cmd;
	const char *name;    /* link-remove NAME */
};

/* The command and its operand: exactly one known COMMAND, and NAME after
 * link-remove only. */
static int parse_command(int argc, char **argv, struct args *a)
{
	int want = optind < argc && strcmp(argv[optind], "link-remove") == 0 ? 2 : 1;

	if (argc - optind != want) {
		fprintf(stderr, "xenampctl: %s; expected one of status, stats, endpoints, link-remove NAME (see --help)\n",
			optind >= argc ? "no command given" :
			argc - optind < want ? "link-remove needs the link's NAME" :
			"too many arguments");
		return EXIT_USAGE;
	}
	a->cmd = argv[optind];
	a->name = want == 2 ? argv[optind + 1] : NULL;
	if (strcmp(a->cmd, "status") != 0 && strcmp(a->cmd, "stats") != 0 &&
	    strcmp(a->cmd, "endpoints") != 0 && a->name == NULL) {
		fprintf(stderr, "xenampctl: unknown command '%s'; expected status, stats, endpoints or link-remove\n",
			a->cmd);
		return EXIT_USAGE;
	}
	if (a->force && a->name == NULL) {
		fprintf(stderr, "xenampctl: --force goes with link-remove only\n");
		return EXIT_USAGE;
	}
	return ARGS_NEXT;
}

/* Options, then the command (parse_command). */
static int parse_args(int argc, char **argv, struct args *a)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "s:jfhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			a->sock = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'f':
			a->force = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("xenampctl (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		default:
			fprintf(stderr, "xenampctl: see --help for the options\n");
			return EXIT_USAGE;
		}
	}
	return parse_command(argc, argv, a);
}

/* The request text for a (malloc'd), or NULL when out of memory. */
static char *make_request(const struct args *a)
{
	json_object *o = json_object_new_object();
	char *s;

	json_object_object_add(o, "cmd", json_object_new_string(a->cmd));
	if (a->name != NULL) {
		json_object_object_add(o, "name", json_object_new_string(a->name));
		json_object_object_add(o, "force", json_object_new_boolean(a->force));
	}
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* Send a's request to the backend; *rootp is its reply, which must be
 * one JSON object. 0, or EXIT_FAIL after one line on stderr. */
static int ask_backend(const struct args *a, json_object **rootp)
{
	char err[512];
	char *req = make_request(a), *reply = NULL;
	size_t len = 0;
	json_tokener *tok;
	json_object *root;
	int rc;

	if (req == NULL) {
		fprintf(stderr, "xenampctl: out of memory\n");
		return EXIT_FAIL;
	}
	rc = xa_ctl_request(a->sock, req, TIMEOUT_MS, &reply, &len, err, sizeof(err));
	free(req);
	if (rc < 0) {
		fprintf(stderr, "xenampctl: %s\n", err);
		return EXIT_FAIL;
	}
	tok = json_tokener_new();
	root = tok ? json_tokener_parse_ex(tok, reply, (int)len) : NULL;
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(root, json_type_object)) {
		fprintf(stderr, "xenampctl: the backend's reply is not a JSON object\n");
		if (tok)
			json_tokener_free(tok);
		free(reply);
		return EXIT_FAIL;
	}
	json_tokener_free(tok);
	free(reply);
	*rootp = root;
	return 0;
}

/* The reply as JSON (--json) or as the table of cmd; an "error" member
 * makes the exit status EXIT_FAIL either way. */
static int show_reply(json_object *root, const char *cmd, bool json)
{
	json_object *e = get(root, "error");

	if (json) {
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
		return e ? EXIT_FAIL : 0;
	}
	if (e) {
		fprintf(stderr, "xenampctl: the backend says: %s\n", json_object_get_string(e));
		return EXIT_FAIL;
	}
	if (strcmp(cmd, "status") == 0)
		show_status(root);
	else if (strcmp(cmd, "stats") == 0)
		show_stats(root);
	else if (strcmp(cmd, "endpoints") == 0)
		show_endpoints(root);
	else
		printf("link %s removed\n", gets_(root, "name"));
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	json_object *root = NULL;
	int status;

	status = parse_args(argc, argv, &a);
	if (status != ARGS_NEXT)
		return status;
	status = ask_backend(&a, &root);
	if (status != 0)
		return status;
	status = show_reply(root, a.cmd, a.json);
	json_object_put(root);
	return status;
}
