/* Unit tests: xenamp-backend's libvirt support (src/backend/libvirt.c)
 * and dynamic links (src/backend/registry.c), in process, on libvirt's
 * test:///default driver (no daemon; its domains live in this process and
 * every connection to test:///default sees the same ones).
 *
 *  - metadata parsing: defaults, wrapper with two links, one-line errors;
 *  - a domain defined and started with xenamp metadata: the lifecycle
 *    event goes through the event thread and the pipe, dispatch adds the
 *    link; a changed metadata updates it; a conflicting one is refused;
 *  - the domain destroyed: its end, "connected" through a fake
 *    transport, is released (Absent), the partition told why;
 *  - sync: a fresh registry reads the links of every running domain.
 * The glue needs the registry only: no relay, no control requests. */
#define _GNU_SOURCE 1   /* asprintf */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>

#include "backend/conf.h"
#include "backend/libvirt.h"
#include "backend/log.h"
#include "backend/registry.h"

#define NS XA_LIBVIRT_NS

/* ------------------------------------------------------------------ */
/* Metadata                                                            */

START_TEST(meta_full)
{
	struct xa_cfg_link l[4];
	char err[256] = "";
	int n = xa_lv_parse_metadata("fw",
		"<link name=\"echo\" peer=\"host:2\" devno=\"1\" buf-size=\"1024\" buf-count=\"64\"/>",
		l, 4, err, sizeof(err));

	ck_assert_msg(n == 1, "n=%d err=%s", n, err);
	ck_assert_str_eq(l[0].name, "echo");
	ck_assert_str_eq(l[0].end[0].partition, "host");
	ck_assert_uint_eq(l[0].end[0].devno, 2);
	ck_assert_str_eq(l[0].end[1].partition, "fw");
	ck_assert_uint_eq(l[0].end[1].devno, 1);
	ck_assert_uint_eq(l[0].buf_size, 1024);
	ck_assert_uint_eq(l[0].buf_count, 64);
}
END_TEST

START_TEST(meta_defaults_and_wrapper)
{
	struct xa_cfg_link l[4];
	char err[256] = "";
	int n = xa_lv_parse_metadata("dsp",
		"<xenamp:links xmlns:xenamp=\"" NS "\">\n"
		"  <xenamp:link name='a' peer='host'/>\n"
		"  <xenamp:link peer='host:1' name='b' devno='3'></xenamp:link>\n"
		"</xenamp:links>", l, 4, err, sizeof(err));

	ck_assert_msg(n == 2, "n=%d err=%s", n, err);
	ck_assert_str_eq(l[0].name, "a");
	ck_assert_uint_eq(l[0].end[0].devno, 0);
	ck_assert_uint_eq(l[0].end[1].devno, 0);
	ck_assert_uint_eq(l[0].buf_size, 512);
	ck_assert_uint_eq(l[0].buf_count, 256);
	ck_assert_str_eq(l[1].name, "b");
	ck_assert_uint_eq(l[1].end[0].devno, 1);
	ck_assert_uint_eq(l[1].end[1].devno, 3);
	ck_assert_str_eq(l[1].end[1].partition, "dsp");
}
END_TEST

static const struct {
	const char *xml, *want;
} bad_meta[] = {
	{ "<link peer=\"host\"/>", "without a valid name" },
	{ "<link name=\"x\"/>", "want peer=" },
	{ "<link name=\"x\" peer=\"a b\"/>", "want peer=" },
	{ "<link name=\"x\" peer=\"host\" buf-count=\"lots\"/>", "buf-count: want a number" },
	{ "<link name=\"x\" peer=\"host\" devno=\"70000\"/>", "devno: want a number" },
	{ "<link name=\"x\" peer=\"host\"", "unterminated" },
};

START_TEST(meta_bad)
{
	struct xa_cfg_link l[2];
	char err[256] = "";
	int n = xa_lv_parse_metadata("fw", bad_meta[_i].xml, l, 2, err, sizeof(err));

	ck_assert_int_eq(n, -1);
	ck_assert_msg(strstr(err, bad_meta[_i].want) != NULL && strstr(err, "domain fw") != NULL,
		      "'%s' lacks '%s'", err, bad_meta[_i].want);
	ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

/* ------------------------------------------------------------------ */
/* The registry and libvirt                                            */

static struct xa_config cfg;
static struct xa_registry reg;

/* A transport that only records close_end: stands for a connected end. */
static int closes;
static char close_why[256];

static void fake_close(struct xa_be_transport *t, struct xa_be_end *end,
		       int code, const char *why)
{
	(void)t;
	(void)end;
	(void)code;
	closes++;
	snprintf(close_why, sizeof(close_why), "%s", why ? why : "");
}

static int fake_declare(struct xa_be_transport *t, const char *p, unsigned d)
{
	(void)t;
	(void)p;
	(void)d;
	return 0;
}

static const struct xa_be_ops fake_ops = {
	.name = "fake",
	.declare_end = fake_declare,
	.close_end = fake_close,
};
static struct xa_be_transport fake = { .ops = &fake_ops };

static void relay_setup(void)
{
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_pages = XA_CFG_DEFAULT_MAX_PAGES;
	cfg.max_services = 8;
	cfg.dynamic_links = 4;
	cfg.log_level = -1;
	ck_assert_int_eq(xa_reg_init(&reg, &cfg, err, sizeof(err)), 0);
	xa_log_set_level(XA_LOG_ERROR);
	closes = 0;
	close_why[0] = '\0';
}

static void relay_teardown(void)
{
	xa_reg_free(&reg);
}

static const struct xa_link *find_link(const char *name)
{
	for (size_t i = 0; i < reg.nlinks; i++)
		if (strcmp(reg.links[i].cfg->name, name) == 0)
			return &reg.links[i];
	return NULL;
}

static char *domain_xml(const char *name, const char *meta)
{
	char *x = NULL;

	ck_assert_int_ge(asprintf(&x,
		"<domain type='xen'><name>%s</name><memory unit='MiB'>32</memory>"
		"<os><type>xenpvh</type><kernel>/boot/fw.elf</kernel></os>"
		"<metadata>%s</metadata></domain>", name, meta), 0);
	return x;
}

static virDomainPtr start(virConnectPtr c, const char *name, const char *meta)
{
	char *x = domain_xml(name, meta);
	virDomainPtr d = virDomainDefineXML(c, x);

	free(x);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(virDomainCreate(d), 0);
	return d;
}

/* Wait for the event thread to hand over at least one event, then keep
 * dispatching until no event has come for quiet_ms: libvirt may deliver a
 * domain's DEFINED and STARTED events separately, so one wake-up is not
 * enough to have seen the one the test is about. */
static void pump_quiet(struct xa_lv *lv, int quiet_ms)
{
	struct pollfd p = { .fd = xa_lv_fd(lv), .events = POLLIN };

	ck_assert_msg(poll(&p, 1, 5000) == 1, "no libvirt event within 5 s");
	do
		xa_lv_dispatch(lv);
	while (poll(&p, 1, quiet_ms) == 1);
}

/* Dispatch events until cond holds (up to 10 s). */
#define PUMP_UNTIL(lv, cond)                                                  \
	do {                                                                  \
		struct pollfd p_ = { .fd = xa_lv_fd(lv), .events = POLLIN };  \
		for (int i_ = 0; i_ < 100 && !(cond); i_++)                   \
			if (poll(&p_, 1, 100) == 1)                           \
				xa_lv_dispatch(lv);                           \
		ck_assert_msg((cond), "libvirt event never led to: %s", #cond); \
	} while (0)

START_TEST(lifecycle)
{
	struct xa_lv *lv = NULL;
	virConnectPtr c;
	virDomainPtr d, d2;
	const struct xa_link *L;
	char err[256] = "";

	/* xa_lv_open registers the event loop before any connection */
	ck_assert_msg(xa_lv_open(&lv, &reg, "test:///default", err, sizeof(err)) == 0,
		      "%s", err);
	c = virConnectOpen("test:///default");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(reg.nlinks, 0);   /* the driver's "test" domain has no metadata */

	d = start(c, "fw", "<xenamp:link xmlns:xenamp='" NS "' name='echo' peer='host' "
		  "devno='0' buf-size='512' buf-count='256'/>");
	PUMP_UNTIL(lv, find_link("echo") != NULL);
	L = find_link("echo");
	ck_assert_ptr_nonnull(L);
	ck_assert_str_eq(L->cfg->end[0].partition, "host");
	ck_assert_str_eq(L->cfg->end[1].partition, "fw");
	ck_assert_uint_eq(L->cfg->buf_count, 256);

	/* the end connects (fake transport), then the domain is destroyed */
	struct xa_end *e = (struct xa_end *)&L->end[1];

	e->t = &fake;
	e->h = (struct xa_be_end *)&fake;
	e->state = XA_STATE_CONNECTED;
	ck_assert_int_eq(virDomainDestroy(d), 0);
	PUMP_UNTIL(lv, e->t == NULL);
	ck_assert_ptr_null(e->t);
	ck_assert_int_eq(closes, 1);
	ck_assert_msg(strstr(close_why, "domain fw stopped") != NULL, "%s", close_why);
	ck_assert_uint_eq(reg.nlinks, 1);   /* the link stays, its end is Absent */

	/* restarted with other values while both ends are absent: updated */
	ck_assert_int_eq(virDomainUndefine(d), 0);
	virDomainFree(d);
	d = start(c, "fw", "<xenamp:link xmlns:xenamp='" NS "' name='echo' peer='host' buf-count='128'/>");
	PUMP_UNTIL(lv, find_link("echo")->cfg->buf_count == 128);
	L = find_link("echo");
	ck_assert_uint_eq(L->cfg->buf_count, 128);
	ck_assert_uint_eq(reg.nlinks, 1);

	/* another domain claiming host:0 is refused */
	d2 = start(c, "fw2", "<xenamp:link xmlns:xenamp='" NS "' name='other' peer='host'/>");
	pump_quiet(lv, 1000);
	ck_assert_ptr_null(find_link("other"));
	ck_assert_uint_eq(reg.nlinks, 1);

	/* a crash is handled like a stop (direct call, as dispatch does) */
	e = (struct xa_end *)&find_link("echo")->end[1];
	e->t = &fake;
	e->h = (struct xa_be_end *)&fake;
	e->state = XA_STATE_CONNECTED;
	xa_lv_handle_event(&reg, c, "fw", VIR_DOMAIN_EVENT_CRASHED);
	ck_assert_ptr_null(e->t);
	ck_assert_msg(strstr(close_why, "domain fw crashed") != NULL, "%s", close_why);

	/* a reboot (libvirt's REBOOT event): the same domain goes on, its
	 * rebooted system knows nothing of the old region: the end is
	 * released, the link stays, its metadata is read again (changed
	 * meanwhile: the link is updated, both its ends being absent) */
	e = (struct xa_end *)&find_link("echo")->end[1];
	e->t = &fake;
	e->h = (struct xa_be_end *)&fake;
	e->state = XA_STATE_CONNECTED;
	closes = 0;
	ck_assert_int_eq(virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT,
		"<link name='echo' peer='host' buf-count='32'/>", "xenamp", NS,
		VIR_DOMAIN_AFFECT_LIVE), 0);
	xa_lv_handle_event(&reg, c, "fw", XA_LV_EVENT_REBOOTED);
	ck_assert_ptr_null(e->t);
	ck_assert_int_eq(closes, 1);
	ck_assert_msg(strstr(close_why, "domain fw rebooted") != NULL, "%s", close_why);
	ck_assert_uint_eq(reg.nlinks, 1);
	ck_assert_uint_eq(find_link("echo")->cfg->buf_count, 32);

	xa_lv_close(lv);

	/* sync: a fresh relay reads every running domain; fw and fw2 both
	 * claim host:0, so exactly one of them gets its link */
	xa_reg_free(&reg);
	relay_setup();
	ck_assert_int_eq(xa_lv_sync(&reg, c), 1);
	ck_assert_uint_eq(reg.nlinks, 1);
	ck_assert(find_link("echo") != NULL || find_link("other") != NULL);

	virDomainDestroy(d);
	virDomainDestroy(d2);
	virDomainUndefine(d);
	virDomainUndefine(d2);
	virDomainFree(d);
	virDomainFree(d2);
	virConnectClose(c);
}
END_TEST

/* registry.c on its own: the link-add rules. */
START_TEST(link_add_rules)
{
	struct xa_cfg_link c;
	bool added, updated;
	char err[400];

	memset(&c, 0, sizeof(c));
	strcpy(c.name, "l1");
	ck_assert_int_eq(xa_reg_parse_end("host", &c.end[0]), 0);
	ck_assert_int_eq(xa_reg_parse_end("fw:1", &c.end[1]), 0);
	c.buf_size = 512;
	c.buf_count = 256;
	ck_assert_int_eq(xa_reg_link_add(&reg, &c, &added, &updated, NULL, err, sizeof(err)), 0);
	ck_assert(added);
	/* the same again: exists */
	ck_assert_int_eq(xa_reg_link_add(&reg, &c, &added, &updated, NULL, err, sizeof(err)), 0);
	ck_assert(!added && !updated);
	/* same end-b, other name: it is that link ("exists") */
	strcpy(c.name, "other");
	ck_assert_int_eq(xa_reg_link_add(&reg, &c, &added, &updated, NULL, err, sizeof(err)), 0);
	ck_assert(!added && !updated);
	ck_assert_uint_eq(reg.nlinks, 1);
	/* bad values */
	c.buf_count = 100;
	ck_assert_int_lt(xa_reg_link_add(&reg, &c, NULL, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "power of two") != NULL, "%s", err);
	c.buf_count = 256;
	/* end-a of another link */
	strcpy(c.name, "l2");
	ck_assert_int_eq(xa_reg_parse_end("fw:2", &c.end[1]), 0);
	ck_assert_int_lt(xa_reg_link_add(&reg, &c, NULL, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "end host:0 already belongs to link l1") != NULL, "%s", err);
	/* room: 4 dynamic links */
	for (int i = 0; i < 3; i++) {
		snprintf(c.name, sizeof(c.name), "x%d", i);
		snprintf(c.end[0].partition, sizeof(c.end[0].partition), "p%d", i);
		ck_assert_int_eq(xa_reg_link_add(&reg, &c, &added, NULL, NULL, err, sizeof(err)), 0);
		c.end[1].devno++;
	}
	strcpy(c.name, "full");
	strcpy(c.end[0].partition, "q");
	ck_assert_int_eq(xa_reg_link_add(&reg, &c, NULL, NULL, NULL, err, sizeof(err)), -ENOSPC);
	ck_assert_msg(strstr(err, "raise dynamic-links") != NULL, "%s", err);
	ck_assert_int_lt(xa_reg_parse_end("a:b", &c.end[0]), 0);
	ck_assert_int_lt(xa_reg_parse_end(":1", &c.end[0]), 0);
	/* The partition-name rule of xenamp.conf (common/partition_name.h):
	 * a Xen domain name such as "fw@1" or "dom-1.a" is an end here too. */
	ck_assert_int_eq(xa_reg_parse_end("fw@1:3", &c.end[0]), 0);
	ck_assert_str_eq(c.end[0].partition, "fw@1");
	ck_assert_uint_eq(c.end[0].devno, 3);
	ck_assert_int_eq(xa_reg_parse_end("dom-1.a", &c.end[0]), 0);
	ck_assert_int_lt(xa_reg_parse_end("f w", &c.end[0]), 0);
	ck_assert_int_lt(xa_reg_parse_end("", &c.end[0]), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("libvirt");
	TCase *tc = tcase_create("metadata");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, meta_full);
	tcase_add_test(tc, meta_defaults_and_wrapper);
	tcase_add_loop_test(tc, meta_bad, 0, (int)(sizeof(bad_meta) / sizeof(bad_meta[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("relay");
	tcase_add_checked_fixture(tc, relay_setup, relay_teardown);
	tcase_add_test(tc, lifecycle);
	tcase_add_test(tc, link_add_rules);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
