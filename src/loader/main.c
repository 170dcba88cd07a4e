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
		"                    run 'xl create' on it ($XENAMP_XL overrides the xl binary)\n"
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

int main(int argc, char **argv)
{
	struct fw_boot_opts bo = { .extra = "" };
	fw_boot_fn boot = NULL;
	const char *boot_opt = NULL, *name_opt = NULL;
	bool inspect = false, json = false, link_opts = false;
	uint32_t buf_size = 0;
	struct fw_image img;
	struct fw_fault f;
	const char *file;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_INSPECT:
			inspect = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_BUF_SIZE:
			if (!parse_u32(optarg, 32, 65536, &buf_size) || buf_size % 16 != 0)
				return usage_error("--buf-size %s: want a multiple of 16 in 32..65536", optarg);
			break;
		case OPT_XL:
			if (boot != NULL)
				return usage_error("%s: give one boot target", "--xl");
			if (!name_ok(optarg))
				return usage_error("--xl %s: a name is 1..64 of A-Z a-z 0-9 _ . - starting with a letter or digit", optarg);
			boot = fw_boot_xl;
			boot_opt = "--xl";
			bo.name = optarg;
			break;
		case OPT_LOCAL:
			if (boot != NULL)
				return usage_error("%s: give one boot target", "--local");
			if (!name_ok(optarg))
				return usage_error("--local %s: a name is 1..64 of A-Z a-z 0-9 _ . - starting with a letter or digit", optarg);
			boot = fw_boot_local;
			boot_opt = "--local";
			bo.name = optarg;
			break;
		case OPT_LIBVIRT:
			if (boot != NULL)
				return usage_error("%s: give one boot target", "--libvirt");
#ifdef HAVE_LIBVIRT
			if (*optarg == '\0')
				return usage_error("%s", "--libvirt needs a URI, e.g. xen:///system");
			boot = fw_boot_libvirt;
			boot_opt = "--libvirt";
			bo.uri = optarg;
			break;
#else
			fprintf(stderr, "xenamp-load: --libvirt: this xenamp-load was built without libvirt (configure --with-libvirt)\n");
			return XLD_EXIT_BOOT;
#endif
		case OPT_NAME:
			if (!name_ok(optarg))
				return usage_error("--name %s: a name is 1..64 of A-Z a-z 0-9 _ . - starting with a letter or digit", optarg);
			name_opt = optarg;
			break;
		case OPT_LINK:
			if (!name_ok(optarg))
				return usage_error("--link %s: a link name is 1..63 of A-Z a-z 0-9 _ . -", optarg);
			bo.link = optarg;
			link_opts = true;
			break;
		case OPT_PEER: {
			const char *colon = strchr(optarg, ':');
			char part[65];
			size_t n = colon ? (size_t)(colon - optarg) : strlen(optarg);
			uint32_t dn;

			if (n == 0 || n >= sizeof(part) ||
			    (colon && !parse_u32(colon + 1, 0, 65535, &dn)))
				return usage_error("--peer %s: want PARTITION[:DEVNO]", optarg);
			memcpy(part, optarg, n);
			part[n] = '\0';
			if (!name_ok(part))
				return usage_error("--peer %s: want PARTITION[:DEVNO]", optarg);
			bo.peer = optarg;
			link_opts = true;
			break;
		}
		case OPT_DEVNO:
			if (!parse_u32(optarg, 0, 65535, &bo.devno))
				return usage_error("--devno %s: want 0..65535", optarg);
			link_opts = true;
			break;
		case OPT_SOCKET:
			bo.socket = optarg;
			link_opts = true;
			break;
		case OPT_NO_REGISTER:
			bo.no_register = true;
			link_opts = true;
			break;
		case OPT_OUT:
			bo.out = optarg;
			break;
		case OPT_TEMPLATE:
			bo.template_path = optarg;
			break;
		case OPT_EXTRA:
			bo.extra = optarg;
			break;
		case OPT_MEMORY:
			if (!parse_u32(optarg, 1, 1048576, &bo.memory_mib))
				return usage_error("--memory %s: want MiB in 1..1048576", optarg);
			break;
		case OPT_DRY_RUN:
			bo.dry_run = true;
			break;
		case OPT_FORCE:
			bo.force = true;
			break;
		case 'h':
			usage(stdout);
			return XLD_EXIT_OK;
		case OPT_VERSION:
			printf("xenamp-load %s\n", PACKAGE_VERSION);
			return XLD_EXIT_OK;
		default:
			if (optopt != 0 && optopt < 256)
				fprintf(stderr, "xenamp-load: bad option -%c\n", optopt);
			else
				fprintf(stderr, "xenamp-load: bad option or missing argument: %s\n",
					argv[optind - 1]);
			fputs("Try 'xenamp-load --help'.\n", stderr);
			return XLD_EXIT_USAGE;
		}
	}
	if (inspect == (boot != NULL))
		return usage_error("%s", "give one action: --inspect, --xl NAME, --libvirt URI or --local NAME");
	if (bo.uri != NULL) {
		if (name_opt == NULL)
			return usage_error("%s", "--libvirt needs --name NAME (the domain name)");
		bo.name = name_opt;
	} else if (name_opt != NULL) {
		return usage_error("%s", "--name goes with --libvirt (--xl and --local take the name)");
	}
	if (inspect && link_opts)
		return usage_error("%s", "--link, --peer, --devno, --socket and --no-register go with a boot target");
	if (boot_opt != NULL && strcmp(boot_opt, "--local") == 0 &&
	    (bo.out || bo.template_path || bo.memory_mib || bo.force))
		return usage_error("%s", "--out, --template, --memory and --force do not apply to --local");
	if (json && !inspect)
		return usage_error("%s", "--json goes with --inspect");
	if (inspect && (bo.out || bo.template_path || bo.memory_mib || bo.dry_run ||
			bo.force || *bo.extra))
		return usage_error("%s", "--out, --template, --extra, --memory, --dry-run and --force go with a boot target");
	if (bo.out != NULL && strcmp(bo.out, "-") == 0 && !bo.dry_run)
		return usage_error("%s", "--out - (stdout) needs --dry-run: xl cannot read the config from a pipe");
	if (optind != argc - 1)
		return usage_error("%s", optind >= argc ? "missing FILE" : "give exactly one FILE");
	file = argv[optind];

	rc = fw_image_load(&img, file, buf_size, &f);
	if (rc != XLD_EXIT_OK) {
		if (f.has_offset)
			fprintf(stderr, "xenamp-load: %s: offset 0x%llx: %s\n", file,
				(unsigned long long)f.offset, f.msg);
		else
			fprintf(stderr, "xenamp-load: %s: %s\n", file, f.msg);
		fw_image_free(&img);
		return rc;
	}
	if (inspect) {
		rc = json ? fw_inspect_json(&img) : fw_inspect_text(&img);
		if (rc != XLD_EXIT_OK)
			fprintf(stderr, "xenamp-load: write error on stdout\n");
	} else {
		rc = boot(&img, &bo);
	}
	fw_image_free(&img);
	return rc;
}
