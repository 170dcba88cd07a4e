/* xenamp-load: inspect, validate and boot AMP firmware (an ELF with an
 * OpenAMP resource table); docs/design.md#loader.
 *
 * Actions: --inspect (text or --json) and the boot targets (--xl NAME,
 * --libvirt URI --name NAME, --local NAME; one boot_*.c file each, see
 * boot.h).
 * Every action validates the whole file first; a malformed file ends in
 * exactly one line on stderr,
 *     xenamp-load: FILE: offset 0xNN: fault
 * and the exit code of the table in loader.h (also printed by --help). */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "loader.h"

#ifndef XENAMP_PKGDATADIR
#define XENAMP_PKGDATADIR "/usr/local/share/xenamp"
#endif

static const char exit_codes[] =
	"Exit status:\n"
	"  0  success\n"
	"  1  I/O or system error (cannot open or read FILE, out of memory)\n"
	"  2  usage error\n"
	"  3  not an ELF file\n"
	"  4  unsupported ELF (only little-endian ELF32 and ELF64, version 1)\n"
	"  5  malformed ELF: truncated header, header table, segment or section\n"
	"     outside the file, bad section names\n"
	"  6  .resource_table section missing, duplicated or without contents\n"
	"  7  resource table fault (header, entry offsets, entries, overlaps)\n"
	"  8  no usable RPMsg vdev (none, several, virtio id not 7, not two\n"
	"     vrings, vring num not a power of two or different, bad align)\n"
	"  9  boot failure (template, writing the config, xl create)\n"
	" 10  --xl, --libvirt: not a bootable Xen image for this host (no usable\n"
	"     Xen ELF notes, wrong class or machine, or only a guest type the\n"
	"     host does not run); one line: xenamp-load: FILE: reason\n"
	"Faults 3-8 are reported as one line: xenamp-load: FILE: offset 0xNN: fault\n"
	"(NN: the byte offset in FILE of the field at fault).\n";

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: xenamp-load --inspect [--json] [--buf-size N] FILE\n"
		"       xenamp-load --xl NAME [--out PATH] [--template PATH] [--extra ARGS]\n"
		"                   [--memory MIB] [--buf-size N] [--dry-run] [--force] [LINK] FILE\n"
		"       xenamp-load --libvirt URI --name NAME [--out PATH] [--template PATH]\n"
		"                   [--extra ARGS] [--memory MIB] [--buf-size N] [--dry-run] [LINK] FILE\n"
		"       xenamp-load --local NAME [--extra ARGS] [--buf-size N] [--dry-run] [LINK] FILE\n"
		"         LINK: [--link NAME] [--peer PARTITION[:DEVNO]] [--devno N]\n"
		"               [--socket PATH] [--no-register]\n"
		"       xenamp-load --help | --version\n"
		"\n"
		"Inspect and validate AMP firmware (an ELF with an OpenAMP .resource_table),\n"
		"derive the RPMsg link parameters from its vdev, and boot it as a Xen domain.\n"
		"\n"
		"  --inspect         print the ELF header, program headers, the resource table\n"
		"                    entries and the derived link parameters\n"
		"  --json            with --inspect: print JSON instead of text\n"
		"  --buf-size N      RPMsg buffer size of the link, header included\n"
		"                    (32..65536, a multiple of 16; default 512). The buffer\n"
		"                    count is always the vdev's vring num.\n"
		"  --xl NAME         write an xl config for domain NAME from the template and\n"
		"                    run 'xl create' on it ($XENAMP_XL overrides the xl binary);\n"
		"                    the guest type (PV or PVH) comes from FILE's Xen ELF\n"
		"                    notes and 'xl info' (virt_caps)\n"
		"  --out PATH        config path ('-': stdout, with --dry-run); default\n"
		"                    /etc/xen/NAME.cfg as root, ./NAME.cfg otherwise\n"
		"  --template PATH   default %s/firmware.cfg.in\n"
		"  --extra ARGS      kernel command line for the domain (default empty)\n"
		"  --memory MIB      domain memory (default: the carveouts rounded up to\n"
		"                    MiB, at least %u)\n"
		"  --dry-run         write the config but do not run xl\n"
		"  --force           overwrite an existing config\n"
		"  --libvirt URI     define and start domain --name NAME on libvirt URI\n"
		"                    (e.g. xen:///system) from the XML template\n"
		"                    %s/firmware.xml.in; prints the defined domain's XML.\n"
		"                    Dry run: print the XML. (Only when built with libvirt.)\n"
		"  --local NAME      run FILE, a firmware built for this machine, as local\n"
		"                    partition NAME: exec it with XENAMP_PARTITION=NAME and\n"
		"                    XENAMP_SOCKET set, arguments from --extra (split at blanks)\n"
		"Link registration: before booting, the link derived from the vdev is\n"
		"registered with xenamp-backend (control request link-add):\n"
		"  --link NAME       link name (default: the domain/partition name)\n"
		"  --peer END        the other end, PARTITION[:DEVNO] (default host)\n"
		"  --devno N         this end's RPMsg device number (default 0)\n"
		"  --socket PATH     backend socket (default $XENAMP_SOCKET, else\n"
		"                    $XDG_RUNTIME_DIR/xenamp/backend.sock; root:\n"
		"                    /run/xenamp/backend.sock)\n"
		"  --no-register     do not register (the backend already has the link)\n"
		"No backend listening is an error for --local, a warning otherwise.\n"
		"\n%s",
		XENAMP_PKGDATADIR, XLD_MIN_MEMORY_MIB, XENAMP_PKGDATADIR, exit_codes);
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("xenamp-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'xenamp-load --help'.\n", stderr);
	return XLD_EXIT_USAGE;
}

/* Decimal in [lo, hi], the whole string. */
static bool parse_u32(const char *s, unsigned long lo, unsigned long hi,
		      uint32_t *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* xl domain names: 1..64 of [A-Za-z0-9_.-], starting with a letter or
 * digit (also safe as a file name). */
static bool name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');

		if (i >= 64 || !(alnum || (i > 0 && (c == '_' || c == '.' || c == '-'))))
			return false;
	}
	return i > 0;
}

enum {
	OPT_INSPECT = 256, OPT_JSON, OPT_BUF_SIZE, OPT_XL, OPT_OUT, OPT_TEMPLATE,
	OPT_EXTRA, OPT_MEMORY, OPT_DRY_RUN, OPT_FORCE, OPT_VERSION,
	OPT_LIBVIRT, OPT_LOCAL, OPT_NAME, OPT_LINK, OPT_PEER, OPT_DEVNO,
	OPT_SOCKET, OPT_NO_REGISTER,
};

static const struct option longopts[] = {
	{ "inspect", no_argument, NULL, OPT_INSPECT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "buf-size", required_argument, NULL, OPT_BUF_SIZE },
	{ "xl", required_argument, NULL, OPT_XL },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "template", required_argument, NULL, OPT_TEMPLATE },
	{ "extra", required_argument, NULL, OPT_EXTRA },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "libvirt", required_argument, NULL, OPT_LIBVIRT },
	{ "local", required_argument, NULL, OPT_LOCAL },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "link", required_argument, NULL, OPT_LINK },
	{ "peer", required_argument, NULL, OPT_PEER },
	{ "devno", required_argument, NULL, OPT_DEVNO },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "no-register", no_argument, NULL, OPT_NO_REGISTER },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The command line as parsed, before the checks that need all of it. */
struct cli {
	struct fw_boot_opts bo;
	fw_boot_fn boot;          /* NULL: no boot target (yet) */
	const char *boot_opt;     /* "--xl", "--local" or "--libvirt" */
	const char *name_opt;     /* --name, for --libvirt */
	bool inspect, json;
	bool link_opts;           /* any of the link registration options */
	uint32_t buf_size;        /* 0: the default */
};

/* parse_option(): go on with the next option. Any other value ends
 * xenamp-load with that exit status. */
#define CLI_NEXT (-1)

static int bad_name(const char *opt, const char *arg)
{
	return usage_error("%s %s: a name is 1..64 of A-Z a-z 0-9 _ . - starting with a letter or digit",
			   opt, arg);
}

/* --xl NAME, --local NAME, --libvirt URI: exactly one boot target. */
static int boot_option(struct cli *cl, int c, const char *arg)
{
	const char *opt = c == OPT_XL ? "--xl" : c == OPT_LOCAL ? "--local" : "--libvirt";

	if (cl->boot != NULL)
		return usage_error("%s: give one boot target", opt);
	if (c == OPT_LIBVIRT) {
#ifdef HAVE_LIBVIRT
		if (*arg == '\0')
			return usage_error("%s", "--libvirt needs a URI, e.g. xen:///system");
		cl->boot = fw_boot_libvirt;
		cl->boot_opt = opt;
		cl->bo.uri = arg;
		return CLI_NEXT;
#else
		fprintf(stderr, "xenamp-load: --libvirt: this xenamp-load was built without libvirt (configure --with-libvirt)\n");
		return XLD_EXIT_BOOT;
#endif
	}
	if (!name_ok(arg))
		return bad_name(opt, arg);
	cl->boot = c == OPT_XL ? fw_boot_xl : fw_boot_local;
	cl->boot_opt = opt;
	cl->bo.name = arg;
	return CLI_NEXT;
}

/* --peer PARTITION[:DEVNO]: the partition is a name, DEVNO 0..65535. */
static bool peer_ok(const char *arg)
{
	const char *colon = strchr(arg, ':');
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
	char part[65];
	uint32_t dn;

	if (n == 0 || n >= sizeof(part) ||
	    (colon && !parse_u32(colon + 1, 0, 65535, &dn)))
		return false;
	memcpy(part, arg, n);
	part[n] = '\0';
	return name_ok(part);
}

/* The link registration options (only with a boot target). */
static int link_option(struct cli *cl, int c, const char *arg)
{
	switch (c) {
	case OPT_LINK:
		if (!name_ok(arg))
			return usage_error("--link %s: a link name is 1..63 of A-Z a-z 0-9 _ . -", arg);
		cl->bo.link = arg;
		break;
	case OPT_PEER:
		if (!peer_ok(arg))
			return usage_error("--peer %s: want PARTITION[:DEVNO]", arg);
		cl->bo.peer = arg;
		break;
	case OPT_DEVNO:
		if (!parse_u32(arg, 0, 65535, &cl->bo.devno))
			return usage_error("--devno %s: want 0..65535", arg);
		break;
	case OPT_SOCKET:
		cl->bo.socket = arg;
		break;
	case OPT_NO_REGISTER:
		cl->bo.no_register = true;
		break;
	}
	cl->link_opts = true;
	return CLI_NEXT;
}

/* The options of the domain config (--xl, --libvirt; some --local). */
static int config_option(struct cli *cl, int c, const char *arg)
{
	switch (c) {
	case OPT_OUT:
		cl->bo.out = arg;
		break;
	case OPT_TEMPLATE:
		cl->bo.template_path = arg;
		break;
	case OPT_EXTRA:
		cl->bo.extra = arg;
		break;
	case OPT_MEMORY:
		if (!parse_u32(arg, 1, 1048576, &cl->bo.memory_mib))
			return usage_error("--memory %s: want MiB in 1..1048576", arg);
		break;
	case OPT_DRY_RUN:
		cl->bo.dry_run = true;
		break;
	case OPT_FORCE:
		cl->bo.force = true;
		break;
	}
	return CLI_NEXT;
}

/* An option getopt_long() did not accept (unknown, or its argument is
 * missing): optopt names a short one, argv[optind - 1] a long one. */
static int bad_option(char **argv)
{
	if (optopt != 0 && optopt < 256)
		fprintf(stderr, "xenamp-load: bad option -%c\n", optopt);
	else
		fprintf(stderr, "xenamp-load: bad option or missing argument: %s\n",
			argv[optind - 1]);
	fputs("Try 'xenamp-load --help'.\n", stderr);
	return XLD_EXIT_USAGE;
}

/* One option from getopt_long(): CLI_NEXT, or the exit status. */
static int parse_option(struct cli *cl, int c, char **argv)
{
	switch (c) {
	case OPT_INSPECT:
		cl->inspect = true;
		return CLI_NEXT;
	case OPT_JSON:
		cl->json = true;
		return CLI_NEXT;
	case OPT_BUF_SIZE:
		if (!parse_u32(optarg, 32, 65536, &cl->buf_size) || cl->buf_size % 16 != 0)
			return usage_error("--buf-size %s: want a multiple of 16 in 32..65536", optarg);
		return CLI_NEXT;
	case OPT_XL:
	case OPT_LOCAL:
	case OPT_LIBVIRT:
		return boot_option(cl, c, optarg);
	case OPT_NAME:
		if (!name_ok(optarg))
			return bad_name("--name", optarg);
		cl->name_opt = optarg;
		return CLI_NEXT;
	case OPT_LINK:
	case OPT_PEER:
	case OPT_DEVNO:
	case OPT_SOCKET:
	case OPT_NO_REGISTER:
		return link_option(cl, c, optarg);
	case OPT_OUT:
	case OPT_TEMPLATE:
	case OPT_EXTRA:
	case OPT_MEMORY:
	case OPT_DRY_RUN:
	case OPT_FORCE:
		return config_option(cl, c, optarg);
	case 'h':
		usage(stdout);
		return XLD_EXIT_OK;
	case OPT_VERSION:
		printf("xenamp-load %s\n", PACKAGE_VERSION);
		return XLD_EXIT_OK;
	default:
		return bad_option(argv);
	}
}

/* The checks that need the whole command line, in the order the tests
 * expect their messages. XLD_EXIT_OK: go on. */
static int check_cli(struct cli *cl)
{
	struct fw_boot_opts *bo = &cl->bo;

	if (cl->inspect == (cl->boot != NULL))
		return usage_error("%s", "give one action: --inspect, --xl NAME, --libvirt URI or --local NAME");
	if (bo->uri != NULL) {
		if (cl->name_opt == NULL)
			return usage_error("%s", "--libvirt needs --name NAME (the domain name)");
		bo->name = cl->name_opt;
	} else if (cl->name_opt != NULL) {
		return usage_error("%s", "--name goes with --libvirt (--xl and --local take the name)");
	}
	if (cl->inspect && cl->link_opts)
		return usage_error("%s", "--link, --peer, --devno, --socket and --no-register go with a boot target");
	if (cl->boot_opt != NULL && strcmp(cl->boot_opt, "--local") == 0 &&
	    (bo->out || bo->template_path || bo->memory_mib || bo->force))
		return usage_error("%s", "--out, --template, --memory and --force do not apply to --local");
	if (cl->json && !cl->inspect)
		return usage_error("%s", "--json goes with --inspect");
	if (cl->inspect && (bo->out || bo->template_path || bo->memory_mib ||
			    bo->dry_run || bo->force || *bo->extra))
		return usage_error("%s", "--out, --template, --extra, --memory, --dry-run and --force go with a boot target");
	if (bo->out != NULL && strcmp(bo->out, "-") == 0 && !bo->dry_run)
		return usage_error("%s", "--out - (stdout) needs --dry-run: xl cannot read the config from a pipe");
	return XLD_EXIT_OK;
}

/* Validate file, then inspect or boot it. A fault in the file is one line
 * on stderr (see the top of the file). */
static int run(const struct cli *cl, const char *file)
{
	struct fw_image img;
	struct fw_fault f;
	int rc;

	rc = fw_image_load(&img, file, cl->buf_size, &f);
	if (rc != XLD_EXIT_OK) {
		if (f.has_offset)
			fprintf(stderr, "xenamp-load: %s: offset 0x%llx: %s\n", file,
				(unsigned long long)f.offset, f.msg);
		else
			fprintf(stderr, "xenamp-load: %s: %s\n", file, f.msg);
		fw_image_free(&img);
		return rc;
	}
	if (cl->inspect) {
		rc = cl->json ? fw_inspect_json(&img) : fw_inspect_text(&img);
		if (rc != XLD_EXIT_OK)
			fprintf(stderr, "xenamp-load: write error on stdout\n");
	} else {
		rc = cl->boot(&img, &cl->bo);
	}
	fw_image_free(&img);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli cl = { .bo = { .extra = "" } };
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		rc = parse_option(&cl, c, argv);
		if (rc != CLI_NEXT)
			return rc;
	}
	rc = check_cli(&cl);
	if (rc != XLD_EXIT_OK)
		return rc;
	if (optind != argc - 1)
		return usage_error("%s", optind >= argc ? "missing FILE" : "give exactly one FILE");
	return run(&cl, argv[optind]);
}
