/* OpenAMP API group: the libmetal headers applications include (sys,
 * log, mutex, sleep, utilities, list, cpu, io, atomic, time), with one
 * log level and handler for the whole process.
 *
 * Both sides run the local checks; then fw announces "oa-metal" and
 * echoes, host sends metal_get_timestamp() values and measures the round
 * trip with them, and logs from both files through a handler of its own. */
#include <metal/atomic.h>
#include <metal/cpu.h>
#include <metal/io.h>
#include <metal/list.h>
#include <metal/log.h>
#include <metal/mutex.h>
#include <metal/sleep.h>
#include <metal/sys.h>
#include <metal/time.h>
#include <metal/utilities.h>
#include <pthread.h>
#include <stdarg.h>

#include "oa-pair.h"

void oa_metal_log_from_other_file(int n);

/* ---- log: one level and handler per process ---- */
static int seen[METAL_LOG_DEBUG + 1];
static char last[64];

static void my_handler(enum metal_log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level >= 0 && level <= METAL_LOG_DEBUG)
		seen[level]++;
	va_start(ap, fmt);
	vsnprintf(last, sizeof(last), fmt, ap);
	va_end(ap);
}

static void check_log(void)
{
	struct metal_init_params p = METAL_INIT_DEFAULTS;

	OA_CHECK(p.log_handler == metal_default_log_handler);
	OA_CHECK(p.log_level == METAL_LOG_INFO);
	p.log_handler = my_handler;
	p.log_level = METAL_LOG_NOTICE;
	OA_CHECK(metal_init(&p) == 0);
	OA_CHECK(metal_get_log_handler() == my_handler);
	OA_CHECK(metal_get_log_level() == METAL_LOG_NOTICE);
	oa_metal_log_from_other_file(1);   /* notice, error pass; info, debug not */
	OA_CHECK(seen[METAL_LOG_NOTICE] == 1 && seen[METAL_LOG_ERROR] == 1);
	OA_CHECK(seen[METAL_LOG_INFO] == 0 && seen[METAL_LOG_DEBUG] == 0);
	OA_CHECK(strcmp(last, "error 1\n") == 0);
	metal_set_log_level(METAL_LOG_DEBUG);   /* here; applies there */
	oa_metal_log_from_other_file(2);
	OA_CHECK(seen[METAL_LOG_INFO] == 1 && seen[METAL_LOG_DEBUG] == 1);
	metal_set_log_handler(NULL);            /* nothing printed, no crash */
	oa_metal_log_from_other_file(3);
	OA_CHECK(seen[METAL_LOG_ERROR] == 2);
	metal_set_log_handler(my_handler);
	metal_set_log_level(METAL_LOG_INFO);
	metal_finish();
}

/* ---- utilities, list ---- */
struct item {
	int v;
	struct metal_list node;
};

static void check_utilities(void)
{
	unsigned long bm[metal_bitmap_longs(130)] = { 0 };
	unsigned int bit, n = 0;
	int arr[7];
	struct item it[3] = { { 1, { 0, 0 } }, { 2, { 0, 0 } }, { 3, { 0, 0 } } };
	METAL_DECLARE_LIST(head);
	struct metal_list *node, *tmp;
	int sum = 0;

	OA_CHECK(metal_align_up(13, 8) == 16 && metal_align_down(13, 8) == 8);
	OA_CHECK(metal_min(3, 4) == 3 && metal_max(3, 4) == 4);
	OA_CHECK(metal_dim(arr) == 7);
	OA_CHECK(metal_div_round_up(9, 4) == 3 && metal_log2(1024) == 10);
	OA_CHECK(metal_container_of(&it[1].node, struct item, node) == &it[1]);
	OA_CHECK(metal_offset_of(struct item, node) == offsetof(struct item, node));
	OA_CHECK(sizeof(bm) * 8 >= 130);
	metal_bitmap_set_bit(bm, 0);
	metal_bitmap_set_bit(bm, 64);
	metal_bitmap_set_bit(bm, 129);
	OA_CHECK(metal_bitmap_is_bit_set(bm, 64) && metal_bitmap_is_bit_clear(bm, 65));
	metal_bitmap_for_each_set_bit(bm, bit, 130)
		n++;
	OA_CHECK(n == 3);
	OA_CHECK(metal_bitmap_next_clear_bit(bm, 0, 130) == 1);
	metal_bitmap_clear_bit(bm, 64);
	OA_CHECK(metal_bitmap_next_set_bit(bm, 1, 130) == 129);

	OA_CHECK(metal_list_is_empty(&head));
	for (int i = 0; i < 3; i++)
		metal_list_add_tail(&head, &it[i].node);
	OA_CHECK(metal_list_first(&head) == &it[0].node);
	OA_CHECK(metal_list_find_node(&head, &it[2].node));
	metal_list_for_each_safe(&head, tmp, node) {
		struct item *x = metal_container_of(node, struct item, node);

		sum = sum * 10 + x->v;
		if (x->v == 2)
			metal_list_del(node);
	}
	OA_CHECK(sum == 123);
	OA_CHECK(!metal_list_find_node(&head, &it[1].node));
	metal_list_add_head(&head, &it[1].node);
	OA_CHECK(metal_list_first(&head) == &it[1].node);
}

/* ---- io on the application's own memory ---- */
static void check_io(void)
{
	static uint8_t mem[8192];
	const metal_phys_addr_t physmap[2] = { 0x80000000ul, 0x90000000ul };
	struct metal_io_region io;
	uint8_t buf[16];

	metal_io_init(&io, mem, physmap, sizeof(mem), 12, METAL_UNCACHED, NULL);
	OA_CHECK(metal_io_region_size(&io) == sizeof(mem));
	OA_CHECK(metal_io_virt(&io, 100) == mem + 100);
	OA_CHECK(metal_io_virt(&io, sizeof(mem)) == NULL);
	OA_CHECK(metal_io_virt_to_offset(&io, mem + 5000) == 5000);
	OA_CHECK(metal_io_phys(&io, 16) == 0x80000010ul);
	OA_CHECK(metal_io_phys(&io, 4096 + 8) == 0x90000008ul);
	OA_CHECK(metal_io_phys_to_offset(&io, 0x90000008ul) == 4096 + 8);
	OA_CHECK(metal_io_phys_to_offset(&io, 0x70000000ul) == METAL_BAD_OFFSET);
	OA_CHECK(metal_io_phys_to_virt(&io, 0x80000020ul) == mem + 32);
	metal_io_write32(&io, 64, 0xdeadbeefu);
	OA_CHECK(metal_io_read32(&io, 64) == 0xdeadbeefu);
	metal_io_write8(&io, 70, 0x5a);
	OA_CHECK(metal_io_read8(&io, 70) == 0x5a && mem[70] == 0x5a);
	metal_io_write64(&io, 128, 0x0102030405060708ull);
	OA_CHECK(metal_io_read64(&io, 128) == 0x0102030405060708ull);
	OA_CHECK(metal_io_read16(&io, sizeof(mem)) == 0);   /* outside: 0 */
	OA_CHECK(metal_io_block_write(&io, 200, "metal-io", 8) == 8);
	OA_CHECK(metal_io_block_read(&io, 200, buf, 8) == 8 &&
		 memcmp(buf, "metal-io", 8) == 0);
	OA_CHECK(metal_io_block_set(&io, sizeof(mem) - 4, 0xab, 16) == 4);
	OA_CHECK(mem[sizeof(mem) - 1] == 0xab);
	OA_CHECK(metal_io_block_read(&io, sizeof(mem), buf, 1) < 0);
}

/* ---- mutex, atomic, cpu, sleep, time ---- */
static METAL_MUTEX_DEFINE(g_lock);
static long g_counter;
static atomic_int g_atomic;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10000; i++) {
		metal_mutex_acquire(&g_lock);
		g_counter++;
		metal_mutex_release(&g_lock);
		atomic_fetch_add(&g_atomic, 1);
		if (i % 1000 == 0)
			metal_cpu_yield();
	}
	return NULL;
}

static void check_sync_time(void)
{
	pthread_t t[2];
	metal_mutex_t m;
	unsigned long long t0, t1;

	metal_mutex_init(&m);
	OA_CHECK(metal_mutex_try_acquire(&m) == 1);
	OA_CHECK(metal_mutex_is_acquired(&m));
	OA_CHECK(metal_mutex_try_acquire(&m) == 0);
	metal_mutex_release(&m);
	OA_CHECK(!metal_mutex_is_acquired(&m));
	metal_mutex_deinit(&m);
	for (int i = 0; i < 2; i++)
		OA_CHECK(pthread_create(&t[i], NULL, worker, NULL) == 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	OA_CHECK(g_counter == 20000 && atomic_load(&g_atomic) == 20000);
	t0 = metal_get_timestamp();
	OA_CHECK(metal_sleep_usec(20000) == 0);
	t1 = metal_get_timestamp();
	OA_CHECK(t1 - t0 >= 20000000ull);   /* nanoseconds */
}

/* ---- the pair ---- */
static struct rpmsg_endpoint ept;
static volatile int bound, bye, got;
static unsigned long long echoed;

static int fw_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src,
		 void *priv)
{
	(void)priv;
	if (len == 3 && memcmp(data, "bye", 3) == 0)
		bye = 1;
	else
		OA_CHECK(rpmsg_sendto(e, data, (int)len, src) == (int)len);
	return RPMSG_SUCCESS;
}

static int host_cb(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src,
		   void *priv)
{
	(void)e; (void)src; (void)priv;
	if (len == sizeof(echoed)) {
		memcpy(&echoed, data, len);
		got = 1;
	}
	return RPMSG_SUCCESS;
}

static void host_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	if (strcmp(name, "oa-metal") == 0 &&
	    rpmsg_create_ept(&ept, rdev, name, RPMSG_ADDR_ANY, dest, host_cb, NULL) == 0)
		bound = 1;
}

int main(int argc, char *argv[])
{
	int host = oa_start("oa-metal", argc, argv);
	void *platform;
	struct rpmsg_device *rdev;

	check_log();
	check_utilities();
	check_io();
	check_sync_time();
	rdev = oa_open(&platform, argc, argv, host ? host_bind : NULL);
	if (host) {
		unsigned long long t0 = metal_get_timestamp();

		OA_CHECK(oa_poll_until(platform, &bound, 10.0));
		OA_CHECK(rpmsg_send(&ept, &t0, sizeof(t0)) == sizeof(t0));
		OA_CHECK(oa_poll_until(platform, &got, 10.0));
		OA_CHECK(echoed == t0 && metal_get_timestamp() >= t0);
		metal_info("oa-metal host: round trip %llu us\n",
			   (metal_get_timestamp() - t0) / 1000);
		OA_CHECK(rpmsg_send(&ept, "bye", 3) == 3);
	} else {
		OA_CHECK(rpmsg_create_ept(&ept, rdev, "oa-metal", RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, fw_cb, NULL) == 0);
		printf("oa-metal fw: ready\n");
		fflush(stdout);
		OA_CHECK(oa_poll_until(platform, &bye, 20.0));
	}
	return oa_finish(rdev, platform);
}
